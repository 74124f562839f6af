"""The built-in dataset: procedurally generated animals with exact part masks and landmarks,
and non-animal objects as negatives."""

from partlens.data.builtin.animals import LANDMARK_PARTS
from partlens.data.builtin.generator import BUILTIN_CATEGORIES, GENERATOR_VERSION, BuiltinDataset

__all__ = ["BUILTIN_CATEGORIES", "GENERATOR_VERSION", "LANDMARK_PARTS", "BuiltinDataset"]
