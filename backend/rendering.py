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


def rf_region_overlay(
    image: np.ndarray,
    activation: np.ndarray,
    unit_centers: np.ndarray,
    rf_radius: float,
    threshold: float,
) -> np.ndarray:
    """Mark the paper's valid region S_f on ``image``: the union of disks of ``rf_radius``
    around the receptive-field centres of the units whose activation exceeds T_f.

    ``unit_centers`` is [h, w, 2] (x, y in pixels); outside the region the image is dimmed.
    """
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    region = np.zeros((h, w), dtype=bool)
    for x, y in unit_centers[activation > threshold]:
        region |= (xs - x) ** 2 + (ys - y) ** 2 <= rf_radius**2
    out = image.astype(np.float32)
    out[~region] *= 0.35
    edge = region & ~(
        np.roll(region, 1, 0)
        & np.roll(region, -1, 0)
        & np.roll(region, 1, 1)
        & np.roll(region, -1, 1)
    )
    out[edge] = (255, 64, 64)
    return out.astype(np.uint8)


def png_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 HxW or HxWx3 array as PNG."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()
