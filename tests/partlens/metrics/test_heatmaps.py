import io

import numpy as np
import pytest
from PIL import Image

from partlens.metrics import colorize, part_heatmap_png, part_heatmaps, render_part_heatmap


def test_parts_land_at_their_bbox_relative_position():
    # Two images of "cat" with different boxes; the part is always at the box's (0.25, 0.75).
    bboxes = np.array([[10.0, 20, 50, 60], [0, 0, 80, 40], [0, 0, 10, 10]])
    positions = np.array([[[20.0, 50]], [[20.0, 30]], [[5.0, 5.0]]])
    positions = np.concatenate([positions, np.full((3, 1, 2), np.nan)], axis=1)  # filter w/o part
    maps = part_heatmaps(positions, bboxes, np.array([0, 0, 1]), ["cat", "dog"], grid=8, sigma=0)
    assert maps.heat.shape == (2, 8, 8)
    assert maps.heat[0, 6, 2] == pytest.approx(1.0)  # row = y cell 6, column = x cell 2
    assert maps.heat[1, 4, 4] == pytest.approx(1.0)
    assert maps.points.tolist() == [2, 1] and maps.images.tolist() == [2, 1]
    assert maps.mean_image is None


def test_gaussian_splat_keeps_unit_mass_and_drops_parts_outside_the_box():
    bboxes = np.array([[0.0, 0, 32, 32], [np.nan] * 4])
    positions = np.array([[[16.0, 16], [40.0, 5]], [[1.0, 1], [2.0, 2]]])
    maps = part_heatmaps(positions, bboxes, np.array([0, 0]), ["cat"], grid=16, sigma=2.0)
    assert maps.heat[0].sum() == pytest.approx(1.0)
    assert np.unravel_index(maps.heat[0].argmax(), (16, 16)) == (8, 8)
    assert maps.points.tolist() == [1] and maps.images.tolist() == [1]


def test_mean_object_image_averages_the_box_crops():
    images = [np.zeros((20, 20, 3), np.uint8), np.zeros((20, 20, 3), np.uint8)]
    images[0][5:15, 5:15] = 200
    images[1][:, :] = 100
    bboxes = np.array([[5.0, 5, 15, 15], [0, 0, 20, 20]])
    positions = np.full((2, 1, 2), 10.0)
    maps = part_heatmaps(positions, bboxes, np.array([0, 0]), ["cat"], images, grid=4)
    assert maps.mean_image.shape == (1, 4, 4, 3)
    assert np.all(maps.mean_image[0] == 150)


def test_png_renders_the_blend():
    positions = np.full((1, 1, 2), 10.0)
    maps = part_heatmaps(positions, np.array([[0.0, 0, 20, 20]]), np.array([0]), ["cat"], grid=8)
    png = part_heatmap_png(maps, "cat", size=32)
    image = Image.open(io.BytesIO(png))
    assert image.size == (32, 32) and image.mode == "RGB"
    hot = np.asarray(render_part_heatmap(maps, 0, size=8, alpha=1.0))[4, 4]
    assert hot.tolist() == colorize(np.array(1.0)).tolist()
    with pytest.raises(ValueError, match="unknown category"):
        render_part_heatmap(maps, 3)
    assert colorize(np.array([0.0, 1.0])).tolist() == [[0, 0, 4], [252, 255, 164]]


def test_bad_inputs_raise():
    positions = np.zeros((2, 1, 2))
    with pytest.raises(ValueError, match="bboxes"):
        part_heatmaps(positions, np.zeros((2, 3)), np.array([0, 0]), ["cat"])
    with pytest.raises(ValueError, match="image_categories"):
        part_heatmaps(positions, np.zeros((2, 4)), np.array([0, 1]), ["cat"])
    with pytest.raises(ValueError, match="images"):
        part_heatmaps(positions, np.zeros((2, 4)), np.array([0, 0]), ["cat"], [np.zeros((2, 2))])
    bad = [np.zeros((4, 4), np.uint8)] * 2
    with pytest.raises(ValueError, match=r"images\[0\]"):
        part_heatmaps(positions, np.array([[0.0, 0, 4, 4]] * 2), np.array([0, 0]), ["cat"], bad)


def test_mirrored_images_flip_their_parts_and_their_crop():
    # Two objects filling a 20 x 20 image, facing opposite ways: a part at the left end of the
    # first and at the right end of the second is the same part once the second is mirrored.
    images = [np.zeros((20, 20, 3), np.uint8), np.zeros((20, 20, 3), np.uint8)]
    images[0][:, :10] = 200
    images[1][:, 10:] = 200
    bboxes = np.array([[0.0, 0, 20, 20]] * 2)
    positions = np.array([[[2.0, 10.0]], [[18.0, 10.0]]])
    plain = part_heatmaps(positions, bboxes, np.array([0, 0]), ["cat"], images, grid=4, sigma=0)
    aligned = part_heatmaps(
        positions, bboxes, np.array([0, 0]), ["cat"], images, mirror=[False, True], grid=4, sigma=0
    )
    assert plain.heat[0, 2, 0] == plain.heat[0, 2, 3] == 0.5
    assert aligned.heat[0, 2, 0] == 1.0
    # Both crops agree once mirrored: bright on the left end, dark on the right one.
    assert np.all(aligned.mean_image[0, :, 0] == 200) and np.all(aligned.mean_image[0, :, 3] == 0)
    assert np.all(plain.mean_image[0] == 100)
    with pytest.raises(ValueError, match="mirror"):
        part_heatmaps(positions, bboxes, np.array([0, 0]), ["cat"], mirror=[True])
