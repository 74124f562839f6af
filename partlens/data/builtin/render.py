"""Render one built-in scene: cluttered background, an optional figure (an animal or a
non-animal object), an optional occluder.

All polygons go through one 2x3 affine map from the figure's model frame to pixels and are
filled by PIL into a single code map (part and look of the top polygon at each pixel);
colours, textures (`partlens.data.builtin.looks`), part masks and landmark visibility are then
read from that map with vectorised numpy and PIL, so no Python loop touches single pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageChops, ImageDraw

from partlens.data.builtin import geometry as geo
from partlens.data.builtin import looks as lk
from partlens.data.builtin.animals import LANDMARK_PARTS, PART_NAMES, Animal, build_animal
from partlens.data.builtin.objects import OBJECT_KINDS, OBJECT_PART, build_object

# Object scale in the uncropped scene (share of the image side): a 2x range of object sizes.
SCENE_SCALE: tuple[float, float] = (0.35, 0.7)
OCCLUSION_PROBABILITY = 0.25
FLIP_PROBABILITY = 0.5
MAX_ROTATION = 0.26  # radians, about 15 degrees

# Difficulty knobs (see bench/dataset.py for what they do to a from-scratch CNN).
DISTRACTORS: tuple[int, int] = (2, 6)  # distractor shapes per scene, [low, high)
# Shares of distractors painted with the animal's coat, its limbs' pattern, the accent and a
# part detail's dark colour (the rest: swapped ground), so no look alone marks a part.
DISTRACTOR_LOOKS: tuple[tuple[int, float], ...] = (
    (lk.COAT, 0.3),
    (lk.LIMB, 0.15),
    (lk.ACCENT, 0.1),
    (lk.DARK, 0.05),
)
# "crop" framing: the object's long side fills the image; the short side is stretched by at
# most this factor (1: keep the aspect ratio; inf: fill the square as the paper's crop-and-
# resize does). Proportions are the category cue, and stretching them away made the
# multi-category task much harder; a little stretch keeps thin parts (legs, tails) large.
CROP_MAX_STRETCH = 1.3

# Every polygon is filled with the code part | look << _PART_BITS, so the part map, texture
# choice and colours are read off one code map with a mask, a shift and two palettes.
_PART_BITS = 3
_COAT, _SHADE, _GROUND = lk.COAT, lk.SHADE, lk.GROUND
# Part k of PART_NAMES is k + 1; a non-animal object's pixels are OBJECT_INDEX (no part mask).
_PART_INDEX = {name: k + 1 for k, name in enumerate(PART_NAMES)}
OBJECT_INDEX = len(PART_NAMES) + 1
_PART_INDEX[OBJECT_PART] = OBJECT_INDEX


@dataclass
class Scene:
    """A rendered image with its per-pixel part index (0: no figure, k + 1: PART_NAMES[k],
    OBJECT_INDEX: a non-animal object)."""

    image: NDArray[np.uint8]  # [size, size, 3]
    part_map: NDArray[np.uint8]  # [size, size]
    landmarks: dict[str, tuple[float, float]]
    bbox: tuple[float, float, float, float] | None


@dataclass
class _Canvas:
    """Polygons to fill, in paint order, with their codes (part | look << _PART_BITS)."""

    size: int
    polygons: list[list[float]] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)

    def add(
        self,
        vertices: NDArray[np.float64],
        spans: Sequence[slice],
        parts: Sequence[int],
        looks: Sequence[int],
    ) -> None:
        """Queue the polygons `vertices[span]` (pixel coordinates), one per span."""
        # PIL puts pixel centres at integers; our continuous frame has them at +0.5. One
        # tolist for all polygons: per-polygon numpy calls showed up in the profile.
        flat = (vertices - 0.5).ravel().tolist()
        self.polygons.extend(flat[2 * span.start : 2 * span.stop] for span in spans)
        pairs = zip(parts, looks, strict=True)
        self.codes.extend(part | look << _PART_BITS for part, look in pairs)

    def fill(self) -> Image.Image:
        """Code map: the code of the last polygon over each pixel (0: bare ground)."""
        canvas = Image.new("L", (self.size, self.size), 0)
        draw = ImageDraw.Draw(canvas)
        for polygon, code in zip(self.polygons, self.codes, strict=True):
            draw.polygon(polygon, fill=code)
        return canvas


def _random_shape(
    rng: np.random.Generator, shapes: geo.Shapes, centre: complex, radius: float
) -> None:
    kind = rng.integers(3)
    if kind == 0:
        shapes.ellipse(centre, radius, radius * rng.uniform(0.3, 1.0), rng.uniform(0, np.pi))
    elif kind == 1:  # limb-like bars, so that elongated shapes alone do not signal legs or tails
        tip = centre + radius * 1.5 * geo.direction(rng.uniform(0, 2 * np.pi))
        shapes.capsule(centre, tip, radius * 0.3, radius * rng.uniform(0.15, 0.35))
    else:
        angles = np.sort(rng.uniform(0, 2 * np.pi, 3)).tolist()
        shapes.polygon([centre + radius * complex(math.cos(a), math.sin(a)) for a in angles])


def _framing(
    rng: np.random.Generator, size: int, extent: NDArray[np.float64], framing: str
) -> NDArray[np.float64]:
    """Affine map from the posed model frame to pixels: the object's bbox fills the image
    ("crop", as the paper prepares inputs) or sits at a random place and scale ("scene")."""
    (x0, y0), (x1, y1) = extent
    width, height = x1 - x0, y1 - y0
    if framing == "crop":
        left, right, top, bottom = rng.uniform(0.0, 0.06, size=4)
        sx = size / (width * (1 + left + right))
        sy = size / (height * (1 + top + bottom))
        # The short side, stretched at most CROP_MAX_STRETCH, is centred on scene background.
        k = min(sx, sy)
        kx, ky = min(sx, k * CROP_MAX_STRETCH), min(sy, k * CROP_MAX_STRETCH)
        tx = (size - kx * width) / 2 - kx * x0 + (left - right) * kx * width / 2
        ty = (size - ky * height) / 2 - ky * y0 + (top - bottom) * ky * height / 2
        return np.array([[kx, 0.0, tx], [0.0, ky, ty]])
    k = rng.uniform(*SCENE_SCALE) * size / max(width, height)
    tx = rng.uniform(0, size - k * width) - k * x0
    ty = rng.uniform(0, size - k * height) - k * y0
    return np.array([[k, 0.0, tx], [0.0, k, ty]])


@lru_cache(maxsize=8)
def _noise_tile(size: int) -> Image.Image:
    # One fixed tile per size, sampled at a random offset per image: fresh Gaussian noise for
    # every pixel cost more than all the drawing. Stored around 128 for PIL's offset add.
    noise = np.random.default_rng(size).normal(128.0, 5.0, (2 * size, 2 * size))
    grey = Image.fromarray(np.clip(noise, 0, 255).astype(np.uint8))
    return Image.merge("RGB", (grey, grey, grey))


@lru_cache(maxsize=8)
def _black(size: int) -> Image.Image:
    return Image.new("RGB", (size, size))


def _lookup(codes: Image.Image, colours: NDArray[np.float32]) -> Image.Image:
    """RGB image of the code map with the colour of each code's look (a PIL palette)."""
    indexed = codes.copy()
    palette = np.repeat(np.clip(colours, 0, 255).astype(np.uint8), 1 << _PART_BITS, axis=0)
    indexed.putpalette(palette.tobytes())
    return indexed.convert("RGB")


