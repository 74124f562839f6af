"""A CUB-200-2011 folder in the official layout, written from built-in scenes for tests.

``images/<class>/<file>.jpg``, ``images.txt``, ``classes.txt``, ``image_class_labels.txt``,
``train_test_split.txt``, ``bounding_boxes.txt`` (x, y, width, height) and ``parts/parts.txt``
+ ``parts/part_locs.txt`` (the 15 CUB points; a built-in landmark becomes the CUB point named in
``CUB_POINT``, the others are written invisible), as the official release stores them. CUB has
no part masks: a run on it gets location instability only.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from partlens.data import load_dataset

CUB_PARTS = [
    *("back", "beak", "belly", "breast", "crown", "forehead", "left eye", "left leg"),
    *("left wing", "nape", "right eye", "right leg", "right wing", "tail", "throat"),
]
# Built-in landmark -> the CUB point it is written as.
CUB_POINT = {
    "head": "crown",
    "neck": "nape",
    "torso": "back",
    "front_leg": "left leg",
    "back_leg": "right leg",
    "tail": "tail",
}


def write_cub_scenes(root: Path, train: int = 24, test: int = 12, size: int = 96) -> Path:
    """A CUB folder of ``train`` + ``test`` built-in scenes, one class per built-in animal."""
    (root / "parts").mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[str]] = {
        "images.txt": [],
        "image_class_labels.txt": [],
        "train_test_split.txt": [],
        "bounding_boxes.txt": [],
        "parts/part_locs.txt": [],
    }
    classes: dict[str, int] = {}
    image_id = 0
    for is_train, count, seed in ((1, train, 1), (0, test, 2)):
        scenes = load_dataset("builtin", "train", size, task="multi", size=count, seed=seed)
        for index in range(count):
            sample = scenes[index]
            image_id += 1
            class_id = classes.setdefault(sample.category, len(classes) + 1)
            folder = f"{class_id:03d}.{sample.category.title()}"
            relative = f"{folder}/{sample.category}_{image_id:04d}.jpg"
            (root / "images" / folder).mkdir(parents=True, exist_ok=True)
            Image.fromarray(sample.image).save(root / "images" / relative, quality=95)
            assert sample.bbox is not None
            x0, y0, x1, y1 = sample.bbox
            rows["images.txt"].append(f"{image_id} {relative}")
            rows["image_class_labels.txt"].append(f"{image_id} {class_id}")
            rows["train_test_split.txt"].append(f"{image_id} {is_train}")
            rows["bounding_boxes.txt"].append(f"{image_id} {x0} {y0} {x1 - x0} {y1 - y0}")
            points = {CUB_POINT[k]: xy for k, xy in sample.landmarks.items() if k in CUB_POINT}
            for part_id, name in enumerate(CUB_PARTS, start=1):
                x, y = points.get(name, (0.0, 0.0))
                visible = int(name in points)
                rows["parts/part_locs.txt"].append(f"{image_id} {part_id} {x} {y} {visible}")
    rows["classes.txt"] = [
        f"{class_id} {class_id:03d}.{name.title()}" for name, class_id in classes.items()
    ]
    rows["parts/parts.txt"] = [f"{k} {name}" for k, name in enumerate(CUB_PARTS, start=1)]
    for name, lines in rows.items():
        (root / name).write_text("\n".join(lines) + "\n")
    return root
