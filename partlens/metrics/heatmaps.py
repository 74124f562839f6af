"""Part heat maps (paper Fig. 6): where on the object the inferred parts of all filters of a
layer fall, accumulated per category in a bounding-box-normalised frame, over the average
object image of that category.

Objects face either way (the built-in animals and real photos alike), so in a plain box frame a
head part lands at both ends and the landmarks' means meet in the middle. The frame can be
mirrored per image (:func:`facing_mirror`) so that every object's head lies on the left."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

from partlens.metrics._checks import ArrayLike, as_array, check_same

# Inferno-like colour stops (value -> RGB) for the heat, dark (cold) to bright yellow (hot).
_COLOUR_STOPS = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
_COLOURS = np.array(
    [[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], dtype=np.float64
)


@dataclass(frozen=True)
class PartHeatmaps:
    """Result of `part_heatmaps`; the frame is the object bbox mapped to a grid x grid square.

    categories: names, indexing the first axis of every array.
    heat: float64 [C, G, G] (row = y), density of inferred parts; sums to 1 where any fell.
    mean_image: uint8 [C, G, G, 3], the average object crop, or None without images.
    points: int64 [C], inferred parts that fell inside their image's bbox.
    images: int64 [C], images of each category with a bbox.
    """

    categories: list[str]
    heat: np.ndarray
    mean_image: np.ndarray | None
    points: np.ndarray
    images: np.ndarray


def part_heatmaps(
    positions: ArrayLike,
    bboxes: ArrayLike,
    image_categories: ArrayLike,
    category_names: Sequence[str],
    images: Sequence[np.ndarray] | None = None,
    *,
    mirror: ArrayLike | None = None,
    grid: int = 64,
    sigma: float = 1.5,
) -> PartHeatmaps:
    """Fig. 6 heat maps per category.

    positions: [N, F, 2] (x, y) pixels of every filter's p(mu_hat) (NaN: none); bboxes: [N, 4]
    (x0, y0, x1, y1) pixels, NaN rows for images without an object; image_categories: int [N]
    indexing category_names; images: N uint8 [H, W, 3] arrays for the average object image.
    Each part is mapped to ((x - x0) / (x1 - x0), (y - y0) / (y1 - y0)) on a grid x grid frame
    and splatted with a Gaussian of `sigma` cells; parts outside the bbox are dropped.
    mirror: bool [N], images whose frame (parts and object crop) is flipped left to right
    (:func:`facing_mirror`); None: none.
    """
    pos = as_array("positions", positions, 3).astype(np.float64)
    boxes = as_array("bboxes", bboxes, 2).astype(np.float64)
    categories = as_array("image_categories", image_categories, 1)
    n = pos.shape[0]
    if pos.shape[2] != 2:
        raise ValueError(f"positions must have shape [N, F, 2], got {tuple(pos.shape)}")
    if boxes.shape != (n, 4):
        raise ValueError(f"bboxes must have shape [N, 4] = {(n, 4)}, got {tuple(boxes.shape)}")
    check_same("image_categories", len(categories), "positions", n, "number of images N")
    if not np.issubdtype(categories.dtype, np.integer):
        raise ValueError(f"image_categories must hold integers, got dtype {categories.dtype}")
    num_categories = len(category_names)
    if categories.min() < 0 or categories.max() >= num_categories:
        raise ValueError(f"image_categories must index category_names (0..{num_categories - 1})")
    if images is not None and len(images) != n:
        raise ValueError(f"images has {len(images)} entries for {n} positions")
    if grid < 2 or sigma < 0:
        raise ValueError(f"grid must be >= 2 and sigma >= 0, got grid={grid}, sigma={sigma}")

    has_box = _has_box(boxes)
    counts = np.zeros((num_categories, grid, grid))
    flips = (
        np.zeros(n, dtype=bool) if mirror is None else as_array("mirror", mirror, 1, kind="bool")
    )
    check_same("mirror", len(flips), "positions", n, "number of images N")
    relative = box_frame(pos, boxes, flips)
    inside = np.isfinite(relative).all(axis=2) & ((relative >= 0) & (relative < 1)).all(axis=2)
    image_index, _ = np.nonzero(inside)
    cells = np.minimum((relative[inside] * grid).astype(np.int64), grid - 1)
    np.add.at(counts, (categories[image_index], cells[:, 1], cells[:, 0]), 1.0)
    heat = np.stack([gaussian_filter(c, sigma, mode="constant") if sigma else c for c in counts])
    totals = heat.sum(axis=(1, 2), keepdims=True)
    heat = np.where(totals > 0, heat / np.where(totals > 0, totals, 1.0), 0.0)
    mean_image = None
    if images is not None:
        mean_image = _mean_object_images(
            images, boxes, flips, has_box, categories, num_categories, grid
        )
    return PartHeatmaps(
        categories=list(category_names),
        heat=heat,
        mean_image=mean_image,
        points=np.bincount(categories[image_index], minlength=num_categories).astype(np.int64),
        images=np.bincount(categories[has_box], minlength=num_categories).astype(np.int64),
    )


def box_frame(points: ArrayLike, bboxes: ArrayLike, mirror: ArrayLike | None = None) -> np.ndarray:
    """``points`` [N, ..., 2] (x, y pixels of image n) in the frame of image n's object box:
    ((x - x0) / (x1 - x0), (y - y0) / (y1 - y0)), 0 at the left / top edge and 1 at the right
    / bottom one (outside the box: below 0 or above 1). bboxes [N, 4] (x0, y0, x1, y1); NaN
    for every point of an image without a (non-empty) box. mirror: bool [N], images whose x
    becomes 1 - x (:func:`facing_mirror`)."""
    pos = np.asarray(points, dtype=np.float64)
    boxes = as_array("bboxes", bboxes, 2).astype(np.float64)
    if pos.ndim < 2 or pos.shape[-1] != 2 or boxes.shape != (len(pos), 4):
        raise ValueError(
            f"points must be [N, ..., 2] and bboxes [N, 4], got {pos.shape} and {boxes.shape}"
        )
    has_box = _has_box(boxes)
    shape = (len(boxes),) + (1,) * (pos.ndim - 2) + (2,)
    origin = boxes[:, :2].reshape(shape)
    extent = np.where(has_box[:, None], boxes[:, 2:] - boxes[:, :2], 1.0).reshape(shape)
    relative = (pos - origin) / extent
    if mirror is not None:
        flips = np.asarray(mirror, dtype=bool)
        if flips.shape != (len(boxes),):
            raise ValueError(f"mirror must be [N] = [{len(boxes)}], got {flips.shape}")
        relative[flips, ..., 0] = 1.0 - relative[flips, ..., 0]
    relative[~has_box] = np.nan
    return relative


def facing_mirror(
    landmarks: ArrayLike, bboxes: ArrayLike, landmark_names: Sequence[str]
) -> np.ndarray:
    """Images to mirror so that every object faces left: those whose ``head`` landmark lies
    right of its box's centre (bool [N]). landmarks [N, K, 2] pixels, NaN where absent; no
    image is mirrored when there is no landmark called ``head`` or an image lacks it."""
    points = as_array("landmarks", landmarks, 3).astype(np.float64)
    boxes = as_array("bboxes", bboxes, 2).astype(np.float64)
    names = list(landmark_names)
    if points.shape[1:] != (len(names), 2) or len(boxes) != len(points):
        raise ValueError(
            f"landmarks must be [N, {len(names)}, 2] with bboxes [N, 4], got "
            f"{points.shape} and {boxes.shape}"
        )
    if "head" not in names:
        return np.zeros(len(points), dtype=bool)
    head_x = box_frame(points[:, names.index("head")], boxes)[:, 0]
    with np.errstate(invalid="ignore"):
        return np.nan_to_num(head_x, nan=0.0) > 0.5


def _has_box(boxes: np.ndarray) -> np.ndarray:
    """Images whose box is finite with a positive width and height (bool [N])."""
    finite = np.isfinite(boxes).all(axis=1)
    return finite & (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])


def _mean_object_images(
    images: Sequence[np.ndarray],
    boxes: np.ndarray,
    flips: np.ndarray,
    has_box: np.ndarray,
    categories: np.ndarray,
    num_categories: int,
    grid: int,
) -> np.ndarray:
    """Average of each category's bbox crops resized to grid x grid (uint8 [C, G, G, 3]), the
    crops of ``flips`` mirrored left to right."""
    total = np.zeros((num_categories, grid, grid, 3))
    count = np.zeros(num_categories)
    for index in np.flatnonzero(has_box):
        image = np.asarray(images[int(index)])
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(
                f"images[{index}] must be uint8 [H, W, 3], got {image.dtype} {image.shape}"
            )
        # Crop first (whole pixels; black beyond the image) so resampling never reads outside.
        x0, y0, x1, y1 = (round(float(value)) for value in boxes[index])
        crop = (
            Image.fromarray(image)
            .crop((x0, y0, x1, y1))
            .resize((grid, grid), Image.Resampling.BILINEAR)
        )
        if flips[index]:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        total[categories[index]] += np.asarray(crop, dtype=np.float64)
        count[categories[index]] += 1
    return np.round(total / np.maximum(count, 1)[:, None, None, None]).astype(np.uint8)


def colorize(values: np.ndarray) -> np.ndarray:
    """Map values in [0, 1] to uint8 RGB with the inferno-like colour map ([..., 3])."""
    clipped = np.clip(values, 0.0, 1.0)
    channels = [np.interp(clipped, _COLOUR_STOPS, _COLOURS[:, c]) for c in range(3)]
    return np.round(np.stack(channels, axis=-1)).astype(np.uint8)


def render_part_heatmap(
    heatmaps: PartHeatmaps, category: str | int, size: int = 256, alpha: float = 0.7
) -> Image.Image:
    """The heat map of one category blended over its average object image (PIL RGB image).

    Heat is scaled to its maximum; opacity grows with heat, so cold areas show the object.
    """
    index = heatmaps.categories.index(category) if isinstance(category, str) else int(category)
    if not 0 <= index < len(heatmaps.categories):
        raise ValueError(f"unknown category {category!r}; categories are {heatmaps.categories}")
    heat = heatmaps.heat[index]
    scaled = heat / heat.max() if heat.max() > 0 else heat
    colour = colorize(scaled).astype(np.float64)
    if heatmaps.mean_image is not None:
        background = heatmaps.mean_image[index].astype(np.float64)
    else:
        background = np.full((*heat.shape, 3), 128.0)
    weight = alpha * scaled[..., None]
    blended = np.round(background * (1 - weight) + colour * weight).astype(np.uint8)
    return Image.fromarray(blended).resize((size, size), Image.Resampling.BILINEAR)


def part_heatmap_png(
    heatmaps: PartHeatmaps, category: str | int, size: int = 256, alpha: float = 0.7
) -> bytes:
    """`render_part_heatmap` encoded as PNG bytes (for the API and files)."""
    buffer = io.BytesIO()
    render_part_heatmap(heatmaps, category, size, alpha).save(buffer, format="PNG")
    return buffer.getvalue()
