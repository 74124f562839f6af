from __future__ import annotations

import numpy as np
import pytest

from partlens.data import Sample, load_dataset
from partlens.data.dataset import DATASETS, PartDataset, register_dataset


@pytest.fixture
def registered():
    names_before = DATASETS.names()
    yield
    for name in set(DATASETS.names()) - set(names_before):
        DATASETS._entries.pop(name)


def test_a_registered_dataset_loads_by_name_with_its_options(registered, tmp_path):
    @register_dataset("test-squares")
    class Squares(PartDataset):
        def __init__(self, root, split, image_size, *, size: int = 3) -> None:
            self.root, self.split, self.size = root, split, size
            self.image_size = image_size
            self.categories = ["negative", "square"]
            self.part_names, self.landmark_names = [], []

        def __len__(self) -> int:
            return self.size

        def __getitem__(self, index: int) -> Sample:
            image = np.zeros((self.image_size, self.image_size, 3), np.uint8)
            return Sample(image, 1, "square", None, None, {}, self._check_index(index))

    assert DATASETS.get("test-squares").options == ["size"]
    dataset = load_dataset("test-squares", "test", 32, root=tmp_path, size=5)
    assert isinstance(dataset, Squares) and len(dataset) == 5 and dataset.root == tmp_path
    assert dataset[4].image.shape == (32, 32, 3)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['colour'\]"):
        load_dataset("test-squares", "test", 32, root=tmp_path, colour="red")
    with pytest.raises(ValueError, match="needs root="):
        load_dataset("test-squares", "test", 32)


def test_unknown_dataset_split_and_size_are_clear_errors():
    with pytest.raises(ValueError, match="choose one of builtin, cub200"):
        load_dataset("imagenet", "train", 64)
    with pytest.raises(ValueError, match="split must be one of"):
        load_dataset("builtin", "val", 64)
    with pytest.raises(ValueError, match="image_size must be an int >= 16"):
        load_dataset("builtin", "train", 8)
