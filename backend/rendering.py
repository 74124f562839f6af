"""PNG rendering of images and filter activations, in the library's colours and regions: the
heat colour map of the Fig. 6 heat maps (:func:`partlens.metrics.colorize`) and the region S_f
of part interpretability (disks of :func:`partlens.metrics.rf_disks`)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from partlens.metrics import colorize, rf_disks

# Units whose disks are drawn at once (bounds the [units, H * W] bool temporary).
_UNIT_CHUNK = 256
REGION_EDGE = (255, 64, 64)  # outline of S_f
OUTSIDE_DIM = 0.35  # brightness kept outside S_f
SHEET_BACKGROUND = 24  # grey of the empty tiles of a contact sheet
LABEL_HEIGHT = 20  # text strip above each panel of a Fig. 4 panel
BAR_HEIGHT = 8  # colour bar below each map of a Fig. 4 panel
# zlib level of rendered PNGs: 1 encodes a 128-tile sheet ~5x faster than the default 6 for
# ~12% more bytes, and every rendering is cached, so the bytes are paid once.
RENDER_COMPRESSION = 1


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


def resized(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` (uint8 HxWx3) resized to ``size`` = (width, height), antialiased."""
    if image.shape[1] == size[0] and image.shape[0] == size[1]:
        return image
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR))


def scaled_rf_overlay(
    image: np.ndarray,
    activation: np.ndarray,
    unit_centers: np.ndarray,
    rf_radius: float,
    threshold: float,
    side: int,
) -> np.ndarray:
    """`rf_region_overlay` drawn directly at ``side`` x ``side`` pixels: the image, the RF
    centres and the radius are scaled instead of rendering full size and shrinking."""
    height, width = image.shape[:2]
    scale = np.asarray([side / width, side / height], dtype=np.float32)
    centers = np.asarray(unit_centers, dtype=np.float32) * scale
    small = resized(image, (side, side))
    return rf_region_overlay(small, activation, centers, rf_radius * side / width, threshold)


def contact_sheet(tiles: list[np.ndarray], columns: int, tile: int) -> np.ndarray:
    """Tiles (uint8 tile x tile x 3) in row-major order on a ``columns``-wide grid; the sheet
    is always ``columns * tile`` wide, so pixel (x, y) is tile ``(y // tile) * columns + x //
    tile``; cells after the last tile stay SHEET_BACKGROUND."""
    rows = max(1, -(-len(tiles) // columns))
    sheet = np.full((rows * tile, columns * tile, 3), SHEET_BACKGROUND, dtype=np.uint8)
    for index, picture in enumerate(tiles):
        row, col = divmod(index, columns)
        sheet[row * tile : (row + 1) * tile, col * tile : (col + 1) * tile] = picture
    return sheet


def colour_bar(width: int, height: int = BAR_HEIGHT) -> np.ndarray:
    """The heat colour map from 0 (left) to 1 (right), uint8 [height, width, 3]."""
    ramp = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :].repeat(height, axis=0)
    return colorize(ramp).astype(np.uint8)


def map_picture(values: np.ndarray, low: float, high: float, side: int) -> np.ndarray:
    """An [h, w] map upsampled to ``side`` x ``side`` in the heat colours, ``low`` to ``high``
    mapped to 0 to 1."""
    span = high - low if high > low else 1.0
    norm = np.clip((upsample(values, (side, side)) - low) / span, 0.0, 1.0)
    return colorize(norm.astype(np.float32)).astype(np.uint8)


def labelled_panels(panels: list[tuple[str, np.ndarray, bool]], side: int) -> np.ndarray:
    """Panels (title, uint8 side x side x 3, with a colour bar?) side by side, each under a
    LABEL_HEIGHT title strip and over a BAR_HEIGHT strip (the colour bar, or blank)."""
    height = LABEL_HEIGHT + side + BAR_HEIGHT
    canvas = np.full((height, side * len(panels), 3), 255, dtype=np.uint8)
    bar = colour_bar(side)
    for index, (_, picture, with_bar) in enumerate(panels):
        x = index * side
        canvas[LABEL_HEIGHT : LABEL_HEIGHT + side, x : x + side] = picture
        if with_bar:
            canvas[LABEL_HEIGHT + side :, x : x + side] = bar
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    # Readable at the filter view's 224 px panels (14 px), still inside a small panel's width.
    font = ImageFont.load_default(size=min(16, max(10, side // 16)))
    for index, (title, _, _) in enumerate(panels):
        draw.text((index * side + 3, 2), title, fill=(0, 0, 0), font=font)
    return np.asarray(image)


def fig4_panel(
    title: str,
    picture: np.ndarray,
    fmap: np.ndarray,
    mask: np.ndarray,
    unit: tuple[int, int],
    peak: float,
    region: tuple[np.ndarray, float, float],
    side: int,
) -> np.ndarray:
    """The paper's Fig. 4, four ``side`` x ``side`` panels: the image (titled ``title``), the
    mask T_mu_hat of ``unit`` (-1..1), the masked map relu(x * T_mu_hat) (0..``peak``) and the
    region S_f of ``region`` = (unit centres, RF radius, T_f)."""
    row, col = unit
    masked = np.maximum(fmap * mask, 0.0)
    panels = [
        (title, resized(picture, (side, side)), False),
        (f"T mu=({row},{col}) -1..1", map_picture(mask, -1.0, 1.0, side), True),
        (f"masked 0..{peak:.3g}", map_picture(masked, 0.0, peak, side), True),
        ("RF region S_f", scaled_rf_overlay(picture, fmap, *region, side), False),
    ]
    return labelled_panels(panels, side)


def png_bytes(array: np.ndarray, compress_level: int = RENDER_COMPRESSION) -> bytes:
    """Encode a uint8 HxW or HxWx3 array as PNG (zlib ``compress_level`` 0..9)."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()


def load_png(data: bytes) -> np.ndarray:
    """Decode PNG bytes to a uint8 HxWx3 array."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))
