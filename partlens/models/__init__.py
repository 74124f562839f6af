"""Model registry and PartModel (see docs/interfaces.md)."""

from partlens.models.checkpoint import load_model, save_checkpoint
from partlens.models.part_model import PartModel
from partlens.models.registry import build_model, default_input_size, list_architectures

__all__ = [
    "PartModel",
    "build_model",
    "default_input_size",
    "list_architectures",
    "load_model",
    "save_checkpoint",
]
