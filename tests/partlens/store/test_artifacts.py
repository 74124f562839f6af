"""Artifacts are written atomically and read back as published."""

from __future__ import annotations

import json

import numpy as np
import pytest

from partlens.store import RunArtifacts, atomic_save_npy, atomic_write_json
from partlens.store.artifacts import publish_dir


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


def test_features_roundtrip_and_manifest_last(tmp_path):
    artifacts = RunArtifacts(tmp_path, "run1")
    assert artifacts.manifest() is None
    rng = np.random.default_rng(0)
    maps = {
        "conv_top": rng.random((4, 3, 5, 5)).astype(np.float32),
        "conv_added": rng.random((4, 3, 5, 5)).astype(np.float32),
    }
    artifacts.write_features(maps, {"num_images": 4})
    manifest = artifacts.manifest()
    assert list(manifest["layers"]) == ["conv_top", "conv_added"], "bottom-to-top order kept"
    assert manifest["layers"]["conv_top"] == {"shape": [3, 5, 5]}
    loaded = artifacts.feature_maps("conv_top")
    assert loaded.dtype == np.float16 and loaded.shape == (4, 3, 5, 5)
    np.testing.assert_allclose(loaded, maps["conv_top"], atol=1e-3)
    with pytest.raises(KeyError):
        artifacts.feature_maps("missing")
