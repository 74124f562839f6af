from pathlib import Path

import pytest
from PIL import Image

from partlens.data import DataFormatError, load_dataset

XML = """<annotation>
  <filename>{image_id}</filename>
  <size><width>80</width><height>60</height></size>
  {objects}
</annotation>"""
OBJECT = """<object><name>{name}</name>
  <bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin><xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox>
  {parts}</object>"""
PART = """<part><name>{name}</name>
  <bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin><xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></part>"""


def _object(name, box, parts=()) -> str:
    part_xml = "".join(PART.format(name=n, x0=b[0], y0=b[1], x1=b[2], y1=b[3]) for n, b in parts)
    return OBJECT.format(name=name, x0=box[0], y0=box[1], x1=box[2], y1=box[3], parts=part_xml)


def write_ilsvrc_part(root: Path, cat_objects: str | None = None) -> Path:
    for folder in ("Data", "Annotations", "ImageSets"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "categories.txt").write_text("cat\ndog\nzebra\n")
    cat = _object(
        "cat",
        (10, 10, 50, 50),
        [("head", (30, 10, 50, 30)), ("frontal_legs", (30, 40, 34, 50)),
         ("frontal_legs", (38, 40, 42, 50))],
    )  # fmt: skip
    dog = _object("dog", (0, 0, 80, 60), [("head", (60, 0, 80, 20))])
    annotations = {"n001": cat_objects or cat, "n002": dog}
    for image_id, objects in annotations.items():
        Image.new("RGB", (80, 60), (1, 2, 3)).save(root / "Data" / f"{image_id}.JPEG")
        (root / "Annotations" / f"{image_id}.xml").write_text(
            XML.format(image_id=image_id, objects=objects)
        )
    (root / "ImageSets/train.txt").write_text("n001\nn002\n")
    (root / "ImageSets/test.txt").write_text("n002\n")
    return root


def test_ilsvrc_part_landmarks_are_box_centres(tmp_path):
    root = write_ilsvrc_part(tmp_path)
    data = load_dataset("ilsvrc-part", "train", 40, root=root, category="cat")
    assert len(data) == 2 and data.categories == ["negative", "cat"]
    cat, dog = data[0], data[1]
    assert (cat.label, dog.label) == (1, 0) and cat.part_masks is None
    # crop box (10, 10)-(50, 50) -> 40 px: scale 1, shift -10
    assert cat.landmarks["head"] == pytest.approx((30.0, 10.0))
    assert cat.landmarks["frontal_legs"] == pytest.approx((26.0, 35.0))
    assert dog.landmarks.keys() == {"head"}


def test_ilsvrc_part_multi_and_split(tmp_path):
    root = write_ilsvrc_part(tmp_path)
    data = load_dataset("ilsvrc-part", "test", 40, root=root, task="multi")
    assert data.categories == ["cat", "dog", "zebra"] and len(data) == 1 and data[0].label == 1


@pytest.mark.parametrize(
    ("objects", "message"),
    [
        (_object("unicorn", (1, 1, 9, 9)), r"n001.xml: object 1: category 'unicorn'"),
        (_object("cat", (1, 1, 9, 9), [("tail", (1, 1, 2, 2))]), r"object 1, part 1: unknown part"),
        (_object("cat", (1, 1, "x", 9)), r"n001.xml: object 1: malformed <bndbox>"),
        ("<object><name>cat</name>", r"n001.xml: malformed XML"),
    ],
)
def test_ilsvrc_part_errors_name_file_and_record(tmp_path, objects, message):
    root = write_ilsvrc_part(tmp_path, objects)
    with pytest.raises(DataFormatError, match=message):
        load_dataset("ilsvrc-part", "train", 40, root=root, category="cat")


def test_ilsvrc_part_missing_annotation(tmp_path):
    root = write_ilsvrc_part(tmp_path)
    (root / "Annotations/n002.xml").unlink()
    with pytest.raises(FileNotFoundError, match=r"n002\.xml"):
        load_dataset("ilsvrc-part", "test", 40, root=root, category="cat")