def _paint(
    rng: np.random.Generator,
    codes_image: Image.Image,
    fields: tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.uint8]],
    colours_a: NDArray[np.float32],
    colours_b: NDArray[np.float32],
) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """Colour the code map (two colours per look, mixed by its texture field) and light it;
    returns (part map, uint8 image). Per-pixel blending runs in PIL's C code, which made the
    generator about twice as fast as the same arithmetic on float numpy images."""
    size = codes_image.width
    codes = np.asarray(codes_image)
    part_map = codes & np.uint8((1 << _PART_BITS) - 1)
    weight = lk.texture_weight(codes >> _PART_BITS, fields)
    colour_a = _lookup(codes_image, colours_a)
    colour_b = _lookup(codes_image, colours_b)
    mixed = Image.composite(colour_b, colour_a, Image.fromarray(weight))
    # Smooth illumination and sensor noise, so flat colours are not a shortcut either.
    light = Image.fromarray(lk.smooth_noise(rng, size, 2, 0.35 * 255, 0.65 * 255).astype(np.uint8))
    # Blending over black is mixed * light / 255, a quarter cheaper than ImageChops.multiply.
    lit = Image.composite(mixed, _black(size), light)
    row, col = (int(v) for v in rng.integers(0, size, size=2))
    noise = _noise_tile(size).crop((col, row, col + size, row + size))
    return part_map, np.array(ImageChops.add(lit, noise, scale=1.0, offset=-128))


