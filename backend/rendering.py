"""PNG rendering of images and filter activations."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

# Anchor colours of a perceptually ordered map (dark blue -> teal -> yellow), interpolated.
_COLORMAP_ANCHORS = np.array(
    [[48, 18, 59], [40, 120, 200], [30, 200, 160], [180, 230, 60], [250, 250, 30]], dtype=np.float32
)


def colormap(values: np.ndarray) -> np.ndarray:
    """Map values in [0, 1] to uint8 RGB, shape [..., 3]."""
    v = np.clip(values, 0.0, 1.0) * (len(_COLORMAP_ANCHORS) - 1)
    lo = np.floor(v).astype(int)
    hi = np.minimum(lo + 1, len(_COLORMAP_ANCHORS) - 1)
    frac = (v - lo)[..., None]
    rgb = _COLORMAP_ANCHORS[lo] * (1 - frac) + _COLORMAP_ANCHORS[hi] * frac
    return rgb.astype(np.uint8)


def upsample(activation: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear upsampling of an [h, w] map to ``size`` = (width, height)."""
    img = Image.fromarray(activation.astype(np.float32), mode="F")
    return np.asarray(img.resize(size, Image.Resampling.BILINEAR))


def overlay(image: np.ndarray, activation: np.ndarray, scale: float) -> np.ndarray:
    """Blend a filter's activation map over ``image`` (uint8 HxWx3).

    ``scale`` is the filter's maximum over all evaluation images, so the same colour means the
    same activation on every image of that filter.
    """
    h, w = image.shape[:2]
    norm = upsample(activation, (w, h)) / scale if scale > 0 else np.zeros((h, w), np.float32)
    norm = np.clip(norm, 0.0, 1.0)
    alpha = (0.15 + 0.7 * norm)[..., None]
    heat = colormap(norm).astype(np.float32)
    grey = image.astype(np.float32).mean(axis=2, keepdims=True)
    base = 0.5 * image.astype(np.float32) + 0.5 * grey
    return (base * (1 - alpha) + heat * alpha).astype(np.uint8)


def png_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 HxW or HxWx3 array as PNG."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()
