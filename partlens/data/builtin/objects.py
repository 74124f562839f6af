"""Non-animal objects for single-category negatives: vehicles, chairs, tables and plants.

The paper's negatives are images of other categories, most of them not animals. These objects
are drawn by the same generator as the animals (model frame about 3.5 units long, the same
looks: coat and limb textures, dark and light details), so that neither texture nor framing
tells an animal from an object; only the shapes do. They have no parts and no landmarks: every
pixel of theirs carries OBJECT_PART, which no part mask contains.
"""

from __future__ import annotations

import math

import numpy as np

from partlens.data.builtin.animals import Animal, Piece
from partlens.data.builtin.geometry import Shapes

OBJECT_KINDS: tuple[str, ...] = ("vehicle", "chair", "table", "plant")
OBJECT_PART = "object"

# (look, index of the shape in the instance's `Shapes`), in paint order.
_Draft = list[tuple[str, int]]


def _box(shapes: Shapes, x0: float, y0: float, x1: float, y1: float) -> int:
    return shapes.polygon([complex(x0, y0), complex(x1, y0), complex(x1, y1), complex(x0, y1)])


def _vehicle(rng: np.random.Generator, shapes: Shapes) -> _Draft:
    half, height = rng.uniform(1.4, 1.8), rng.uniform(0.6, 0.9)
    cabin_back, cabin_front = rng.uniform(-0.9, -0.5) * half, rng.uniform(0.2, 0.6) * half
    roof = -height / 2 - rng.uniform(0.5, 0.8)
    cabin = [
        complex(cabin_back, -height / 2),
        complex(cabin_back + 0.2, roof),
        complex(cabin_front - 0.25, roof),
        complex(cabin_front, -height / 2),
    ]
    draft = [
        ("body", shapes.polygon(cabin)),
        ("body", _box(shapes, -half, -height / 2, half, height / 2)),
    ]
    # A window inside the cabin: the cabin shrunk toward its centre.
    centre = sum(cabin) / 4
    draft.append(("light", shapes.polygon([centre + 0.7 * (p - centre) for p in cabin])))
    radius = rng.uniform(0.3, 0.42)
    for x in (-0.62 * half, 0.62 * half):
        wheel = complex(x, height / 2)
        draft += [("dark", shapes.ellipse(wheel, radius, radius)),
                  ("light", shapes.ellipse(wheel, 0.4 * radius, 0.4 * radius))]  # fmt: skip
    return draft


def _legged(rng: np.random.Generator, shapes: Shapes, *, back: bool) -> _Draft:
    """A chair (with a back rest) or a table: a top board on 2-4 legs."""
    half = rng.uniform(0.7, 0.95) if back else rng.uniform(1.3, 1.7)
    top, thick = 0.0, rng.uniform(0.12, 0.22)
    length, leg_r = rng.uniform(1.0, 1.4), rng.uniform(0.07, 0.12)
    draft: _Draft = []
    legs = int(rng.integers(2, 5))
    for k in range(legs):
        x = -0.9 * half + 1.8 * half * k / (legs - 1)
        splay = rng.uniform(-0.1, 0.1)
        draft.append(
            ("limb", shapes.capsule(complex(x, top), complex(x + splay, length), leg_r, leg_r))
        )
    draft.append(("body", _box(shapes, -half, top - thick, half, top + thick)))
    if back:
        rise = rng.uniform(1.0, 1.5)
        lean = rng.uniform(-0.3, 0.0)
        draft.append(
            ("body", shapes.capsule(complex(-half, top), complex(-half + lean, -rise), 0.12, 0.1))
        )
    return draft


def _plant(rng: np.random.Generator, shapes: Shapes) -> _Draft:
    pot_w, pot_h = rng.uniform(0.4, 0.6), rng.uniform(0.5, 0.8)
    height = rng.uniform(1.6, 2.2)
    draft: _Draft = [
        (
            "limb",
            shapes.capsule(complex(0, 0), complex(rng.uniform(-0.2, 0.2), -height), 0.08, 0.05),
        )
    ]
    for k in range(int(rng.integers(4, 8))):
        along = -height * (0.25 + 0.7 * k / 7)
        side = 1 if k % 2 else -1
        angle = side * rng.uniform(0.3, 0.9)
        length = rng.uniform(0.35, 0.6)
        centre = complex(side * length * 0.8, along)
        draft.append(("body", shapes.ellipse(centre, length, 0.15, angle)))
    if rng.random() < 0.5:
        draft.append(("light", shapes.ellipse(complex(0, -height), 0.25, 0.25)))
    pot = [
        complex(-pot_w, 0),
        complex(pot_w, 0),
        complex(0.75 * pot_w, pot_h),
        complex(-0.75 * pot_w, pot_h),
    ]
    draft.append(("accent", shapes.polygon(pot)))
    return draft


def build_object(kind: str, rng: np.random.Generator) -> Animal:
    """Sample one instance of the non-animal object `kind` (see OBJECT_KINDS) in a model frame
    like the animals'; it has pieces but no landmarks."""
    shapes = Shapes()
    if kind == "vehicle":
        draft = _vehicle(rng, shapes)
    elif kind in ("chair", "table"):
        draft = _legged(rng, shapes, back=kind == "chair")
    elif kind == "plant":
        draft = _plant(rng, shapes)
    else:
        raise ValueError(f"unknown built-in object {kind!r}; known: {sorted(OBJECT_KINDS)}")
    vertices, spans = shapes.build()
    tilt = rng.uniform(-0.1, 0.1)
    c, s = math.cos(tilt), math.sin(tilt)
    return Animal(
        category=kind,
        vertices=vertices @ np.array([[c, s], [-s, c]]),
        pieces=[Piece(OBJECT_PART, look, spans[k]) for look, k in draft],
        landmark_names=(),
        landmarks=np.zeros((0, 2)),
    )
