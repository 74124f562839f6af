"""What can be launched: architectures, datasets, filter-loss variants, presets."""

from __future__ import annotations

from fastapi import APIRouter

from backend.schemas import RunPresetPublic
from partlens.runs.catalog import Catalog, launch_catalog
from partlens.runs.presets import PRESETS

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


@router.get("/presets")
def presets() -> list[RunPresetPublic]:
    """Named starting points for the launch form (``preset`` in ``POST /runs``)."""
    return [
        RunPresetPublic(name=p.name, description=p.description, values=p.values)
        for p in (PRESETS.get(name) for name in PRESETS.names())
    ]
