import numpy as np
import pytest

from partlens.data import Sample, crop_resize_sample, crop_to_bbox, flip_sample


def _square_sample() -> Sample:
    """A 20x10 image with a bright square part at columns 2..5, rows 3..6."""
    image = np.zeros((10, 20, 3), dtype=np.uint8)
    mask = np.zeros((10, 20), dtype=bool)
    mask[3:7, 2:6] = True
    image[mask] = 200
    return Sample(image, 1, "cat", (2.0, 3.0, 6.0, 7.0), {"head": mask}, {"head": (4.0, 5.0)}, 3)


def test_flip_moves_everything_consistently():
    flipped = flip_sample(_square_sample())
    assert flipped.bbox == (14.0, 3.0, 18.0, 7.0)
    assert flipped.landmarks["head"] == (16.0, 5.0)
    assert np.flatnonzero(flipped.part_masks["head"].any(axis=0)).tolist() == [14, 15, 16, 17]
    assert (flipped.image[..., 0] == 200).sum() == 16 and flipped.image[5, 16, 0] == 200
    assert flip_sample(flipped).landmarks == _square_sample().landmarks


def test_crop_resize_scales_annotations():
    cropped = crop_resize_sample(_square_sample(), (2.0, 3.0, 6.0, 7.0), 8)
    assert cropped.image.shape == (8, 8, 3)
    assert cropped.part_masks["head"].all()
    assert cropped.bbox == (0.0, 0.0, 8.0, 8.0)
    assert cropped.landmarks["head"] == pytest.approx((4.0, 4.0))
    assert cropped.image[1:7, 1:7, 0].min() == 200  # bilinear only blends at the border


def test_crop_drops_landmarks_outside_and_clips_bbox():
    cropped = crop_resize_sample(_square_sample(), (10.0, 0.0, 20.0, 10.0), (5, 5))
    assert cropped.landmarks == {}
    assert not cropped.part_masks["head"].any()
    assert cropped.bbox[0] == 0.0 and cropped.bbox[2] == 0.0


def test_crop_to_bbox_with_margin_and_errors():
    sample = _square_sample()
    cropped = crop_to_bbox(sample, 12, margin=0.5)
    assert cropped.landmarks["head"] == pytest.approx((6.0, 6.0))
    assert cropped.part_masks["head"][3:9, 3:9].all() and not cropped.part_masks["head"][0, 0]
    with pytest.raises(ValueError, match="crop box"):
        crop_resize_sample(sample, (5.0, 0.0, 5.0, 3.0), 4)
    sample.bbox = None
    with pytest.raises(ValueError, match="no bbox"):
        crop_to_bbox(sample, 8)
