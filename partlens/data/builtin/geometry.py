"""Polygon primitives and affine maps for the procedural animals.

Points under construction are Python complex numbers x + iy (y grows down): a scene takes a few
hundred 2-D operations, and plain-Python complex arithmetic is several times cheaper than numpy
calls on 2-vectors, which dominated the generator's profile. `Shapes` collects ellipses,
capsules and explicit polygons and builds all their vertices in one vectorised numpy pass.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Sequence
from functools import lru_cache
from itertools import accumulate, pairwise

import numpy as np

Polygon = np.ndarray  # float [N, 2] of (x, y) vertices
ELLIPSE_VERTICES = 20
CAPSULE_ARC_VERTICES = 7  # per end; a capsule has twice as many vertices


@lru_cache(maxsize=4)
def _unit_circle(n: int) -> np.ndarray:
    return np.exp(1j * np.linspace(0.0, 2.0 * np.pi, n, endpoint=False))


@lru_cache(maxsize=4)
def _unit_arc(n: int) -> np.ndarray:
    # The half circle facing +x; each capsule end is this arc turned by the axis direction.
    return np.exp(1j * np.linspace(-np.pi / 2, np.pi / 2, n))


def direction(angle: float) -> complex:
    """Unit vector at `angle` radians above the +x axis, in image coordinates (y grows down)."""
    return complex(math.cos(angle), -math.sin(angle))


def polyline_point(points: Sequence[complex], fraction: float) -> complex:
    """The point at `fraction` of the arc length along a polyline."""
    lengths = [abs(b - a) for a, b in pairwise(points)]
    remaining = fraction * sum(lengths)
    for k, length in enumerate(lengths):
        if remaining <= length or k == len(lengths) - 1:
            return points[k] + remaining / max(length, 1e-12) * (points[k + 1] - points[k])
        remaining -= length
    return points[0]


class Shapes:
    """Polygons collected in order and built together: `build` returns all vertices [N, 2] and,
    per shape in the order added, its slice of them."""

    def __init__(self) -> None:
        self._ellipses: list[tuple[complex, float, float, complex]] = []
        self._capsules: list[tuple[complex, complex, float, float, complex]] = []
        self._polygons: list[Sequence[complex]] = []
        self._order: list[tuple[int, int]] = []  # (kind, index within that kind) per shape

    def ellipse(self, centre: complex, rx: float, ry: float, angle: float = 0.0) -> int:
        """Add an ellipse with semi-axes (rx, ry), rotated by `angle` radians; returns its index."""
        self._ellipses.append((centre, rx, ry, cmath.exp(1j * angle)))
        return self._add(0, len(self._ellipses) - 1)

    def capsule(self, p0: complex, p1: complex, r0: float, r1: float) -> int:
        """Add a tapered capsule around p0 -> p1, radius r0 at p0 and r1 at p1."""
        axis = p1 - p0
        length = abs(axis)
        self._capsules.append((p0, p1, r0, r1, axis / length if length > 0 else 1.0 + 0j))
        return self._add(1, len(self._capsules) - 1)

    def polygon(self, points: Sequence[complex]) -> int:
        """Add a polygon given by its vertices."""
        self._polygons.append(points)
        return self._add(2, len(self._polygons) - 1)

    def _add(self, kind: int, index: int) -> int:
        self._order.append((kind, index))
        return len(self._order) - 1

    def build(self) -> tuple[Polygon, list[slice]]:
        """All vertices as float [N, 2] (ellipses, then capsules, then polygons) and each
        shape's slice of them, in the order the shapes were added."""
        blocks = [np.zeros(0, dtype=complex)]
        # One array per kind (radii ride along as complex): numpy calls per shape were the cost.
        if self._ellipses:
            centre, rx, ry, turn = np.array(self._ellipses).T[:, :, None]
            circle = _unit_circle(ELLIPSE_VERTICES)
            blocks.append(
                (centre + (rx.real * circle.real + 1j * ry.real * circle.imag) * turn).ravel()
            )
        if self._capsules:
            p0, p1, r0, r1, axis = np.array(self._capsules).T[:, :, None]
            # Half circles at each end, swept on the side facing away from the other end.
            arc = _unit_arc(CAPSULE_ARC_VERTICES) * axis
            blocks.append(np.concatenate([p1 + r1.real * arc, p0 - r0.real * arc], axis=1).ravel())
        if self._polygons:
            blocks.append(np.array([p for points in self._polygons for p in points]))
        vertices = np.concatenate(blocks)
        capsules_start = ELLIPSE_VERTICES * len(self._ellipses)
        polygon_starts = list(
            accumulate(
                (len(points) for points in self._polygons),
                initial=capsules_start + 2 * CAPSULE_ARC_VERTICES * len(self._capsules),
            )
        )
        spans = []
        for kind, index in self._order:
            if kind == 0:
                begin = ELLIPSE_VERTICES * index
                spans.append(slice(begin, begin + ELLIPSE_VERTICES))
            elif kind == 1:
                begin = capsules_start + 2 * CAPSULE_ARC_VERTICES * index
                spans.append(slice(begin, begin + 2 * CAPSULE_ARC_VERTICES))
            else:
                spans.append(slice(polygon_starts[index], polygon_starts[index + 1]))
        # complex128 is stored as (real, imag) pairs: the view is the [N, 2] array, no copy.
        return vertices.view(np.float64).reshape(-1, 2), spans


def affine(scale_x: float, scale_y: float, angle: float, tx: float, ty: float) -> np.ndarray:
    """A 2x3 affine map: rotate by `angle`, then scale per axis, then translate."""
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[scale_x * c, -scale_x * s, tx], [scale_y * s, scale_y * c, ty]])


def compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The 2x3 affine map `outer` after `inner`."""
    full = np.vstack([inner, [0.0, 0.0, 1.0]])
    return outer @ full


def apply(transform: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine map to points [..., 2]."""
    return points @ transform[:, :2].T + transform[:, 2]


def invert(transform: np.ndarray) -> np.ndarray:
    """Inverse of an invertible 2x3 affine map."""
    (a, b, tx), (c, d, ty) = transform.tolist()
    det = a * d - b * c
    # The 2x2 inverse written out: np.linalg.inv cost more than the rest of this function.
    return np.array([[d, -b, b * ty - d * tx], [-c, a, c * tx - a * ty]]) / det
