"""Artifacts are written atomically and read back as published."""

from __future__ import annotations

import numpy as np
import pytest

from partlens.store import RunArtifacts


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
