"""Registered datasets: indexing, allowed roots, clear errors, and resolving a run's spec."""

from __future__ import annotations

import os

import pytest

from partlens.assets import AssetConflictError, AssetError, AssetNotFoundError
from partlens.assets.datasets import (
    get_dataset,
    list_datasets,
    register_dataset,
    resolve_dataset_spec,
)
from partlens.config import Settings
from partlens.data import limit_dataset, load_dataset
from partlens.store import create_session_factory
from tests.cub_folder import write_cub_scenes
from tests.pascal_part_folder import write_pascal_part_scenes


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def sessions(settings):
    return create_session_factory(settings.resolved_database_url)


@pytest.fixture
def pascal_root(settings):
    return write_pascal_part_scenes(settings.data_dir / "datasets" / "pascal", train=12, val=6)


def test_registration_indexes_both_splits_and_is_listed(sessions, settings, pascal_root):
    entry = register_dataset(sessions, "mypascal", "pascal-part", pascal_root, settings)
    assert entry.root == str(pascal_root.resolve())
    assert entry.summary.splits["train"].objects == 12
    assert entry.summary.splits["test"].objects == 6
    assert sum(entry.summary.splits["train"].per_category.values()) == 12
    assert entry.summary.categories == ["bird", "cat", "cow", "dog", "horse", "sheep"]
    assert entry.summary.parts == ["head", "torso", "legs", "front_legs", "back_legs", "tail"]
    assert entry.summary.has_masks
    assert 0 < entry.summary.splits["train"].per_part["head"] <= 12
    assert [d.name for d in list_datasets(sessions)] == ["builtin", "mypascal"]
    assert get_dataset(sessions, "mypascal").summary == entry.summary


def test_roots_outside_the_allowed_ones_are_refused(sessions, settings, tmp_path):
    outside = write_pascal_part_scenes(tmp_path / "elsewhere", train=2, val=1)
    with pytest.raises(AssetError, match="outside the allowed roots"):
        register_dataset(sessions, "out", "pascal-part", outside, settings)
    allowed = settings.data_dir / "datasets"
    allowed.mkdir(parents=True, exist_ok=True)
    os.symlink(outside, allowed / "escape")
    with pytest.raises(AssetError, match="outside the allowed roots"):
        register_dataset(sessions, "escape", "pascal-part", allowed / "escape", settings)
    with pytest.raises(AssetError, match="does not exist"):
        register_dataset(sessions, "gone", "pascal-part", allowed / "missing", settings)
    moved = Settings(data_dir=settings.data_dir, dataset_roots=str(tmp_path))
    assert register_dataset(sessions, "out", "pascal-part", outside, moved).name == "out"


def test_a_broken_annotation_is_named_with_its_problem(sessions, settings, pascal_root):
    broken = pascal_root / "Annotations_Part" / "2010_train0003.mat"
    broken.write_bytes(b"not a mat file")
    with pytest.raises(AssetError, match=r"2010_train0003\.mat"):
        register_dataset(sessions, "broken", "pascal-part", pascal_root, settings)
    assert [d.name for d in list_datasets(sessions)] == ["builtin"], "nothing registered"


def test_names_formats_and_duplicates(sessions, settings, pascal_root):
    with pytest.raises(AssetError, match="invalid dataset name"):
        register_dataset(sessions, "Bad Name", "pascal-part", pascal_root, settings)
    with pytest.raises(AssetError, match="unknown dataset format 'coco'"):
        register_dataset(sessions, "coco", "coco", pascal_root, settings)
    with pytest.raises(AssetConflictError):
        register_dataset(sessions, "builtin", "pascal-part", pascal_root, settings)
    register_dataset(sessions, "p", "pascal-part", pascal_root, settings)
    with pytest.raises(AssetConflictError, match="registered already"):
        register_dataset(sessions, "p", "pascal-part", pascal_root, settings)
    with pytest.raises(AssetNotFoundError, match="known: builtin, p"):
        get_dataset(sessions, "nope")


def test_a_run_spec_resolves_to_format_root_and_categories(sessions, settings, pascal_root):
    register_dataset(sessions, "p", "pascal-part", pascal_root, settings)
    spec = resolve_dataset_spec(sessions, {"name": "p", "task": "single", "category": "cat"})
    assert spec["format"] == "pascal-part" and spec["root"] == str(pascal_root.resolve())
    assert spec["categories"][1] == "cat"
    with pytest.raises(AssetError, match="unknown category 'unicorn' for dataset p"):
        resolve_dataset_spec(sessions, {"name": "p", "task": "single", "category": "unicorn"})
    builtin = resolve_dataset_spec(sessions, {"name": "builtin", "task": "multi"})
    assert builtin["root"] is None


def test_limit_dataset_takes_a_seeded_subset_in_order(pascal_root):
    dataset = load_dataset("pascal-part", "train", 32, root=pascal_root, task="multi")
    limited = limit_dataset(dataset, 5, seed=3)
    assert len(limited) == 5 and len(dataset) == 12
    kept = [dataset.records.index(r) for r in limited.records]
    assert kept == sorted(kept)
    assert kept == [dataset.records.index(r) for r in limit_dataset(dataset, 5, 3).records]
    assert limit_dataset(dataset, 50) is dataset


def test_runs_on_a_landmark_only_dataset_are_resolved(sessions, settings):
    root = write_cub_scenes(settings.data_dir / "datasets" / "cub", train=6, test=3, size=48)
    entry = register_dataset(sessions, "cub", "cub200", root, settings)
    assert not entry.summary.has_masks and entry.summary.parts == []
    assert entry.summary.landmarks[:3] == ["head", "back", "tail"]
    # CUB's single-category task is "bird" (all species), its multi-category one the species.
    assert entry.categories == ["bird"] and len(entry.summary.categories) == 6
    spec = resolve_dataset_spec(sessions, {"name": "cub", "task": "single", "category": "bird"})
    assert spec["format"] == "cub200" and spec["root"] == str(root.resolve())
    multi = resolve_dataset_spec(sessions, {"name": "cub", "task": "multi"})
    assert multi["categories"] == entry.summary.categories
    species = entry.summary.categories[0]
    with pytest.raises(AssetError, match=f"unknown category '{species}' for dataset cub; choose"):
        resolve_dataset_spec(sessions, {"name": "cub", "task": "single", "category": species})
