"""Loaders of the paper's real part datasets, reading their official layouts."""

from partlens.data.real.cub import CubDataset
from partlens.data.real.ilsvrc_part import IlsvrcPartDataset
from partlens.data.real.pascal_part import PascalPartDataset

__all__ = ["CubDataset", "IlsvrcPartDataset", "PascalPartDataset"]
