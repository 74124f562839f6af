"""Contact sheets of a dataset: images with part masks, landmarks and bbox drawn over them."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from partlens.data.dataset import PartDataset
from partlens.data.types import Sample

# Distinct, colour-blind-friendly part colours (Okabe-Ito), cycled for datasets with more parts.
PART_COLOURS = [
    (230, 159, 0),
    (86, 180, 233),
    (0, 158, 115),
    (240, 228, 66),
    (0, 114, 178),
    (213, 94, 0),
    (204, 121, 167),
]
MASK_OPACITY = 0.45


def annotate(sample: Sample, part_names: list[str]) -> Image.Image:
    """One tile: the image with its part masks tinted, landmarks dotted, bbox and label drawn."""
    image = sample.image.astype(np.float32)
    if sample.part_masks is not None:
        for k, name in enumerate(part_names):
            mask = sample.part_masks.get(name)
            if mask is not None and mask.any():
                colour = np.array(PART_COLOURS[k % len(PART_COLOURS)], dtype=np.float32)
                image[mask] = (1 - MASK_OPACITY) * image[mask] + MASK_OPACITY * colour
    tile = Image.fromarray(image.astype(np.uint8))
    draw = ImageDraw.Draw(tile)
    if sample.bbox is not None:
        x0, y0, x1, y1 = sample.bbox
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), outline=(255, 255, 255))
    radius = max(2, tile.width // 48)
    for x, y in sample.landmarks.values():
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(255, 0, 0),
                     outline=(255, 255, 255))  # fmt: skip
    draw.text((3, 2), f"{sample.category} ({sample.label})", fill=(255, 255, 255),
              stroke_width=1, stroke_fill=(0, 0, 0))  # fmt: skip
    return tile


def contact_sheet(dataset: PartDataset, n: int = 16, columns: int | None = None) -> Image.Image:
    """A grid of the first `n` samples of `dataset`, annotated, with a legend of part colours
    (the `partlens dataset preview` output)."""
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    n = min(n, len(dataset))
    if n == 0:
        raise ValueError("cannot draw a contact sheet of an empty dataset")
    tiles = [annotate(dataset[i], dataset.part_names) for i in range(n)]
    side = max(max(t.width, t.height) for t in tiles)
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    legend_height = 16
    sheet = Image.new("RGB", (columns * side, rows * side + legend_height), (32, 32, 32))
    for k, tile in enumerate(tiles):
        sheet.paste(tile, ((k % columns) * side, (k // columns) * side))
    draw = ImageDraw.Draw(sheet)
    x = 4
    for k, name in enumerate(dataset.part_names):
        colour = PART_COLOURS[k % len(PART_COLOURS)]
        draw.rectangle((x, rows * side + 4, x + 8, rows * side + 12), fill=colour)
        draw.text((x + 11, rows * side + 2), name, fill=(230, 230, 230))
        x += 16 + 7 * len(name)
    return sheet
