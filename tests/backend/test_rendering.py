"""The overlays draw the library's region S_f and use the library's colour map."""

from __future__ import annotations

import numpy as np
import pytest

from backend.rendering import (
    OUTSIDE_DIM,
    load_png,
    overlay,
    png_bytes,
    rf_region,
    rf_region_overlay,
)
from partlens.metrics import activation_thresholds, colorize, part_interpretability, rf_disks

SIZE = 64
GREY = 200


def centers(side: int = 8, stride: float = 8.0) -> np.ndarray:
    """RF centres p(mu) [h, w, 2] (x, y) of a side x side map with the given stride."""
    ys, xs = np.mgrid[0:side, 0:side]
    return np.stack([stride * xs + stride / 2, stride * ys + stride / 2], axis=-1).astype(float)


@pytest.fixture
def activation() -> np.ndarray:
    """A map firing at three units, two of them neighbours (their disks overlap)."""
    values = np.zeros((8, 8), dtype=np.float32)
    values[2, 5], values[2, 6], values[6, 1] = 1.0, 0.8, 0.9
    return values


def rendered_region(image: np.ndarray) -> np.ndarray:
    """Pixels the overlay did not dim (inside S_f or on its outline) of a uniform GREY image."""
    dimmed = np.uint8(GREY * OUTSIDE_DIM)
    return ~(image == dimmed).all(axis=2)


def test_the_rendered_region_is_the_librarys_region(activation):
    grid, radius = centers(), 6.5
    # T_f as part interpretability computes it, over this single image.
    maps = activation[None, None]
    threshold = float(activation_thresholds(maps, quantile=0.05)[0])
    image = np.full((SIZE, SIZE, 3), GREY, dtype=np.uint8)
    region = rendered_region(rf_region_overlay(image, activation, grid, radius, threshold))
    assert region.any() and not region.all()
    # The library's disks around the units above T_f, united.
    disks = rf_disks(grid, radius, (SIZE, SIZE)).numpy()
    expected = disks[(activation > threshold).ravel()].any(axis=0).reshape(SIZE, SIZE)
    np.testing.assert_array_equal(region, expected)
    np.testing.assert_array_equal(
        rf_region(activation, grid, radius, threshold, (SIZE, SIZE)), expected
    )

    # And the metric scores exactly that region: as a part mask it has IoU 1 (P_f = 1), while
    # the same region less one pixel falls below IoU 0.999.
    def score(mask: np.ndarray) -> float:
        masks = mask[None, None]
        return part_interpretability(maps, masks, grid, radius, 0.05, 0.999).mean

    assert score(region) == 1.0
    smaller = region.copy()
    smaller[np.argwhere(region)[0][0], np.argwhere(region)[0][1]] = False
    assert score(smaller) == 0.0


def test_nothing_above_the_threshold_dims_everything(activation):
    image = np.full((SIZE, SIZE, 3), GREY, dtype=np.uint8)
    out = rf_region_overlay(image, activation, centers(), 6.0, threshold=2.0)
    assert not rendered_region(out).any()


def test_heat_overlay_uses_the_library_colour_map():
    black = np.zeros((SIZE, SIZE, 3), dtype=np.uint8)
    hot = overlay(black, np.ones((8, 8), dtype=np.float32), scale=1.0)
    # Black base, full heat: the colour of 1.0 at opacity 0.85.
    expected = (colorize(np.ones((SIZE, SIZE))).astype(np.float32) * 0.85).astype(np.uint8)
    np.testing.assert_array_equal(hot, expected)


def test_png_round_trip_is_lossless():
    image = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    np.testing.assert_array_equal(load_png(png_bytes(image)), image)
