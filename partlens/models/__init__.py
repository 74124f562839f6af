"""Architectures (a registry), PartModel and checkpoints (see docs/interfaces.md)."""

from partlens.models import architectures as _architectures  # noqa: F401 - registers them
from partlens.models.checkpoint import load_model, save_checkpoint
from partlens.models.part_model import PartModel, PartModelConfig
from partlens.models.registry import (
    ARCHITECTURES,
    Architecture,
    build_model,
    default_input_size,
    list_architectures,
    register_architecture,
)

__all__ = [
    "ARCHITECTURES",
    "Architecture",
    "PartModel",
    "PartModelConfig",
    "build_model",
    "default_input_size",
    "list_architectures",
    "load_model",
    "register_architecture",
    "save_checkpoint",
]
