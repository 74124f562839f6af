"""Render one built-in scene: cluttered background, an optional animal, an optional occluder.

All polygons go through one 2x3 affine map from the animal's model frame to pixels and are
filled by PIL into a single code map (part and look of the top polygon at each pixel);
colours, textures, part masks and landmark visibility are then read from that map with
vectorised numpy and PIL, so no Python loop touches single pixels. Texture fields are built
from 1-D factors (small matrix products), never evaluated pixel by pixel.
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
from partlens.data.builtin.animals import LANDMARK_PARTS, PART_NAMES, Animal, build_animal

# Object scale in the uncropped scene (share of the image side): a 2x range of object sizes.
SCENE_SCALE: tuple[float, float] = (0.35, 0.7)
OCCLUSION_PROBABILITY = 0.25
FLIP_PROBABILITY = 0.5
MAX_ROTATION = 0.26  # radians, about 15 degrees

# Difficulty knobs (see bench/dataset.py for what they do to a from-scratch CNN).
DISTRACTORS: tuple[int, int] = (2, 6)  # distractor shapes per scene, [low, high)
DISTRACTOR_COAT_SHARE = 0.35  # share of distractors painted with the animal's coat
COAT_KINDS: tuple[str, ...] = ("plain", "stripes", "spots", "patches")
MIN_CONTRAST = 100.0  # least RGB distance (0-255 scale) between coat colours and ground colours
# How far a pattern's second colour lies from its first, toward an independent random colour
# (1: independent, 0: no visible pattern), for the animal's coat and for the ground.
COAT_CONTRAST = 0.35
GROUND_CONTRAST = 0.35
# "crop" framing: the object's long side fills the image; the short side is stretched by at
# most this factor (1: keep the aspect ratio; inf: fill the square as the paper's crop-and-
# resize does). Proportions are the category cue, and stretching them away made the
# multi-category task much harder; a little stretch keeps thin parts (legs, tails) large.
CROP_MAX_STRETCH = 1.3


# Looks of a polygon: its first and second colour, mixed by a texture field; looks from _COAT
# on use the coat's texture (in the animal's frame), the others the ground's ("accent" has
# two equal colours, so its texture does not show).
_GROUND, _GROUND_SWAPPED, _ACCENT, _COAT, _SHADE = range(5)
# Every polygon is filled with the code part | look << _PART_BITS, so the part map, texture
# choice and colours are read off one code map with a mask, a comparison and two palettes.
_PART_BITS = 3
_PIECE_LOOKS = {"body": _COAT, "shade": _SHADE, "accent": _ACCENT}
_PART_INDEX = {name: k + 1 for k, name in enumerate(PART_NAMES)}
_GROUND_KINDS = ("stripes", "patches", "spots")


@dataclass
class Scene:
    """A rendered image with its per-pixel part index (0: no part, k + 1: PART_NAMES[k])."""

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


@lru_cache(maxsize=8)
def _pixel_centres(size: int) -> NDArray[np.float64]:
    return np.arange(size, dtype=np.float64) + 0.5


@lru_cache(maxsize=32)
def _bilinear_weights(size: int, cells: int) -> NDArray[np.float32]:
    # [size, cells] weights of PIL's bilinear upsampling (pixel centres aligned, edges clamped).
    position = np.clip(_pixel_centres(size) * cells / size - 0.5, 0, cells - 1)
    weights = 1.0 - np.abs(position[:, None] - np.arange(cells))
    return np.maximum(weights, 0.0).astype(np.float32)


def _colour(rng: np.random.Generator) -> NDArray[np.float32]:
    return rng.uniform(15.0, 240.0, size=3).astype(np.float32)


def _ground_colour(rng: np.random.Generator, *coat: NDArray[np.float32]) -> NDArray[np.float32]:
    """A background colour at least MIN_CONTRAST away from every coat colour (a few tries), so
    that the animal stands out from the ground while distractors may still share its coat."""
    coat_points = [c.tolist() for c in coat]
    for _ in range(16):
        colour = _colour(rng)
        if all(math.dist(colour.tolist(), c) >= MIN_CONTRAST for c in coat_points):
            break
    return colour


def _smooth_noise(
    rng: np.random.Generator, size: int, cells: int, scale: float, offset: float
) -> NDArray[np.float32]:
    """Blobby noise in [offset, offset + scale] (float32 [size, size]): a random `cells` x
    `cells` grid upsampled bilinearly, as two small matrix products."""
    weights = _bilinear_weights(size, cells)
    grid = (scale * rng.random((cells, cells)) + offset).astype(np.float32)
    return (weights @ grid @ weights.T).astype(np.float32, copy=False)


def _wave_factors(
    phase: NDArray[np.float64], size: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Factors (rows [S, 2], columns [2, S]) whose product is sin(a x + b y + c) over the pixel
    centres (x, y), for phase = (a, b, c): sin(p + q) = sin p cos q + cos p sin q, so a wave
    over the whole image costs one small matrix product instead of a sine per pixel."""
    centres = _pixel_centres(size)
    x, y = phase[0] * centres, phase[1] * centres + phase[2]
    return np.stack([np.sin(y), np.cos(y)], axis=1), np.stack([np.cos(x), np.sin(x)])


