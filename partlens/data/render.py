"""Render one built-in scene: cluttered background, an optional animal, an optional occluder.

All polygons go through one 2x3 affine map from the animal's model frame to pixels and are
filled by PIL into a single id map; colours, textures, part masks and landmark visibility are
then read from that map with vectorised numpy, so no Python loop touches single pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image, ImageChops, ImageDraw

from partlens.data import geometry as geo
from partlens.data.animals import LANDMARK_PARTS, PART_NAMES, build_animal

# Object scale in the uncropped scene (share of the image side): a 2x range, as the issue asks.
SCENE_SCALE: tuple[float, float] = (0.35, 0.7)
OCCLUSION_PROBABILITY = 0.25
FLIP_PROBABILITY = 0.5
MAX_ROTATION = 0.26  # radians, about 15 degrees

FIELD_PLAIN, FIELD_ANIMAL, FIELD_BACKGROUND = 0, 1, 2
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


@dataclass
class Scene:
    """A rendered image with its per-pixel part index (0: no part, k + 1: PART_NAMES[k])."""

    image: np.ndarray
    part_map: np.ndarray
    landmarks: dict[str, tuple[float, float]]
    bbox: tuple[float, float, float, float] | None


@dataclass
class _Canvas:
    """Polygons to fill, in paint order, each with a part index and a look."""

    size: int
    polygons: list[np.ndarray] = field(default_factory=list)
    parts: list[int] = field(default_factory=list)
    colour_a: list[np.ndarray] = field(default_factory=list)
    colour_b: list[np.ndarray] = field(default_factory=list)
    fields: list[int] = field(default_factory=list)

    def add(self, polygon, part, colour_a, colour_b, texture) -> None:
        self.polygons.append(polygon)
        self.parts.append(part)
        self.colour_a.append(colour_a)
        self.colour_b.append(colour_b)
        self.fields.append(texture)

    def fill_ids(self) -> Image.Image:
        """Id map: 0 for the bare background, k + 1 for polygon k (later ones on top)."""
        if len(self.polygons) > 254:
            raise ValueError("too many polygons for a uint8 id map")
        canvas = Image.new("L", (self.size, self.size), 0)
        draw = ImageDraw.Draw(canvas)
        for k, polygon in enumerate(self.polygons):
            # PIL puts pixel centres at integers; our continuous frame has them at +0.5.
            draw.polygon((polygon - 0.5).ravel().tolist(), fill=k + 1)
        return canvas


@lru_cache(maxsize=8)
def _pixel_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    centres = np.arange(size, dtype=np.float32) + 0.5
    return np.meshgrid(centres, centres)


def _colour(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(15.0, 240.0, size=3).astype(np.float32)


def _ground_colour(rng: np.random.Generator, *coat: np.ndarray) -> np.ndarray:
    """A background colour at least MIN_CONTRAST away from every coat colour (a few tries), so
    that the animal stands out from the ground while distractors may still share its coat."""
    for _ in range(16):
        colour = _colour(rng)
        if all(float(np.linalg.norm(colour - c)) >= MIN_CONTRAST for c in coat):
            break
    return colour


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Blobby noise in [0, 1]: a coarse random grid upsampled bilinearly by PIL (fast C)."""
    coarse = Image.fromarray((rng.random((cells, cells)) * 255).astype(np.uint8))
    upsampled = coarse.resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(upsampled, dtype=np.float32) / 255.0


def _pattern(rng, kind: str, u: np.ndarray, v: np.ndarray, size: int, period: float):
    """Texture weight in [0, 1] over coordinates (u, v) measured in units of `period`."""
    if kind == "plain":
        return np.zeros_like(u)
    if kind == "stripes":
        return np.clip(0.5 + 2.0 * np.sin(2 * np.pi * u / period), 0.0, 1.0)
    if kind == "spots":
        waves = np.sin(2 * np.pi * u / period) * np.sin(2 * np.pi * v / period)
        return (waves > 0.55).astype(np.float32)
    patches = _smooth_noise(rng, size, int(rng.integers(3, 7)))
    return np.clip((patches - 0.5) * 4.0 + 0.5, 0.0, 1.0)


