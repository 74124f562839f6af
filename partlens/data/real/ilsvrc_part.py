"""ILSVRC 2013 DET Animal-Part loader (Zhang et al., AAAI 2016: head and frontal-leg boxes of
30 animal categories over ILSVRC DET images).

The release's own annotation files are not reproduced here, so the loader reads them as
converted to the ILSVRC DET (Pascal VOC XML) convention, parts nested in their object as VOC
does for person layout. Expected layout under `root`::

    categories.txt            one category name per line (e.g. the 30 animal names)
    ImageSets/train.txt       image ids of split "train"
    ImageSets/test.txt        image ids of split "test"
    Data/<id>.JPEG
    Annotations/<id>.xml      <annotation>
                                <object>
                                  <name>cat</name>
                                  <bndbox><xmin/><ymin/><xmax/><ymax/></bndbox>
                                  <part><name>head</name><bndbox>...</bndbox></part>
                                  <part><name>frontal_legs</name><bndbox>...</bndbox></part>
                                </object> ...
                              </annotation>

Landmarks (paper Sec. 5.2.2): "head" and "frontal_legs", the centres of their boxes (the mean
centre where several frontal-leg boxes are given). Boxes only: part_masks is None.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np

from partlens.data.dataset import DataFormatError, register_dataset
from partlens.data.real.records import ObjectRecord, RecordDataset

PART_NAMES = ("head", "frontal_legs")


def _box(element: ElementTree.Element, where: str) -> tuple[float, float, float, float]:
    box = element.find("bndbox")
    if box is None:
        raise DataFormatError(f"{where}: missing <bndbox>")
    try:
        x0, y0, x1, y1 = (float(box.findtext(tag, "")) for tag in ("xmin", "ymin", "xmax", "ymax"))
    except ValueError as error:
        raise DataFormatError(f"{where}: malformed <bndbox> ({error})") from error
    if not (x1 > x0 and y1 > y0):
        raise DataFormatError(f"{where}: empty box {(x0, y0, x1, y1)}")
    return x0, y0, x1, y1


def _mean_point(points: list[tuple[float, float]]) -> tuple[float, float]:
    """The mean (x, y) of a part's box centres."""
    x, y = np.mean(points, axis=0).tolist()
    return (x, y)


def read_annotation(path: Path, categories: list[str]) -> list[ObjectRecord]:
    """The objects of one XML file, with image path left for the caller to fill."""
    if not path.is_file():
        raise FileNotFoundError(f"annotation file not found: {path}")
    try:
        tree = ElementTree.parse(path)
    except ElementTree.ParseError as error:
        raise DataFormatError(f"{path}: malformed XML ({error})") from error
    records = []
    for i, obj in enumerate(tree.getroot().iter("object"), start=1):
        where = f"{path}: object {i}"
        name = (obj.findtext("name") or "").strip()
        if name not in categories:
            raise DataFormatError(f"{where}: category {name!r} is not in categories.txt")
        centres: dict[str, list[tuple[float, float]]] = {}
        for j, part in enumerate(obj.iter("part"), start=1):
            part_name = (part.findtext("name") or "").strip()
            if part_name not in PART_NAMES:
                raise DataFormatError(
                    f"{where}, part {j}: unknown part name {part_name!r}; expected {PART_NAMES}"
                )
            x0, y0, x1, y1 = _box(part, f"{where}, part {j}")
            centres.setdefault(part_name, []).append(((x0 + x1) / 2, (y0 + y1) / 2))
        landmarks = {name: _mean_point(points) for name, points in centres.items()}
        records.append(ObjectRecord(path, name, _box(obj, where), landmarks))
    return records


@register_dataset("ilsvrc-part")
class IlsvrcPartDataset(RecordDataset):
    """ILSVRC Animal-Part objects, bbox-cropped; single-category (`category`, negatives: the
    other categories' objects) or multi-category over categories.txt."""

    def __init__(
        self,
        root: Path,
        split: str,
        image_size: int,
        *,
        task: str = "single",
        category: str | None = None,
        augment: bool = False,
    ) -> None:
        root = Path(root)
        categories_path = root / "categories.txt"
        if not categories_path.is_file():
            raise FileNotFoundError(f"category list not found: {categories_path}")
        categories = categories_path.read_text().split()
        list_path = root / "ImageSets" / f"{split}.txt"
        if not list_path.is_file():
            raise FileNotFoundError(f"split list not found: {list_path}")
        records = []
        for image_id in list_path.read_text().split():
            for record in read_annotation(root / "Annotations" / f"{image_id}.xml", categories):
                record.image_path = root / "Data" / f"{image_id}.JPEG"
                records.append(record)
        super().__init__(
            records,
            categories,
            image_size,
            split=split,
            task=task,
            category=category,
            part_names=[],
            landmark_names=list(PART_NAMES),
            augment=augment,
        )
