"""Weights known to the server: files uploaded once, checked against their architecture."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, UploadFile

from backend.api.deps import SessionFactoryDep, SettingsDep, TokenDep
from backend.schemas import ErrorMessage
from partlens.assets import NAME_PATTERN, AssetError
from partlens.assets.weights import WeightsPublic, list_weights, register_weights_bytes

router = APIRouter(prefix="/weights", tags=["weights"])
# Larger uploads are refused before they are read into memory (VGG-16 is 528 MB).
MAX_UPLOAD_BYTES = 2 << 30


@router.get("", response_model=list[WeightsPublic])
def weights(sessions: SessionFactoryDep) -> list[WeightsPublic]:
    """Every registered weights file (``weights`` of a run names one)."""
    return list_weights(sessions)


@router.post(
    "",
    response_model=WeightsPublic,
    status_code=201,
    responses={
        401: {"description": "Token required"},
        409: {"description": "Name in use"},
        400: {"model": ErrorMessage, "description": "Malformed multipart body"},
        413: {"description": "File too large"},
        422: {"model": ErrorMessage, "description": "Invalid form, or not weights of arch"},
    },
)
def add_weights(
    name: Annotated[str, Form(pattern=NAME_PATTERN)],
    arch: Annotated[str, Form()],
    file: Annotated[UploadFile, File(description="A .safetensors or .pth state dict.")],
    sessions: SessionFactoryDep,
    settings: SettingsDep,
    _: TokenDep,
) -> WeightsPublic:
    """Upload a state dict for ``arch`` (partlens or torchvision layout); a mismatch lists the
    missing, unexpected and mis-shaped keys in the 422."""
    if file.size is not None and file.size > MAX_UPLOAD_BYTES:
        raise HTTPException(status_code=413, detail=f"weights over {MAX_UPLOAD_BYTES} bytes")
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(status_code=413, detail=f"weights over {MAX_UPLOAD_BYTES} bytes")
    try:
        return register_weights_bytes(
            sessions, name, file.filename or "weights", data, arch, settings.data_dir
        )
    except AssetError as error:
        raise HTTPException(status_code=error.status, detail=str(error)) from None
