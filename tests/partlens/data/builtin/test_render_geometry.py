import numpy as np
from PIL import Image

from partlens.data.builtin import geometry as geo
from partlens.data.builtin import looks


def test_shapes_build_vertices_and_spans_in_add_order():
    shapes = geo.Shapes()
    shapes.capsule(0j, 2 + 0j, 0.5, 0.25)
    shapes.polygon([0j, 1 + 0j, 1j])
    shapes.ellipse(1 + 2j, 2.0, 1.0, np.pi / 2)
    vertices, spans = shapes.build()
    assert vertices.shape == (2 * geo.CAPSULE_ARC_VERTICES + 3 + geo.ELLIPSE_VERTICES, 2)
    capsule, triangle, ellipse = (vertices[span] for span in spans)
    assert len(capsule) == 2 * geo.CAPSULE_ARC_VERTICES and len(ellipse) == geo.ELLIPSE_VERTICES
    np.testing.assert_allclose(triangle, [[0, 0], [1, 0], [0, 1]])
    # Capsule: a half circle of radius 0.25 around the tip, then one of 0.5 around the root.
    tip_end, root_end = np.split(capsule, 2)
    np.testing.assert_allclose(np.hypot(*(tip_end - [2, 0]).T), 0.25)
    np.testing.assert_allclose(np.hypot(*root_end.T), 0.5)
    assert (tip_end[:, 0] >= 2 - 1e-9).all() and (root_end[:, 0] <= 1e-9).all()
    # Ellipse turned by 90 degrees: the long axis (2) lies along y.
    np.testing.assert_allclose(ellipse[0], [1, 4], atol=1e-9)
    np.testing.assert_allclose(np.ptp(ellipse, axis=0), [2, 4], atol=0.1)


def test_polyline_point_walks_arc_length():
    points = [0j, 3 + 0j, 3 + 1j]
    assert geo.polyline_point(points, 0.5) == 2 + 0j
    assert abs(geo.polyline_point(points, 1.0) - (3 + 1j)) < 1e-12
    assert geo.direction(np.pi / 2) == complex(np.cos(np.pi / 2), -1.0)


def test_factorised_patterns_match_per_pixel_formulas():
    # Stripes and spots are built from 1-D factors; they must equal the direct formulas.
    size, period = 48, 0.3
    to_pattern = np.array([[0.02, -0.013, 0.4], [0.013, 0.02, -0.2]])
    xs, ys = np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5)
    u, v = (2 * np.pi / period * (m[0] * xs + m[1] * ys + m[2]) for m in to_pattern)
    rng = np.random.default_rng(0)
    stripes = looks.pattern(rng, "stripes", to_pattern, size, period).astype(int)
    expected = (np.clip(0.5 + 2 * np.sin(u), 0, 1) * 255).astype(int)
    assert np.abs(stripes - expected).max() <= 1
    spots = looks.pattern(rng, "spots", to_pattern, size, period)
    assert ((spots == 255) == (np.sin(u) * np.sin(v) > 0.55)).mean() > 0.999


def test_bilinear_weights_match_pil_resize():
    grid = np.random.default_rng(1).random((4, 4)) * 255
    resized = Image.fromarray(grid.astype(np.uint8)).resize((40, 40), Image.Resampling.BILINEAR)
    weights = looks.bilinear_weights(40, 4)
    ours = weights @ grid.astype(np.uint8).astype(np.float32) @ weights.T
    assert np.abs(ours - np.asarray(resized)).max() <= 1.0