def _texture_fields(rng, size: int, model_to_pixel: np.ndarray, scale: float) -> np.ndarray:
    """[3, S, S] texture weights: plain, the animal's coat (in its model frame, so it deforms
    with the body), and the background's."""
    xs, ys = _pixel_grid(size)
    to_model = geo.invert(model_to_pixel).astype(np.float32)
    angle = rng.uniform(0, np.pi)
    c, s = np.float32(np.cos(angle)), np.float32(np.sin(angle))
    mx = to_model[0, 0] * xs + to_model[0, 1] * ys + to_model[0, 2]
    my = to_model[1, 0] * xs + to_model[1, 1] * ys + to_model[1, 2]
    coat_kind = str(rng.choice(COAT_KINDS))
    coat = _pattern(rng, coat_kind, c * mx + s * my, c * my - s * mx, size, rng.uniform(0.25, 0.5))
    angle = rng.uniform(0, np.pi)
    c, s = np.float32(np.cos(angle)), np.float32(np.sin(angle))
    ground_kind = str(rng.choice(["stripes", "patches", "spots"]))
    period = size * scale * rng.uniform(0.1, 0.25)
    ground = _pattern(rng, ground_kind, c * xs + s * ys, c * ys - s * xs, size, period)
    return np.stack([np.zeros_like(coat), coat, ground])


def _random_shape(rng, centre: np.ndarray, radius: float) -> np.ndarray:
    kind = rng.integers(3)
    if kind == 0:
        return geo.ellipse(*centre, radius, radius * rng.uniform(0.3, 1.0), rng.uniform(0, np.pi))
    if kind == 1:  # limb-like bars, so that elongated shapes alone do not signal legs or tails
        tip = centre + radius * 1.5 * geo.direction(rng.uniform(0, 2 * np.pi))
        return geo.capsule(centre, tip, radius * 0.3, radius * rng.uniform(0.15, 0.35))
    angles = np.sort(rng.uniform(0, 2 * np.pi, 3))
    return centre + radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _framing(rng, size: int, extent: np.ndarray, framing: str) -> np.ndarray:
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


def _lookup(ids: Image.Image, table: np.ndarray) -> Image.Image:
    """Map the id image through a per-id table of grey levels or RGB colours (in PIL's C)."""
    if table.ndim == 1:
        return ids.point(table.astype(np.uint8).tolist() + [0] * (256 - len(table)))
    indexed = ids.copy()
    indexed.putpalette(np.clip(table, 0, 255).astype(np.uint8).tobytes())
    return indexed.convert("RGB")


def _paint(rng, ids: Image.Image, canvas: _Canvas, fields, ground_a, ground_b):
    """Colour the id map (two colours per polygon, mixed by its texture field) and light it;
    returns (part map, uint8 image). Per-pixel blending runs in PIL's C code, which made the
    generator about twice as fast as the same arithmetic on float numpy images."""
    size = canvas.size
    part_map = np.asarray(_lookup(ids, np.array([0, *canvas.parts])))
    selector = np.asarray(_lookup(ids, np.array([FIELD_BACKGROUND, *canvas.fields])))
    weight = np.where(selector == FIELD_ANIMAL, fields[FIELD_ANIMAL], fields[FIELD_BACKGROUND])
    weight = np.where(selector == FIELD_PLAIN, np.float32(0.0), weight)
    colour_a = _lookup(ids, np.stack([ground_a, *canvas.colour_a]))
    colour_b = _lookup(ids, np.stack([ground_b, *canvas.colour_b]))
    mixed = Image.composite(colour_b, colour_a, Image.fromarray((weight * 255).astype(np.uint8)))
    # Smooth illumination and sensor noise, so flat colours are not a shortcut either.
    light = Image.fromarray((255 * (0.65 + 0.35 * _smooth_noise(rng, size, 2))).astype(np.uint8))
    lit = ImageChops.multiply(mixed, Image.merge("RGB", (light, light, light)))
    row, col = (int(v) for v in rng.integers(0, size, size=2))
    noise = _noise_tile(size).crop((col, row, col + size, row + size))
    return part_map, np.array(ImageChops.add(lit, noise, scale=1.0, offset=-128))


