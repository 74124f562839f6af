"""Atomic writes leave either the old or the new complete artifact."""

from __future__ import annotations

import json

import numpy as np
import pytest

from partlens.store.atomic_io import (
    atomic_save_npy,
    atomic_write_json,
    publish_dir,
    remove_stale_staging,
)


def test_atomic_json_and_npy_leave_no_temp_files(tmp_path):
    atomic_write_json(tmp_path / "a" / "m.json", {"x": 1})
    atomic_save_npy(tmp_path / "a" / "v.npy", np.arange(3))
    assert json.loads((tmp_path / "a" / "m.json").read_text()) == {"x": 1}
    assert np.load(tmp_path / "a" / "v.npy").tolist() == [0, 1, 2]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["m.json", "v.npy"]


def test_failed_publish_keeps_the_old_folder(tmp_path):
    target = tmp_path / "features"
    with publish_dir(target) as staging:
        (staging / "a.txt").write_text("old")
    with pytest.raises(RuntimeError), publish_dir(target) as staging:
        (staging / "a.txt").write_text("half")
        raise RuntimeError("crash mid-write")
    assert (target / "a.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["features"]


def test_stale_staging_left_by_a_killed_writer_is_removed(tmp_path):
    (tmp_path / ".checkpoints.staging-0598ebbf").mkdir()
    (tmp_path / ".checkpoints.staging-0598ebbf" / "weights.safetensors").write_bytes(b"partial")
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / ".stats.json.k2j3.tmp").write_bytes(b"{")
    (tmp_path / ".model.old-12345678").mkdir()
    kept = [tmp_path / "metrics.json", tmp_path / "features" / "stats.json", tmp_path / ".hidden"]
    for path in kept:
        path.write_text("{}")
    removed = remove_stale_staging(tmp_path)
    assert sorted(p.name for p in removed) == [
        ".checkpoints.staging-0598ebbf",
        ".model.old-12345678",
        ".stats.json.k2j3.tmp",
    ]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        ".hidden",
        "features",
        "features/stats.json",
        "metrics.json",
    ]
    assert remove_stale_staging(tmp_path / "absent") == []
