"""Geometric transforms of a `Sample` that move its bbox, part masks and landmarks with it."""

from __future__ import annotations

import dataclasses

import numpy as np
from PIL import Image

from partlens.data.types import Sample


def flip_sample(sample: Sample) -> Sample:
    """Mirror a sample left-right (image, masks, bbox and landmarks)."""
    width = sample.image.shape[1]
    bbox = None
    if sample.bbox is not None:
        x0, y0, x1, y1 = sample.bbox
        bbox = (width - x1, y0, width - x0, y1)
    masks = None
    if sample.part_masks is not None:
        masks = {
            name: np.ascontiguousarray(mask[:, ::-1]) for name, mask in sample.part_masks.items()
        }
    landmarks = {name: (width - x, y) for name, (x, y) in sample.landmarks.items()}
    return dataclasses.replace(
        sample,
        image=np.ascontiguousarray(sample.image[:, ::-1]),
        bbox=bbox,
        part_masks=masks,
        landmarks=landmarks,
    )


def crop_resize_sample(
    sample: Sample, box: tuple[float, float, float, float], size: int | tuple[int, int]
) -> Sample:
    """Crop `box` = (x0, y0, x1, y1) out of a sample and resize it to `size` (side, or
    (width, height)), as the paper prepares bounding-box crops.

    Regions of the box outside the image are filled with black; the bbox is clipped to the
    crop; landmarks that fall outside the crop are dropped.
    """
    x0, y0, x1, y1 = (float(v) for v in box)
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"crop box must have x1 > x0 and y1 > y0, got {box}")
    out_w, out_h = (size, size) if isinstance(size, int) else size
    if out_w < 1 or out_h < 1:
        raise ValueError(f"output size must be positive, got {size}")
    scale_x, scale_y = out_w / (x1 - x0), out_h / (y1 - y0)
    # PIL's EXTENT transform samples the box with continuous coordinates, the same convention as
    # our landmarks, so one affine map moves image, masks and points consistently.
    extent = (x0, y0, x1, y1)
    image = Image.fromarray(sample.image).transform(
        (out_w, out_h), Image.Transform.EXTENT, extent, resample=Image.Resampling.BILINEAR
    )
    masks = None
    if sample.part_masks is not None:
        masks = {
            name: np.asarray(
                Image.fromarray(mask.astype(np.uint8) * 255).transform(
                    (out_w, out_h), Image.Transform.EXTENT, extent, Image.Resampling.NEAREST
                )
            )
            > 127
            for name, mask in sample.part_masks.items()
        }
    bbox = None
    if sample.bbox is not None:
        bx0, by0, bx1, by1 = sample.bbox
        bbox = (
            float(np.clip((bx0 - x0) * scale_x, 0, out_w)),
            float(np.clip((by0 - y0) * scale_y, 0, out_h)),
            float(np.clip((bx1 - x0) * scale_x, 0, out_w)),
            float(np.clip((by1 - y0) * scale_y, 0, out_h)),
        )
    landmarks = {}
    for name, (x, y) in sample.landmarks.items():
        nx, ny = (x - x0) * scale_x, (y - y0) * scale_y
        if 0 <= nx < out_w and 0 <= ny < out_h:
            landmarks[name] = (nx, ny)
    return dataclasses.replace(
        sample, image=np.array(image), bbox=bbox, part_masks=masks, landmarks=landmarks
    )


def crop_to_bbox(sample: Sample, size: int, margin: float = 0.0) -> Sample:
    """Crop a sample to its bbox (grown by `margin` times its width/height on each side) and
    resize it to a `size` x `size` square: the object fills the input, as the paper evaluates."""
    if sample.bbox is None:
        raise ValueError(f"sample {sample.index} has no bbox to crop to")
    x0, y0, x1, y1 = sample.bbox
    dx, dy = (x1 - x0) * margin, (y1 - y0) * margin
    return crop_resize_sample(sample, (x0 - dx, y0 - dy, x1 + dx, y1 + dy), size)