def render_scene(
    category: str | None, size: int, rng: np.random.Generator, framing: str = "crop"
) -> Scene:
    """Render one scene of `size` x `size` pixels; `category` None draws background only."""
    if framing not in ("crop", "scene"):
        raise ValueError(f"framing must be 'crop' or 'scene', got {framing!r}")
    scale = rng.uniform(*SCENE_SCALE)
    # Coat colours are drawn independently of the category: categories differ only in shape.
    body, second, accent = _colour(rng), _colour(rng), _colour(rng)
    second = body + np.float32(COAT_CONTRAST) * (second - body)
    shade = body * np.float32(0.65)
    ground_a, ground_b = _ground_colour(rng, body, second), _ground_colour(rng, body, second)
    ground_b = ground_a + np.float32(GROUND_CONTRAST) * (ground_b - ground_a)
    canvas = _Canvas(size)

    animal = build_animal(category, rng) if category is not None else None
    if animal is not None:
        flip = -1.0 if rng.random() < FLIP_PROBABILITY else 1.0
        pose = geo.affine(flip, 1.0, rng.uniform(-MAX_ROTATION, MAX_ROTATION), 0.0, 0.0)
        vertices = geo.apply(pose, np.concatenate([p.polygon for p in animal.pieces]))
        extent = np.stack([vertices.min(axis=0), vertices.max(axis=0)])
        model_to_pixel = geo.compose(_framing(rng, size, extent, framing), pose)
        unit = float(np.sqrt(abs(np.linalg.det(model_to_pixel[:, :2]))))
    else:
        unit = size * scale / 3.5  # a typical animal is about 3.5 model units long
        model_to_pixel = np.array([[unit, 0.0, 0.0], [0.0, unit, 0.0]])
    fields = _texture_fields(rng, size, model_to_pixel, scale)

    # Distractors share the animal's colours and coat, so colour/texture cannot find parts.
    for _ in range(int(rng.integers(*DISTRACTORS))):
        centre = rng.uniform(0, size, size=2)
        radius = unit * rng.uniform(0.25, 0.8)
        kind = rng.random()
        if kind < DISTRACTOR_COAT_SHARE:
            look = (body, second, FIELD_ANIMAL)
        elif kind < DISTRACTOR_COAT_SHARE + 0.15:
            look = (accent, accent, FIELD_PLAIN)
        else:
            look = (ground_b, ground_a, FIELD_BACKGROUND)
        canvas.add(_random_shape(rng, centre, radius), 0, *look)

    if animal is not None:
        looks = {
            "body": (body, second, FIELD_ANIMAL),
            "shade": (shade, second * np.float32(0.65), FIELD_ANIMAL),
            "accent": (accent, accent, FIELD_PLAIN),
        }
        # One affine call for all pieces, then split: per-piece calls dominated the profile.
        counts = np.cumsum([len(piece.polygon) for piece in animal.pieces])[:-1]
        pixels = geo.apply(model_to_pixel, np.concatenate([p.polygon for p in animal.pieces]))
        for piece, polygon in zip(animal.pieces, np.split(pixels, counts), strict=True):
            canvas.add(polygon, PART_NAMES.index(piece.part) + 1, *looks[piece.look])
        if rng.random() < OCCLUSION_PROBABILITY:
            target = animal.landmarks[str(rng.choice(list(animal.landmarks)))]
            centre = geo.apply(model_to_pixel, target) + rng.normal(0, 0.3 * unit, size=2)
            shape = _random_shape(rng, centre, unit * rng.uniform(0.3, 0.5))
            canvas.add(shape, 0, ground_a, ground_b, FIELD_BACKGROUND)

    ids = canvas.fill_ids()
    part_map, image = _paint(rng, ids, canvas, fields, ground_a, ground_b)

    landmarks: dict[str, tuple[float, float]] = {}
    bbox = None
    if animal is not None:
        for name, point in animal.landmarks.items():
            x, y = geo.apply(model_to_pixel, point)
            col, row = int(np.floor(x)), int(np.floor(y))
            inside = 0 <= col < size and 0 <= row < size
            if inside and part_map[row, col] == PART_NAMES.index(LANDMARK_PARTS[name]) + 1:
                landmarks[name] = (float(x), float(y))
        rows, cols = np.flatnonzero(part_map.any(axis=1)), np.flatnonzero(part_map.any(axis=0))
        if len(rows):
            bbox = (float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1))
    return Scene(image=image, part_map=part_map, landmarks=landmarks, bbox=bbox)
