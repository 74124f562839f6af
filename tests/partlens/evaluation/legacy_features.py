"""Version-1 ``features/`` folders (before schema_version): image-major maps, no statistics, no
images, written as the library wrote them then."""

from __future__ import annotations

import json
import shutil
from typing import Any

import numpy as np

from partlens.store import RunArtifacts
from partlens.store.atomic_io import publish_dir


def write_legacy_features(
    artifacts: RunArtifacts, maps: dict[str, np.ndarray], manifest: dict[str, Any]
) -> None:
    """Publish maps [N, F, h, w] per layer and a manifest without schema_version."""
    with publish_dir(artifacts.features_dir) as staging:
        for layer, array in maps.items():
            np.save(staging / f"{layer}.npy", array.astype(np.float16))
        layers = {layer: {"shape": list(array.shape[1:])} for layer, array in maps.items()}
        (staging / "manifest.json").write_text(json.dumps({**manifest, "layers": layers}))


def downgrade_to_legacy(artifacts: RunArtifacts) -> None:
    """Rewrite a published version-2 folder as the version-1 folder of the same run."""
    manifest = artifacts.manifest()
    assert manifest is not None
    maps = {layer: np.asarray(artifacts.feature_maps(layer)) for layer in manifest["layers"]}
    old = {key: manifest[key] for key in LEGACY_KEYS}
    shutil.rmtree(artifacts.features_dir)
    write_legacy_features(artifacts, maps, old)


LEGACY_KEYS = ("dataset", "split", "num_images", "categories", "labels", "logits", "image_size")