def _place(
    rng: np.random.Generator, animal: Animal, size: int, framing: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Pose the animal (flip, small rotation) and frame it: its vertices in pixels, and the
    2x3 map from its model frame to pixels."""
    flip = -1.0 if rng.random() < FLIP_PROBABILITY else 1.0
    pose = geo.affine(flip, 1.0, rng.uniform(-MAX_ROTATION, MAX_ROTATION), 0.0, 0.0)
    posed = geo.apply(pose, animal.vertices)
    placement = _framing(rng, size, np.stack([posed.min(axis=0), posed.max(axis=0)]), framing)
    return geo.apply(placement, posed), geo.compose(placement, pose)


def _distractor_look(rng: np.random.Generator) -> int:
    draw = rng.random()
    for look, share in DISTRACTOR_LOOKS:
        if draw < share:
            return look
        draw -= share
    return lk.GROUND_SWAPPED


def _clutter(
    rng: np.random.Generator, size: int, unit: float, targets: NDArray[np.float64] | None
) -> tuple[geo.Shapes, list[int]]:
    """Distractor shapes (with their looks) and, near a random target point (a landmark),
    maybe one occluder, all in pixels; the occluder (if any) is the shape after the
    distractors."""
    # Distractors share the animal's colours and coat, so colour/texture cannot find parts.
    shapes, looks = geo.Shapes(), []
    for _ in range(int(rng.integers(*DISTRACTORS))):
        centre = rng.uniform(0, size, size=2)
        radius = unit * rng.uniform(0.25, 0.8)
        looks.append(_distractor_look(rng))
        _random_shape(rng, shapes, complex(*centre), radius)
    if targets is not None and rng.random() < OCCLUSION_PROBABILITY:
        target = targets[rng.integers(len(targets))]  # the draw of rng.choice, as above
        centre = target + rng.normal(0, 0.3 * unit, size=2)
        _random_shape(rng, shapes, complex(*centre), unit * rng.uniform(0.3, 0.5))
    return shapes, looks


def _visible_landmarks(
    animal: Animal, points: NDArray[np.float64], part_map: NDArray[np.uint8]
) -> dict[str, tuple[float, float]]:
    """The landmarks whose pixel shows their own part (not occluded, inside the image)."""
    size = part_map.shape[0]
    landmarks: dict[str, tuple[float, float]] = {}
    for name, (x, y) in zip(animal.landmark_names, points.tolist(), strict=True):
        col, row = math.floor(x), math.floor(y)
        inside = 0 <= col < size and 0 <= row < size
        if inside and part_map[row, col] == _PART_INDEX[LANDMARK_PARTS[name]]:
            landmarks[name] = (x, y)
    return landmarks


def _part_bbox(part_map: NDArray[np.uint8]) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) around every part pixel, None when no part is visible."""
    rows, cols = np.flatnonzero(part_map.any(axis=1)), np.flatnonzero(part_map.any(axis=0))
    if not len(rows):
        return None
    return (float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1))


def _figure(category: str, rng: np.random.Generator) -> Animal:
    if category in OBJECT_KINDS:
        return build_object(category, rng)
    return build_animal(category, rng)


def render_scene(
    category: str | None, size: int, rng: np.random.Generator, framing: str = "crop"
) -> Scene:
    """Render one scene of `size` x `size` pixels: `category` is a built-in animal, a
    non-animal object kind (OBJECT_KINDS: no part masks, no landmarks, a bbox) or None
    (background only)."""
    if framing not in ("crop", "scene"):
        raise ValueError(f"framing must be 'crop' or 'scene', got {framing!r}")
    scale = rng.uniform(*SCENE_SCALE)
    colours_a, colours_b = lk.palette(rng)
    canvas = _Canvas(size)

    figure = _figure(category, rng) if category is not None else None
    if figure is not None:
        pixels, model_to_pixel = _place(rng, figure, size, framing)
        (a, b, _), (c, d, _) = model_to_pixel.tolist()
        unit = math.sqrt(abs(a * d - b * c))  # pixels per model unit
    else:
        unit = size * scale / 3.5  # a typical animal is about 3.5 model units long
        model_to_pixel = np.array([[unit, 0.0, 0.0], [0.0, unit, 0.0]])
    fields = lk.texture_fields(rng, size, model_to_pixel, scale)

    # Distractors and the occluder are built together, in pixels; the canvas keeps the paint
    # order: distractors, the figure, the occluder.
    points = geo.apply(model_to_pixel, figure.landmarks) if figure is not None else None
    # An object has no landmarks: its occluder aims at one of its vertices.
    targets = pixels if figure is not None and not len(figure.landmarks) else points
    scene, looks = _clutter(rng, size, unit, targets)
    vertices, spans = scene.build()
    distractors, occluders = spans[: len(looks)], spans[len(looks) :]
    canvas.add(vertices, distractors, [0] * len(distractors), looks)
    if figure is not None:
        pieces = figure.pieces
        parts = [_PART_INDEX[piece.part] for piece in pieces]
        piece_looks = [lk.PIECE_LOOKS[piece.look] for piece in pieces]
        canvas.add(pixels, [piece.span for piece in pieces], parts, piece_looks)
    canvas.add(vertices, occluders, [0] * len(occluders), [_GROUND] * len(occluders))

    part_map, image = _paint(rng, canvas.fill(), fields, colours_a, colours_b)
    if figure is None or points is None:
        return Scene(image=image, part_map=part_map, landmarks={}, bbox=None)
    landmarks = _visible_landmarks(figure, points, part_map)
    return Scene(image=image, part_map=part_map, landmarks=landmarks, bbox=_part_bbox(part_map))
