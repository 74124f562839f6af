"""What can be launched: architectures, datasets, filter-loss variants, built-in categories."""

from __future__ import annotations

from fastapi import APIRouter

from partlens.runs.catalog import Catalog, launch_catalog

router = APIRouter(tags=["catalog"])


@router.get("/catalog")
def catalog() -> Catalog:
    """Every choice a run config accepts that a registry of the library owns."""
    return launch_catalog()


@router.get("/architectures")
def architectures() -> list[str]:
    """Names accepted as ``arch`` when launching a run."""
    return [entry.name for entry in launch_catalog().architectures]


@router.get("/filter-losses")
def filter_losses() -> list[str]:
    """Names accepted as ``filter_loss`` when launching a run (the default first)."""
    entries = launch_catalog()
    names = [entry.name for entry in entries.filter_losses]
    return sorted(names, key=lambda name: name != entries.default_filter_loss)


@router.get("/datasets/builtin")
def builtin_dataset() -> dict[str, list[str]]:
    """Categories of the built-in dataset (valid ``dataset.category`` values)."""
    return {"categories": launch_catalog().builtin_categories}
