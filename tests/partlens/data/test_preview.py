import numpy as np
import pytest

from partlens.data import Sample, load_dataset
from partlens.data.preview import PART_COLOURS, annotate, contact_sheet


def test_contact_sheet_grid_size_and_content():
    data = load_dataset("builtin", "test", 64, size=20)
    sheet = contact_sheet(data, n=16)
    assert sheet.size == (4 * 64, 4 * 64 + 16)
    assert np.asarray(sheet).std() > 10
    assert contact_sheet(data, n=5, columns=5).size == (5 * 64, 64 + 16)
    with pytest.raises(ValueError, match="n must be positive"):
        contact_sheet(data, n=0)


def test_annotate_tints_masks_and_marks_landmarks():
    mask = np.zeros((32, 32), dtype=bool)
    mask[20:30, 20:30] = True
    sample = Sample(
        np.zeros((32, 32, 3), np.uint8), 1, "cat", None, {"head": mask}, {"head": (10.0, 24.0)}
    )
    tile = np.asarray(annotate(sample, ["head"])).astype(int)
    expected = (np.array(PART_COLOURS[0]) * 0.45).astype(int)
    assert np.abs(tile[25, 25] - expected).max() <= 1
    assert tile[24, 10, 0] == 255 and tile[24, 10, 1] == 0  # red landmark dot