def _pattern(
    rng: np.random.Generator, kind: str, to_pattern: NDArray[np.float64], size: int, period: float
) -> NDArray[np.uint8]:
    """Texture weight (uint8, 255 = second colour) of every pixel; the 2x3 map `to_pattern`
    takes pixel centres to pattern coordinates (u, v), measured in units of `period`."""
    if kind == "plain":
        return np.zeros((size, size), dtype=np.uint8)
    phase = (2 * np.pi / period) * to_pattern
    if kind == "spots":  # sin(u) sin(v) > 0.55; the product of two rank-2 waves has rank 4
        (rows_u, columns_u), (rows_v, columns_v) = (_wave_factors(p, size) for p in phase)
        rows = (rows_u[:, :, None] * rows_v[:, None, :]).reshape(size, 4)
        columns = (columns_u[:, None, :] * columns_v[None, :, :]).reshape(4, size)
        waves = rows.astype(np.float32) @ columns.astype(np.float32)
        return np.where(waves > 0.55, np.uint8(255), np.uint8(0))
    if kind == "stripes":  # clip(0.5 + 2 sin(u), 0, 1) scaled to 0-255; the offset is a 3rd rank
        rows, columns = _wave_factors(phase[0], size)
        rows = np.hstack([510.0 * rows, np.full((size, 1), 127.5)])
        columns = np.vstack([columns, np.ones((1, size))])
        weight = rows.astype(np.float32) @ columns.astype(np.float32)
    else:  # patches: blobby noise, contrast x4 around 0.5
        weight = _smooth_noise(rng, size, int(rng.integers(3, 7)), 1020.0, -382.5)
    return np.clip(weight, 0.0, 255.0, out=weight).astype(np.uint8)


def _turn(angle: float) -> NDArray[np.float64]:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, s], [-s, c]])


def _texture_fields(
    rng: np.random.Generator, size: int, model_to_pixel: NDArray[np.float64], scale: float
) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """uint8 texture weights of the animal's coat (in its model frame, so it deforms with the
    body) and of the background."""
    to_model = geo.invert(model_to_pixel)
    turn = _turn(rng.uniform(0, np.pi))
    # rng.integers(n) draws exactly what rng.choice over n items draws, at a fifth of the cost.
    coat_kind = COAT_KINDS[rng.integers(len(COAT_KINDS))]
    coat = _pattern(rng, coat_kind, turn @ to_model, size, rng.uniform(0.25, 0.5))
    turn = _turn(rng.uniform(0, np.pi))
    ground_kind = _GROUND_KINDS[rng.integers(len(_GROUND_KINDS))]
    period = size * scale * rng.uniform(0.1, 0.25)
    ground = _pattern(rng, ground_kind, np.hstack([turn, np.zeros((2, 1))]), size, period)
    return coat, ground


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
    fields: tuple[NDArray[np.uint8], NDArray[np.uint8]],
    colours_a: NDArray[np.float32],
    colours_b: NDArray[np.float32],
) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """Colour the code map (two colours per look, mixed by its texture field) and light it;
    returns (part map, uint8 image). Per-pixel blending runs in PIL's C code, which made the
    generator about twice as fast as the same arithmetic on float numpy images."""
    size = codes_image.width
    codes = np.asarray(codes_image)
    part_map = codes & np.uint8((1 << _PART_BITS) - 1)
    coat, ground = fields
    weight = np.where(codes >= _COAT << _PART_BITS, coat, ground)
    colour_a = _lookup(codes_image, colours_a)
    colour_b = _lookup(codes_image, colours_b)
    mixed = Image.composite(colour_b, colour_a, Image.fromarray(weight))
    # Smooth illumination and sensor noise, so flat colours are not a shortcut either.
    light = Image.fromarray(_smooth_noise(rng, size, 2, 0.35 * 255, 0.65 * 255).astype(np.uint8))
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


