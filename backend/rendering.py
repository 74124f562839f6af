"""PNG rendering of images and filter activations, in the library's colours and regions: the
heat colour map of the Fig. 6 heat maps (:func:`partlens.metrics.colorize`) and the region S_f
of part interpretability (disks of :func:`partlens.metrics.rf_disks`)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from partlens.metrics import colorize, rf_disks

# Units whose disks are drawn at once (bounds the [units, H * W] bool temporary).
_UNIT_CHUNK = 256
REGION_EDGE = (255, 64, 64)  # outline of S_f
OUTSIDE_DIM = 0.35  # brightness kept outside S_f


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
    scaled = upsample(activation, (w, h)) / scale if scale > 0 else np.zeros((h, w), np.float32)
    norm = np.clip(scaled, 0.0, 1.0).astype(np.float32)
    alpha = (0.15 + 0.7 * norm)[..., None]
    heat = colorize(norm).astype(np.float32)
    grey = image.astype(np.float32).mean(axis=2, keepdims=True)
    base = 0.5 * image.astype(np.float32) + 0.5 * grey
    return (base * (1 - alpha) + heat * alpha).astype(np.uint8)


def rf_region(
    activation: np.ndarray,
    unit_centers: np.ndarray,
    rf_radius: float,
    threshold: float,
    size: tuple[int, int],
) -> np.ndarray:
    """The paper's valid region S_f of one filter on one image, bool [H, W] for ``size`` =
    (H, W): the union of the disks of ``rf_radius`` (the library's `rf_disks`) around the RF
    centres p(mu) of the units whose activation exceeds T_f = ``threshold``, exactly as part
    interpretability scores it.

    ``activation`` is [h, w], ``unit_centers`` [h, w, 2] (x, y in pixels).
    """
    centers = np.asarray(unit_centers, dtype=np.float32)
    above = centers[np.asarray(activation) > threshold]  # [n, 2]
    region = np.zeros(size[0] * size[1], dtype=bool)
    for start in range(0, len(above), _UNIT_CHUNK):
        chunk = above[start : start + _UNIT_CHUNK].reshape(1, -1, 2)
        region |= rf_disks(chunk, rf_radius, size).any(dim=0).numpy()
    return region.reshape(size)


def rf_region_overlay(
    image: np.ndarray,
    activation: np.ndarray,
    unit_centers: np.ndarray,
    rf_radius: float,
    threshold: float,
) -> np.ndarray:
    """Mark the region S_f (`rf_region`) on ``image`` (uint8 HxWx3): dimmed outside, outlined
    in REGION_EDGE, unchanged inside."""
    size = (image.shape[0], image.shape[1])
    region = rf_region(activation, unit_centers, rf_radius, threshold, size)
    out = image.astype(np.float32)
    out[~region] *= OUTSIDE_DIM
    padded = np.pad(region, 1)
    interior = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    out[region & ~interior] = REGION_EDGE
    return out.astype(np.uint8)


def png_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 HxW or HxWx3 array as PNG."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def load_png(data: bytes) -> np.ndarray:
    """Decode PNG bytes to a uint8 HxWx3 array."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))
