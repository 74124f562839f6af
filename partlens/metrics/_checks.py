"""Argument validation shared by the metric functions: clear ValueErrors naming the argument."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor | Sequence


def as_array(name: str, value: ArrayLike, ndim: int, *, kind: str = "real") -> np.ndarray:
    """Convert `value` to a numpy array of rank `ndim`, checking its dtype family.

    kind "real" accepts integer and floating dtypes, "bool" only booleans. Float arrays keep their
    dtype (float16 feature files stay small); memmaps stay memmaps.
    """
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    array = value if isinstance(value, np.ndarray) else np.asarray(value)
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(array.shape)}")
    if kind == "bool" and array.dtype != np.bool_:
        raise ValueError(f"{name} must be a bool array, got dtype {array.dtype}")
    if kind == "real" and not (
        np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
    ):
        raise ValueError(f"{name} must hold real numbers, got dtype {array.dtype}")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {tuple(array.shape)})")
    return array


def check_image_size(image_size: Sequence[float]) -> tuple[float, float]:
    """Validate an image size given as (w, h) and return it as floats."""
    if len(image_size) != 2:
        raise ValueError(f"image_size must be (w, h), got {image_size!r}")
    width, height = float(image_size[0]), float(image_size[1])
    if not (width > 0 and height > 0):
        raise ValueError(f"image_size must be positive, got {image_size!r}")
    return width, height


def check_same(name_a: str, value_a: int, name_b: str, value_b: int, what: str) -> None:
    """Raise a ValueError when two dimensions that must agree do not."""
    if value_a != value_b:
        raise ValueError(f"{what} of {name_a} ({value_a}) does not match {name_b} ({value_b})")


def check_positive_int(name: str, value: int) -> int:
    """Validate a positive integer option such as top_k."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
