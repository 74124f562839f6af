"""The built-in dataset: procedurally generated animals with exact part masks and landmarks."""

from partlens.data.builtin.animals import LANDMARK_PARTS
from partlens.data.builtin.generator import BUILTIN_CATEGORIES, BuiltinDataset

__all__ = ["BUILTIN_CATEGORIES", "LANDMARK_PARTS", "BuiltinDataset"]
