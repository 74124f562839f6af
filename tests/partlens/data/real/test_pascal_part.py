from pathlib import Path

import numpy as np
import pytest
import scipy.io
from PIL import Image

from partlens.data import DataFormatError, load_dataset

H, W = 40, 60


def _box(y0, y1, x0, x1) -> np.ndarray:
    mask = np.zeros((H, W), dtype=np.uint8)
    mask[y0:y1, x0:x1] = 1
    return mask


def _struct_array(rows: list[dict], fields: list[str]) -> np.ndarray:
    """A MATLAB 1xN struct array, as Pascal-Part stores `objects` and `parts`."""
    array = np.zeros((1, len(rows)), dtype=[(f, "O") for f in fields])
    for k, row in enumerate(rows):
        for f in fields:
            array[0, k][f] = row[f]
    return array


def _parts(names_and_masks) -> np.ndarray:
    rows = [{"part_name": n, "mask": m} for n, m in names_and_masks]
    return _struct_array(rows, ["part_name", "mask"])


def write_annotation(path: Path, objects: list[dict]) -> None:
    rows = [
        {"class": o["class"], "class_ind": o.get("class_ind", 8), "mask": o["mask"],
         "parts": o["parts"]}
        for o in objects
    ]  # fmt: skip
    anno = {
        "imname": path.stem,
        "objects": _struct_array(rows, ["class", "class_ind", "mask", "parts"]),
    }
    scipy.io.savemat(str(path), {"anno": anno})


def write_pascal_part(root: Path) -> Path:
    for folder in ("JPEGImages", "Annotations_Part", "ImageSets/Main"):
        (root / folder).mkdir(parents=True)
    for image_id in ("2008_000001", "2008_000002"):
        Image.new("RGB", (W, H), (10, 200, 30)).save(root / "JPEGImages" / f"{image_id}.jpg")
    cat_parts = _parts(
        [
            ("head", _box(10, 16, 30, 36)),
            ("lear", _box(8, 10, 30, 32)),
            ("neck", _box(16, 20, 30, 34)),
            ("torso", _box(20, 30, 10, 34)),
            ("lfleg", _box(30, 38, 30, 32)),
            ("lbpa", _box(30, 38, 12, 14)),
            ("tail", _box(18, 20, 4, 10)),
        ]
    )
    person = {"class": "person", "mask": _box(0, 10, 0, 10), "parts": np.zeros((0, 0))}
    cat = {"class": "cat", "mask": _box(8, 38, 4, 36), "parts": cat_parts}
    write_annotation(root / "Annotations_Part/2008_000001.mat", [person, cat])
    cow_parts = _parts(
        [
            ("head", _box(5, 15, 40, 50)),
            ("lhorn", _box(2, 5, 40, 42)),
            ("torso", _box(10, 30, 10, 40)),
            ("tail", _box(10, 30, 5, 10)),
        ]
    )
    write_annotation(
        root / "Annotations_Part/2008_000002.mat",
        [{"class": "cow", "mask": _box(2, 30, 5, 50), "parts": cow_parts}],
    )
    (root / "ImageSets/Main/train.txt").write_text("2008_000001\n2008_000002\n")
    (root / "ImageSets/Main/val.txt").write_text("2008_000002\n")
    return root


def test_pascal_part_single_category_merges_parts(tmp_path):
    root = write_pascal_part(tmp_path)
    data = load_dataset("pascal-part", "train", 32, root=root, category="cat")
    assert len(data) == 2 and data.categories == ["negative", "cat"]
    assert data.part_names == ["head", "torso", "front_legs", "back_legs", "tail"]
    cat, cow = data[0], data[1]
    assert cat.label == 1 and cow.label == 0 and cow.category == "cow"
    assert cat.image.shape == (32, 32, 3)
    # The object box is x 4..36, y 8..38 (32 x 30 px) -> 32 x 32: x scale 1, y scale 32/30.
    head = cat.part_masks["head"]
    assert head.sum() == pytest.approx((36 * 1 + 4) * 1 * 32 / 30, abs=6)  # head + ear merged
    assert cat.part_masks["torso"][int((18 - 8) * 32 / 30), 31 - 4]  # neck merged into torso
    assert cat.landmarks["head"] == pytest.approx(((33 - 4), (13 - 8) * 32 / 30))
    assert cat.landmarks["neck"] == pytest.approx(((32 - 4), (18 - 8) * 32 / 30))
    assert set(cat.landmarks) == {"head", "neck", "torso"}


def test_pascal_part_multi_category_and_omitted_cow_tail(tmp_path):
    root = write_pascal_part(tmp_path)
    data = load_dataset("pascal-part", "test", 32, root=root, task="multi")
    assert data.categories == ["bird", "cat", "cow", "dog", "horse", "sheep"]
    cow = data[0]
    assert cow.label == 2
    assert not cow.part_masks["tail"].any()  # the paper omits the cow's tail
    assert cow.part_masks["head"].sum() > 0 and cow.landmarks.keys() == {"head", "torso"}


def test_pascal_part_unknown_part_names_file_and_record(tmp_path):
    root = write_pascal_part(tmp_path)
    write_annotation(
        root / "Annotations_Part/2008_000002.mat",
        [
            {
                "class": "cow",
                "mask": _box(2, 30, 5, 50),
                "parts": _parts([("wheel", _box(0, 2, 0, 2))]),
            }
        ],
    )
    with pytest.raises(DataFormatError, match=r"2008_000002.mat: objects\(1\).parts\(1\).*'wheel'"):
        load_dataset("pascal-part", "train", 32, root=root)


def test_pascal_part_mask_of_wrong_size(tmp_path):
    root = write_pascal_part(tmp_path)
    bad = _parts([("head", np.ones((5, 5), dtype=np.uint8))])
    write_annotation(
        root / "Annotations_Part/2008_000002.mat",
        [{"class": "cow", "mask": _box(2, 30, 5, 50), "parts": bad}],
    )
    with pytest.raises(DataFormatError, match=r"objects\(1\).parts\(1\) \(head\): mask of size"):
        load_dataset("pascal-part", "test", 32, root=root, category="cow")
    write_annotation(
        root / "Annotations_Part/2008_000002.mat",
        [{"class": "cow", "mask": np.ones((8, 8), dtype=np.uint8), "parts": np.zeros((0, 0))}],
    )
    data = load_dataset("pascal-part", "test", 32, root=root, category="cow")
    with pytest.raises(DataFormatError, match=r"does not match image 2008_000002\.jpg"):
        data[0]


def test_pascal_part_missing_files(tmp_path):
    root = write_pascal_part(tmp_path)
    (root / "ImageSets/Main/val.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"val\.txt"):
        load_dataset("pascal-part", "test", 32, root=root)
    (root / "Annotations_Part/2008_000001.mat").write_bytes(b"not a mat file")
    with pytest.raises(DataFormatError, match=r"2008_000001\.mat"):
        load_dataset("pascal-part", "train", 32, root=root)
