"""What can be launched: architectures and built-in dataset categories."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["catalog"])


@router.get("/architectures")
def architectures() -> list[str]:
    """Names accepted as ``arch`` when launching a run."""
    from partlens.models import list_architectures

    return list_architectures()


@router.get("/datasets/builtin")
def builtin_dataset() -> dict[str, list[str]]:
    """Categories of the built-in dataset (valid ``dataset.category`` values)."""
    from partlens.data import BUILTIN_CATEGORIES

    return {"categories": list(BUILTIN_CATEGORIES)}
