"""Local details that make each part of a built-in animal look like that part: eyes, noses and
inner ears on heads, knee patches and hooves, paws or claws on legs, a tuft and bands on tails.

Every detail is a "dark" or "light" piece (plain colours drawn per instance) that lies inside
its part's own shapes, so it changes what a part looks like but never its mask. Sizes,
positions and presence vary from instance to instance.
"""

from __future__ import annotations

import numpy as np

from partlens.data.builtin.geometry import Shapes

DETAIL_LOOKS: tuple[str, ...] = ("dark", "light")
KNEE_PATCH_PROBABILITY = 0.5
TAIL_BAND_PROBABILITY = 0.5
# Feet per foot style: (look, where the foot starts along the lower leg), drawn per instance.
FOOT_STYLES: dict[str, tuple[tuple[str, ...], tuple[float, float]]] = {
    "hooves": (("dark",), (0.72, 0.85)),
    "paws": (("light", "dark"), (0.65, 0.8)),
    "claws": (("dark",), (0.35, 0.55)),
}

# (look, index of the shape in the instance's `Shapes`), in paint order.
Details = list[tuple[str, int]]


def _other(look: str) -> str:
    return "light" if look == "dark" else "dark"


def _inner_capsule(
    shapes: Shapes, p0: complex, p1: complex, r0: float, r1: float, t0: float, t1: float
) -> int:
    """A capsule over the stretch [t0, t1] of the capsule p0 -> p1 (radii r0 -> r1), 10% thinner,
    so that it lies inside it (the capsule is the hull of its end circles)."""
    a, b = p0 + t0 * (p1 - p0), p0 + t1 * (p1 - p0)
    return shapes.capsule(a, b, 0.9 * (r0 + t0 * (r1 - r0)), 0.9 * (r0 + t1 * (r1 - r0)))


def head_details(
    rng: np.random.Generator,
    shapes: Shapes,
    centre: complex,
    axes: tuple[float, float],
    frame: tuple[complex, complex],
    nose: tuple[complex, float] | None,
) -> Details:
    """An eye with its highlight and, where the head has no beak, a nose or nostril.

    axes: the head ellipse's semi-axes (rx, ry); frame: its (forward, up) unit vectors; nose:
    the muzzle's tip and radius, or None for a nose on the head itself.
    """
    (rx, ry), (forward, up) = axes, frame
    eye = centre + forward * rng.uniform(0.2, 0.35) * rx + up * rng.uniform(0.15, 0.3) * ry
    radius = rng.uniform(0.15, 0.2) * ry
    details = [("dark", shapes.ellipse(eye, radius, radius))]
    glint = eye + (up + forward) * 0.25 * radius
    details.append(("light", shapes.ellipse(glint, 0.35 * radius, 0.35 * radius)))
    if nose is not None:
        tip, muzzle_r = nose
        size = rng.uniform(0.35, 0.5) * muzzle_r
        details.append(("dark", shapes.ellipse(tip - forward * 0.45 * muzzle_r, size, size * 0.8)))
    return details


def head_nose(centre: complex, rx: float, ry: float, forward: complex) -> tuple[complex, float]:
    """Where a head without a muzzle keeps its nose: a point well inside the head ellipse and a
    'muzzle' radius that keeps the nose inside it."""
    return centre + forward * 0.8 * rx, 0.35 * ry


def inner_ear(shapes: Shapes, outline: list[complex]) -> Details:
    """The inside of a pointed ear: its triangle shrunk toward its centroid."""
    middle = sum(outline) / len(outline)
    return [("light", shapes.polygon([middle + 0.55 * (p - middle) for p in outline]))]


def leg_details(
    rng: np.random.Generator, shapes: Shapes, joints: list[complex], radius: float, feet: str
) -> Details:
    """A foot (hoof, paw or claws: the end of the lower leg) and, sometimes, a knee patch, for a
    leg of joints (root, knee, foot) whose capsules have radii r*1.1 -> r -> r*0.9."""
    looks, start = FOOT_STYLES[feet]
    look = looks[int(rng.integers(len(looks)))]
    _, knee, foot = joints
    details = [
        (look, _inner_capsule(shapes, knee, foot, radius, 0.9 * radius, rng.uniform(*start), 1.0))
    ]
    if rng.random() < KNEE_PATCH_PROBABILITY:
        patch = rng.uniform(0.55, 0.8) * radius
        details.append((_other(look), shapes.ellipse(knee, patch, patch)))
    return details


def tail_details(
    rng: np.random.Generator, shapes: Shapes, joints: list[complex], radii: list[float]
) -> Details:
    """A tuft at the tip (the end of the last segment) and, sometimes, bands along the tail."""
    look = DETAIL_LOOKS[int(rng.integers(2))]
    start = rng.uniform(0.3, 0.6)
    details = [(look, _inner_capsule(shapes, joints[2], joints[3], radii[2], radii[3], start, 1.0))]
    if rng.random() < TAIL_BAND_PROBABILITY:
        for k in (0, 1):
            middle = rng.uniform(0.4, 0.6)
            band = _inner_capsule(
                shapes,
                joints[k],
                joints[k + 1],
                radii[k],
                radii[k + 1],
                middle - 0.15,
                middle + 0.15,
            )
            details.append((_other(look), band))
    return details
