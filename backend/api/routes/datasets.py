"""Datasets known to the server: ``builtin`` and folders registered by name."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from backend.api.deps import SessionFactoryDep, SettingsDep, TokenDep
from backend.schemas import DatasetCreate, ErrorMessage
from partlens.assets import AssetError
from partlens.assets.datasets import DatasetPublic, get_dataset, list_datasets, register_dataset

router = APIRouter(prefix="/datasets", tags=["datasets"])
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown dataset"},
    409: {"description": "Name in use"},
}
REGISTER_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    422: {"model": ErrorMessage, "description": "Invalid body, or a root that cannot be indexed"},
}


@router.get("", response_model=list[DatasetPublic])
def datasets(sessions: SessionFactoryDep) -> list[DatasetPublic]:
    """Every dataset a run can use, with categories, parts, landmarks and counts."""
    return list_datasets(sessions)


@router.post(
    "",
    response_model=DatasetPublic,
    status_code=201,
    responses={401: {"description": "Token required"}, **REGISTER_ERRORS},
)
def add_dataset(
    body: DatasetCreate, sessions: SessionFactoryDep, settings: SettingsDep, _: TokenDep
) -> DatasetPublic:
    """Register the folder ``root`` in ``format`` as ``name`` (indexed now: a bad file is
    named in the 422). The root must lie under ``PARTLENS_DATASET_ROOTS``."""
    try:
        return register_dataset(sessions, body.name, body.format, body.root, settings)
    except AssetError as error:
        raise HTTPException(status_code=error.status, detail=str(error)) from None


@router.get("/{name}", response_model=DatasetPublic, responses=ERRORS)
def dataset(name: str, sessions: SessionFactoryDep) -> DatasetPublic:
    """One dataset: its categories (valid ``dataset.category`` values), parts and counts."""
    try:
        return get_dataset(sessions, name)
    except AssetError as error:
        raise HTTPException(status_code=error.status, detail=str(error)) from None
