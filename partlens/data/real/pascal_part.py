"""Pascal-Part loader (VOC2010 images + Annotations_Part/*.mat), parts merged as in paper
Sec. 5.2.1.

Expected layout under `root` (a VOC2010 folder with the Pascal-Part annotations added)::

    JPEGImages/<id>.jpg
    Annotations_Part/<id>.mat      MATLAB struct `anno` with `anno.objects(i).class`,
                                   `.mask` (object mask) and `.parts(j).part_name`, `.parts(j).mask`
    ImageSets/Main/train.txt       image ids of split "train"
    ImageSets/Main/val.txt         image ids of split "test" (VOC2010 test has no parts)

One sample per object of the six animal categories, cropped to the object mask's bounding box.
Landmarks: head, neck and torso as centres of the raw head, neck and torso masks (paper
Sec. 5.2.2); masks: merged parts (head, torso, legs or front/back legs, tail).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io

from partlens.data.dataset import DataFormatError, register_dataset
from partlens.data.real.records import ObjectRecord, RecordDataset

ANIMALS: tuple[str, ...] = ("bird", "cat", "cow", "dog", "horse", "sheep")
PART_ORDER: tuple[str, ...] = ("head", "torso", "legs", "front_legs", "back_legs", "tail")
LANDMARK_NAMES = ["head", "neck", "torso"]

_EYES_EARS = ("head", "leye", "reye", "lear", "rear")
_QUADRUPED_LEGS = {
    "front_legs": ("lfuleg", "lflleg", "rfuleg", "rflleg", "lfho", "rfho"),
    "back_legs": ("lbuleg", "lblleg", "rbuleg", "rblleg", "lbho", "rbho"),
}
# Raw Pascal-Part part name -> merged part; None: a known part the paper omits (e.g. cow tail).
MERGED_PARTS: dict[str, dict[str, str | None]] = {
    "bird": {
        **dict.fromkeys(("head", "leye", "reye", "beak"), "head"),
        **dict.fromkeys(("torso", "neck", "lwing", "rwing"), "torso"),
        **dict.fromkeys(("lleg", "lfoot", "rleg", "rfoot"), "legs"),
        "tail": "tail",
    },
    **{
        name: {
            **dict.fromkeys((*_EYES_EARS, "nose", "muzzle"), "head"),
            **dict.fromkeys(("torso", "neck"), "torso"),
            **dict.fromkeys(("lfleg", "lfpa", "rfleg", "rfpa"), "front_legs"),
            **dict.fromkeys(("lbleg", "lbpa", "rbleg", "rbpa"), "back_legs"),
            "tail": "tail",
        }
        for name in ("cat", "dog")
    },
    **{
        name: {
            **dict.fromkeys((*_EYES_EARS, "muzzle", "lhorn", "rhorn"), "head"),
            **dict.fromkeys(("torso", "neck"), "torso"),
            **{raw: merged for merged, raws in _QUADRUPED_LEGS.items() for raw in raws},
            "tail": None,
        }
        for name in ("cow", "horse", "sheep")
    },
}


def _as_list(value) -> list:
    """MATLAB struct arrays load as a single struct, an array, or an empty array."""
    if isinstance(value, np.ndarray):
        return list(value.ravel())
    return [value]


def _centre(mask: np.ndarray) -> tuple[float, float] | None:
    rows, cols = np.nonzero(mask)
    if not len(rows):
        return None
    return float(cols.mean() + 0.5), float(rows.mean() + 0.5)


def read_annotation(path: Path) -> list[dict]:
    """Animal objects of one Pascal-Part .mat file: class, object mask and raw part masks."""
    if not path.is_file():
        raise FileNotFoundError(f"annotation file not found: {path}")
    try:
        content = scipy.io.loadmat(str(path), squeeze_me=True, struct_as_record=False)
        objects = _as_list(content["anno"].objects)
    except (KeyError, AttributeError, ValueError, OSError, scipy.io.matlab.MatReadError) as error:
        raise DataFormatError(f"{path}: not a Pascal-Part `anno` struct ({error})") from error
    animals = []
    for i, obj in enumerate(objects, start=1):
        name = str(getattr(obj, "class", ""))
        if name not in ANIMALS:
            continue
        mask = np.asarray(obj.mask).astype(bool)
        parts = []
        for j, part in enumerate(_as_list(getattr(obj, "parts", np.zeros(0))), start=1):
            part_name = str(part.part_name)
            if part_name not in MERGED_PARTS[name]:
                raise DataFormatError(
                    f"{path}: objects({i}).parts({j}): unknown part name {part_name!r} for {name}"
                )
            part_mask = np.asarray(part.mask).astype(bool)
            if part_mask.shape != mask.shape:
                raise DataFormatError(
                    f"{path}: objects({i}).parts({j}) ({part_name}): mask of size "
                    f"{part_mask.shape} differs from the object mask {mask.shape}"
                )
            parts.append((part_name, part_mask))
        animals.append({"record": i, "class": name, "mask": mask, "parts": parts})
    return animals


@register_dataset("pascal-part")
class PascalPartDataset(RecordDataset):
    """Pascal-Part animal objects, bbox-cropped; single-category (`category`, negatives: the
    other animals) or multi-category over the six animals."""

    def __init__(
        self,
        root: Path,
        split: str,
        image_size: int,
        *,
        task: str = "single",
        category: str = "bird",
        augment: bool = False,
    ) -> None:
        root = Path(root)
        list_path = root / "ImageSets/Main" / ("train.txt" if split == "train" else "val.txt")
        if not list_path.is_file():
            raise FileNotFoundError(f"split list not found: {list_path}")
        records = []
        for image_id in list_path.read_text().split():
            mat_path = root / "Annotations_Part" / f"{image_id}.mat"
            if not mat_path.is_file():
                continue  # Pascal-Part leaves images without animals or parts unannotated
            image_path = root / "JPEGImages" / f"{image_id}.jpg"
            for obj in read_annotation(mat_path):
                records.append(self._record(obj, image_path, mat_path))
        if task == "single" and category in MERGED_PARTS:
            part_names = [p for p in PART_ORDER if p in MERGED_PARTS[category].values()]
        else:
            part_names = list(PART_ORDER)
        super().__init__(
            records,
            list(ANIMALS),
            image_size,
            split=split,
            task=task,
            category=category if task == "single" else None,
            part_names=part_names,
            landmark_names=LANDMARK_NAMES,
            augment=augment,
        )

    @staticmethod
    def _record(obj: dict, image_path: Path, mat_path: Path) -> ObjectRecord:
        rows, cols = np.nonzero(obj["mask"])
        if not len(rows):
            raise DataFormatError(f"{mat_path}: objects({obj['record']}) has an empty mask")
        landmarks = {}
        for name in LANDMARK_NAMES:
            masks = [mask for part, mask in obj["parts"] if part == name]
            centre = _centre(np.any(masks, axis=0)) if masks else None
            if centre is not None:
                landmarks[name] = centre
        record, class_name = obj["record"], obj["class"]

        def load_masks(image_shape: tuple[int, int]) -> dict[str, np.ndarray]:
            # Re-read on demand: holding every full-size mask of the dataset would need GBs.
            fresh = next(o for o in read_annotation(mat_path) if o["record"] == record)
            if fresh["mask"].shape != tuple(image_shape):
                raise DataFormatError(
                    f"{mat_path}: objects({record}) mask of size {fresh['mask'].shape} "
                    f"does not match image {image_path.name} of size {tuple(image_shape)}"
                )
            merged: dict[str, np.ndarray] = {}
            for part, mask in fresh["parts"]:
                target = MERGED_PARTS[class_name][part]
                if target is not None:
                    merged[target] = merged.get(target, False) | mask
            return merged

        return ObjectRecord(
            image_path=image_path,
            category=obj["class"],
            bbox=(
                float(cols.min()),
                float(rows.min()),
                float(cols.max() + 1),
                float(rows.max() + 1),
            ),
            landmarks=landmarks,
            load_masks=load_masks,
        )
