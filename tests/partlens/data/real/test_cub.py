from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from partlens.data import DataFormatError, load_dataset

PARTS = ["back", "beak", "belly", "breast", "crown", "forehead", "left eye", "left leg",
         "left wing", "nape", "right eye", "right leg", "right wing", "tail", "throat"]  # fmt: skip


def write_cub(root: Path) -> Path:
    """A 3-image CUB-200-2011 tree in the official format (2 train, 1 test)."""
    (root / "images/001.Albatross").mkdir(parents=True)
    (root / "images/002.Auklet").mkdir(parents=True)
    (root / "parts").mkdir()
    paths = ["001.Albatross/a_1.jpg", "001.Albatross/a_2.jpg", "002.Auklet/b_1.jpg"]
    for path in paths:
        Image.new("RGB", (100, 80), (90, 120, 150)).save(root / "images" / path)
    lines = {
        "images.txt": [f"{k} {p}" for k, p in enumerate(paths, 1)],
        "classes.txt": ["1 001.Albatross", "2 002.Auklet"],
        "image_class_labels.txt": ["1 1", "2 1", "3 2"],
        "train_test_split.txt": ["1 1", "2 0", "3 1"],
        "bounding_boxes.txt": ["1 10.0 20.0 50.0 40.0", "2 0.0 0.0 100.0 80.0", "3 20 10 60 60"],
        "parts/parts.txt": [f"{k} {name}" for k, name in enumerate(PARTS, 1)],
    }
    locs = []
    for image_id in (1, 2, 3):
        for part_id, name in enumerate(PARTS, 1):
            visible = int(name in ("back", "tail", "crown", "beak") or image_id == 3)
            locs.append(f"{image_id} {part_id} {20.0 + part_id} {30.0 + image_id} {visible}")
    lines["parts/part_locs.txt"] = locs
    for name, content in lines.items():
        (root / name).write_text("\n".join(content) + "\n")
    return root


def test_cub_single_category_crops_and_landmarks(tmp_path):
    root = write_cub(tmp_path / "CUB_200_2011")
    data = load_dataset("cub200", "train", 32, root=root)
    assert len(data) == 2 and data.categories == ["negative", "bird"]
    assert data.landmark_names[:3] == ["head", "back", "tail"]
    assert len(data.landmark_names) == len(set(data.landmark_names))
    sample = data[0]
    assert sample.image.shape == (32, 32, 3) and sample.label == 1 and sample.part_masks is None
    assert sample.bbox == (0.0, 0.0, 32.0, 32.0)
    # back: part 1 at (21, 31) in a (10, 20)-(60, 60) box -> ((21-10)*32/50, (31-20)*32/40)
    assert sample.landmarks["back"] == pytest.approx((11 * 32 / 50, 11 * 32 / 40))
    # head = mean of visible beak (22, 31) and crown (25, 31)
    assert sample.landmarks["head"] == pytest.approx((13.5 * 32 / 50, 11 * 32 / 40))
    assert "left_eye" not in sample.landmarks  # invisible points are absent


def test_cub_multi_category_labels_and_test_split(tmp_path):
    root = write_cub(tmp_path)
    train = load_dataset("cub200", "train", 32, root=root, task="multi")
    assert train.categories == ["001.Albatross", "002.Auklet"]
    assert [train[i].label for i in range(2)] == [0, 1]
    assert {"left_eye", "throat"} <= set(train[1].landmarks)  # image 3: all visible
    test = load_dataset("cub200", "test", 32, root=root)
    assert len(test) == 1 and test[0].label == 1
    assert set(test[0].landmarks) == {"head", "back", "tail", "beak", "crown"}


def test_cub_errors_name_file_and_line(tmp_path):
    root = write_cub(tmp_path)
    (root / "bounding_boxes.txt").write_text("1 10 20 50 40\n2 0 0 oops 80\n3 20 10 60 60\n")
    with pytest.raises(DataFormatError, match=r"bounding_boxes.txt:2: 'oops'"):
        load_dataset("cub200", "train", 32, root=root)
    (root / "bounding_boxes.txt").write_text("1 10 20 50 40\n\n2 0 0 80\n")
    with pytest.raises(DataFormatError, match=r"bounding_boxes.txt:3: expected 5 fields"):
        load_dataset("cub200", "train", 32, root=root)
    (root / "bounding_boxes.txt").write_text("1 10 20 50 40\n2 0 0 100 80\n")
    with pytest.raises(DataFormatError, match=r"bounding_boxes.txt: no record for image id 3"):
        load_dataset("cub200", "train", 32, root=root)
    (root / "parts/part_locs.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"part_locs\.txt"):
        load_dataset("cub200", "train", 32, root=root)


def test_cub_missing_image_is_named(tmp_path):
    root = write_cub(tmp_path)
    (root / "images/001.Albatross/a_1.jpg").unlink()
    data = load_dataset("cub200", "train", 32, root=root)
    with pytest.raises(FileNotFoundError, match=r"a_1\.jpg"):
        data[0]
    assert np.asarray(data[1].image).shape == (32, 32, 3)