def _palette(rng: np.random.Generator) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """First and second colour of every look (_GROUND, _GROUND_SWAPPED, _ACCENT, _COAT,
    _SHADE), each float32 [5, 3]."""
    # Coat colours are drawn independently of the category: categories differ only in shape.
    body, second, accent = _colour(rng), _colour(rng), _colour(rng)
    second = body + np.float32(COAT_CONTRAST) * (second - body)
    ground_a, ground_b = _ground_colour(rng, body, second), _ground_colour(rng, body, second)
    ground_b = ground_a + np.float32(GROUND_CONTRAST) * (ground_b - ground_a)
    shade = np.float32(0.65)
    colours_a = np.stack([ground_a, ground_b, accent, body, shade * body])
    colours_b = np.stack([ground_b, ground_a, accent, second, shade * second])
    return colours_a, colours_b


def _distractor_look(rng: np.random.Generator) -> int:
    kind = rng.random()
    if kind < DISTRACTOR_COAT_SHARE:
        return _COAT
    if kind < DISTRACTOR_COAT_SHARE + 0.15:
        return _ACCENT
    return _GROUND_SWAPPED


def _clutter(
    rng: np.random.Generator, size: int, unit: float, landmarks: NDArray[np.float64] | None
) -> tuple[geo.Shapes, list[int]]:
    """Distractor shapes (with their looks) and, near a random landmark, maybe one occluder,
    all in pixels; the occluder (if any) is the shape after the distractors."""
    # Distractors share the animal's colours and coat, so colour/texture cannot find parts.
    shapes, looks = geo.Shapes(), []
    for _ in range(int(rng.integers(*DISTRACTORS))):
        centre = rng.uniform(0, size, size=2)
        radius = unit * rng.uniform(0.25, 0.8)
        looks.append(_distractor_look(rng))
        _random_shape(rng, shapes, complex(*centre), radius)
    if landmarks is not None and rng.random() < OCCLUSION_PROBABILITY:
        target = landmarks[rng.integers(len(landmarks))]  # the draw of rng.choice, as above
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


def render_scene(
    category: str | None, size: int, rng: np.random.Generator, framing: str = "crop"
) -> Scene:
    """Render one scene of `size` x `size` pixels; `category` None draws background only."""
    if framing not in ("crop", "scene"):
        raise ValueError(f"framing must be 'crop' or 'scene', got {framing!r}")
    scale = rng.uniform(*SCENE_SCALE)
    colours_a, colours_b = _palette(rng)
    canvas = _Canvas(size)

    animal = build_animal(category, rng) if category is not None else None
    if animal is not None:
        pixels, model_to_pixel = _place(rng, animal, size, framing)
        (a, b, _), (c, d, _) = model_to_pixel.tolist()
        unit = math.sqrt(abs(a * d - b * c))  # pixels per model unit
    else:
        unit = size * scale / 3.5  # a typical animal is about 3.5 model units long
        model_to_pixel = np.array([[unit, 0.0, 0.0], [0.0, unit, 0.0]])
    fields = _texture_fields(rng, size, model_to_pixel, scale)

    # Distractors and the occluder are built together, in pixels; the canvas keeps the paint
    # order: distractors, the animal, the occluder.
    points = geo.apply(model_to_pixel, animal.landmarks) if animal is not None else None
    scene, looks = _clutter(rng, size, unit, points)
    vertices, spans = scene.build()
    distractors, occluders = spans[: len(looks)], spans[len(looks) :]
    canvas.add(vertices, distractors, [0] * len(distractors), looks)
    if animal is not None:
        pieces = animal.pieces
        parts = [_PART_INDEX[piece.part] for piece in pieces]
        piece_looks = [_PIECE_LOOKS[piece.look] for piece in pieces]
        canvas.add(pixels, [piece.span for piece in pieces], parts, piece_looks)
    canvas.add(vertices, occluders, [0] * len(occluders), [_GROUND] * len(occluders))

    part_map, image = _paint(rng, canvas.fill(), fields, colours_a, colours_b)
    if animal is None or points is None:
        return Scene(image=image, part_map=part_map, landmarks={}, bbox=None)
    landmarks = _visible_landmarks(animal, points, part_map)
    return Scene(image=image, part_map=part_map, landmarks=landmarks, bbox=_part_bbox(part_map))
