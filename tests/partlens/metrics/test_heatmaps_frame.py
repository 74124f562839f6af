"""The object-box frame shared by the Fig. 6 heat maps and the API's part positions."""

import numpy as np
import pytest

from partlens.metrics.heatmaps import box_frame, facing_mirror


def test_points_are_placed_in_their_images_box():
    points = np.array([[[10.0, 20.0], [30.0, 60.0]], [[5.0, 5.0], [0.0, 0.0]]])
    boxes = np.array([[10.0, 20.0, 30.0, 60.0], [0.0, 0.0, 10.0, 20.0]])
    relative = box_frame(points, boxes)
    np.testing.assert_allclose(relative[0], [[0.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(relative[1], [[0.5, 0.25], [0.0, 0.0]])
    # [N, 2] works too; outside the box is below 0 or above 1.
    np.testing.assert_allclose(box_frame(np.array([[40.0, 10.0]]), boxes[:1]), [[1.5, -0.25]])


def test_images_without_a_box_give_nan():
    boxes = np.array([[np.nan] * 4, [5.0, 5.0, 5.0, 9.0]])  # none, then zero width
    assert np.isnan(box_frame(np.ones((2, 3, 2)), boxes)).all()
    with pytest.raises(ValueError, match=r"bboxes \[N, 4\]"):
        box_frame(np.ones((2, 2)), np.ones((3, 4)))


def test_mirror_flips_x_of_the_chosen_images():
    points = np.array([[[12.0, 30.0]], [[2.5, 5.0]]])
    boxes = np.array([[10.0, 20.0, 30.0, 60.0], [0.0, 0.0, 10.0, 20.0]])
    relative = box_frame(points, boxes, mirror=np.array([True, False]))
    np.testing.assert_allclose(relative[:, 0], [[0.9, 0.25], [0.25, 0.25]])
    with pytest.raises(ValueError, match="mirror must be"):
        box_frame(points, boxes, mirror=np.array([True]))


def test_objects_whose_head_is_right_of_centre_are_mirrored():
    boxes = np.array([[0.0, 0.0, 40.0, 40.0]] * 4)
    nan = np.nan
    heads = [[30.0, 10.0], [10.0, 10.0], [nan, nan], [20.0, 10.0]]  # right, left, absent, centre
    landmarks = np.stack([np.array(heads), np.full((4, 2), 5.0)], axis=1)
    assert facing_mirror(landmarks, boxes, ["head", "tail"]).tolist() == [True, False, False, False]
    # Without a head landmark nothing is mirrored; shapes are checked.
    assert not facing_mirror(landmarks, boxes, ["beak", "tail"]).any()
    with pytest.raises(ValueError, match="landmarks must be"):
        facing_mirror(landmarks, boxes, ["head"])
