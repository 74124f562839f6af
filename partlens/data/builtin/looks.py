"""Colours and textures of the built-in scenes: the looks a polygon is painted with.

Every polygon carries a look; each look has a first and a second colour mixed by one of three
texture fields: the ground's, the torso coat's and the limbs' (both in the animal's model
frame, so they deform with the body). The coat and the limb pattern differ in kind, scale and
orientation, so a local patch tells a torso from a leg or a tail; plain looks (face, eyes,
hooves, tufts...) have two equal colours. Texture fields are built from 1-D factors (small
matrix products), never evaluated pixel by pixel.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from partlens.data.builtin import geometry as geo

# Looks, in the order of the palettes. Plain looks come first; from COAT on a look uses the
# coat's texture, from LIMB on the limbs' (see `texture_weight`).
GROUND, GROUND_SWAPPED, ACCENT, FACE, DARK, LIGHT, COAT, SHADE, LIMB, LIMB_SHADE = range(10)
PIECE_LOOKS: dict[str, int] = {
    "body": COAT,
    "shade": SHADE,
    "limb": LIMB,
    "limb_shade": LIMB_SHADE,
    "face": FACE,
    "accent": ACCENT,
    "dark": DARK,
    "light": LIGHT,
}

COAT_KINDS: tuple[str, ...] = ("plain", "stripes", "spots", "patches")
LIMB_KINDS: tuple[str, ...] = ("plain", "stripes", "spots")
GROUND_KINDS: tuple[str, ...] = ("stripes", "patches", "spots")
# Pattern periods in model units (torso half-length ~1): the coat's is 2-4x the limbs'.
COAT_PERIOD: tuple[float, float] = (0.3, 0.5)
LIMB_PERIOD: tuple[float, float] = (0.1, 0.16)
MIN_CONTRAST = 100.0  # least RGB distance (0-255 scale) between coat colours and ground colours
# How far a pattern's second colour lies from its first, toward an independent random colour
# (1: independent, 0: no visible pattern), for the coat, the limbs and the ground.
COAT_CONTRAST = 0.35
LIMB_CONTRAST = 0.45
GROUND_CONTRAST = 0.35
# How far limbs and face lie from the coat colour, toward an independent colour: one animal,
# a family of colours.
LIMB_TINT = 0.25
FACE_TINT = 0.3
# Eyes, hooves and tufts: a random colour pulled this far toward black (dark) or white (light).
DETAIL_PULL = 0.75


@lru_cache(maxsize=8)
def pixel_centres(size: int) -> NDArray[np.float64]:
    """Pixel-centre coordinates 0.5, 1.5, ... of a `size`-pixel side."""
    return np.arange(size, dtype=np.float64) + 0.5


@lru_cache(maxsize=32)
def bilinear_weights(size: int, cells: int) -> NDArray[np.float32]:
    """[size, cells] weights of PIL's bilinear upsampling (pixel centres aligned, edges
    clamped)."""
    position = np.clip(pixel_centres(size) * cells / size - 0.5, 0, cells - 1)
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


def smooth_noise(
    rng: np.random.Generator, size: int, cells: int, scale: float, offset: float
) -> NDArray[np.float32]:
    """Blobby noise in [offset, offset + scale] (float32 [size, size]): a random `cells` x
    `cells` grid upsampled bilinearly, as two small matrix products."""
    weights = bilinear_weights(size, cells)
    grid = (scale * rng.random((cells, cells)) + offset).astype(np.float32)
    return (weights @ grid @ weights.T).astype(np.float32, copy=False)


def _wave_factors(
    phase: NDArray[np.float64], size: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Factors (rows [S, 2], columns [2, S]) whose product is sin(a x + b y + c) over the pixel
    centres (x, y), for phase = (a, b, c): sin(p + q) = sin p cos q + cos p sin q, so a wave
    over the whole image costs one small matrix product instead of a sine per pixel."""
    centres = pixel_centres(size)
    x, y = phase[0] * centres, phase[1] * centres + phase[2]
    return np.stack([np.sin(y), np.cos(y)], axis=1), np.stack([np.cos(x), np.sin(x)])


def pattern(
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
        weight = smooth_noise(rng, size, int(rng.integers(3, 7)), 1020.0, -382.5)
    return np.clip(weight, 0.0, 255.0, out=weight).astype(np.uint8)


def _turn(angle: float) -> NDArray[np.float64]:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, s], [-s, c]])


def texture_fields(
    rng: np.random.Generator, size: int, model_to_pixel: NDArray[np.float64], scale: float
) -> tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.uint8]]:
    """uint8 texture weights of the background, the torso coat and the limbs."""
    to_model = geo.invert(model_to_pixel)
    # rng.integers(n) draws exactly what rng.choice over n items draws, at a fifth of the cost.
    turn = _turn(rng.uniform(0, np.pi))
    coat_kind = COAT_KINDS[rng.integers(len(COAT_KINDS))]
    coat = pattern(rng, coat_kind, turn @ to_model, size, rng.uniform(*COAT_PERIOD))
    # Limb bands run roughly across the legs (near horizontal in the model frame), unlike the
    # coat's free orientation.
    turn = _turn(np.pi / 2 + rng.uniform(-0.35, 0.35))
    limb_kind = LIMB_KINDS[rng.integers(len(LIMB_KINDS))]
    limbs = pattern(rng, limb_kind, turn @ to_model, size, rng.uniform(*LIMB_PERIOD))
    turn = _turn(rng.uniform(0, np.pi))
    ground_kind = GROUND_KINDS[rng.integers(len(GROUND_KINDS))]
    period = size * scale * rng.uniform(0.1, 0.25)
    ground = pattern(rng, ground_kind, np.hstack([turn, np.zeros((2, 1))]), size, period)
    return ground, coat, limbs


def texture_weight(
    looks: NDArray[np.integer],
    fields: tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.uint8]],
) -> NDArray[np.uint8]:
    """Per pixel, the weight of the texture field its look uses (`looks`: look per pixel)."""
    ground, coat, limbs = fields
    return np.where(looks >= LIMB, limbs, np.where(looks >= COAT, coat, ground))


def _toward(
    colour: NDArray[np.float32], other: NDArray[np.float32], share: float
) -> NDArray[np.float32]:
    return colour + np.float32(share) * (other - colour)


def palette(rng: np.random.Generator) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """First and second colour of every look (GROUND ... LIMB_SHADE), each float32 [10, 3]."""
    # Coat colours are drawn independently of the category: categories differ only in shape.
    body, second, accent = _colour(rng), _colour(rng), _colour(rng)
    second = _toward(body, second, COAT_CONTRAST)
    limb = _toward(body, _colour(rng), LIMB_TINT)
    limb_second = _toward(limb, _colour(rng), LIMB_CONTRAST)
    face = _toward(body, _colour(rng), FACE_TINT)
    dark = _toward(_colour(rng), np.zeros(3, np.float32), DETAIL_PULL)
    light = _toward(_colour(rng), np.full(3, 255.0, np.float32), DETAIL_PULL)
    ground_a, ground_b = _ground_colour(rng, body, second), _ground_colour(rng, body, second)
    ground_b = _toward(ground_a, ground_b, GROUND_CONTRAST)
    shade = np.float32(0.65)
    plain = [accent, face, dark, light]
    colours_a = np.stack([ground_a, ground_b, *plain, body, shade * body, limb, shade * limb])
    colours_b = np.stack(
        [ground_b, ground_a, *plain, second, shade * second, limb_second, shade * limb_second]
    )
    return colours_a, colours_b
