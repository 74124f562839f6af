"""Polygon primitives and affine maps for the procedural animals (all vectorised numpy)."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

Polygon = np.ndarray  # float [N, 2] of (x, y) vertices


@lru_cache(maxsize=16)
def _arc(start: float, stop: float, n: int, endpoint: bool) -> tuple[np.ndarray, np.ndarray]:
    # Cached because building a few hundred polygons per image made linspace/cos a hot spot.
    t = np.linspace(start, stop, n, endpoint=endpoint)
    return np.cos(t), np.sin(t)


def ellipse(cx: float, cy: float, rx: float, ry: float, angle: float = 0.0, n: int = 20) -> Polygon:
    """An ellipse with semi-axes (rx, ry), rotated by `angle` radians about its centre."""
    cos_t, sin_t = _arc(0.0, 2.0 * np.pi, n, False)
    x, y = rx * cos_t, ry * sin_t
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([cx + c * x - s * y, cy + s * x + c * y], axis=1)


def capsule(p0: np.ndarray, p1: np.ndarray, r0: float, r1: float, n: int = 7) -> Polygon:
    """A tapered capsule around the segment p0 -> p1 with radius r0 at p0 and r1 at p1."""
    dx, dy = float(p1[0] - p0[0]), float(p1[1] - p0[1])
    length = math.hypot(dx, dy)
    c, s = (dx / length, dy / length) if length > 0 else (1.0, 0.0)
    # Half circles at each end, swept on the side facing away from the other end; one small
    # matmul rotates the cached unit arc (this function runs ~15 times per image).
    rotated = _unit_arc(n) @ np.array([[c, s], [-s, c]])
    return np.concatenate([p1 + r1 * rotated, p0 - r0 * rotated])


@lru_cache(maxsize=8)
def _unit_arc(n: int) -> np.ndarray:
    cos_t, sin_t = _arc(-np.pi / 2, np.pi / 2, n, True)
    return np.stack([cos_t, sin_t], axis=1)


def polyline_point(points: np.ndarray, fraction: float) -> np.ndarray:
    """The point at `fraction` of the arc length along a polyline [K, 2]."""
    seg = np.diff(points, axis=0)
    lengths = np.hypot(seg[:, 0], seg[:, 1])
    target = fraction * lengths.sum()
    cumulative = np.concatenate([[0.0], np.cumsum(lengths)])
    k = int(np.clip(np.searchsorted(cumulative, target) - 1, 0, len(seg) - 1))
    t = (target - cumulative[k]) / max(lengths[k], 1e-12)
    return points[k] + t * seg[k]


def direction(angle: float) -> np.ndarray:
    """Unit vector at `angle` radians above the +x axis, in image coordinates (y grows down)."""
    return np.array([np.cos(angle), -np.sin(angle)])


def affine(scale_x: float, scale_y: float, angle: float, tx: float, ty: float) -> np.ndarray:
    """A 2x3 affine map: rotate by `angle`, then scale per axis, then translate."""
    c, s = np.cos(angle), np.sin(angle)
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
    linear = np.linalg.inv(transform[:, :2])
    return np.hstack([linear, -(linear @ transform[:, 2:])])
