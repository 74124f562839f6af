"""Run artifacts on disk, written atomically so that readers never see partial data.

Layout of ``<data_dir>/runs/<run_id>/``::

    model/                 checkpoint (safetensors + JSON), published as one folder
    features/<layer>.npy   float16 [N, F, h, w] feature maps of the evaluation images
    features/manifest.json layers, shapes and the evaluation dataset spec (written last)
    metrics.json           evaluation results (metrics per layer, geometry, heat-map paths)
    heatmaps/<category>.png  Fig. 6 part heat maps of the top interpretable layer
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from partlens.store.atomic_io import atomic_write_json, publish_dir

MANIFEST = "manifest.json"


class RunArtifacts:
    """Paths and readers for one run's published artifacts."""

    def __init__(self, runs_dir: Path, run_id: str) -> None:
        self.root = Path(runs_dir) / run_id

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def checkpoint_dir(self) -> Path:
        """Training checkpoints (for resume after a crash); not a published artifact."""
        return self.root / "checkpoints"

    @property
    def features_dir(self) -> Path:
        return self.root / "features"

    @property
    def metrics_path(self) -> Path:
        return self.root / "metrics.json"

    @property
    def heatmaps_dir(self) -> Path:
        return self.root / "heatmaps"

    def metrics(self) -> dict[str, Any] | None:
        """The evaluation results (``metrics.json``), or None while the run is not evaluated."""
        if not self.metrics_path.is_file():
            return None
        return json.loads(self.metrics_path.read_text())

    def manifest(self) -> dict[str, Any] | None:
        """The feature manifest, or None while no feature maps are published."""
        path = self.features_dir / MANIFEST
        if not path.is_file():
            return None
        return json.loads(path.read_text())

    def feature_maps(self, layer: str) -> np.ndarray:
        """Memory-mapped float16 [N, F, h, w] maps of ``layer``; KeyError for unknown layers."""
        manifest = self.manifest()
        if manifest is None or layer not in manifest["layers"]:
            raise KeyError(layer)
        return np.load(self.features_dir / f"{layer}.npy", mmap_mode="r")

    def write_features(self, maps: dict[str, np.ndarray], manifest: dict[str, Any]) -> None:
        """Publish all layers' maps and the manifest (written last) as one folder."""
        with publish_dir(self.features_dir) as staging:
            for layer, array in maps.items():
                np.save(staging / f"{layer}.npy", array.astype(np.float16))
            layers = {layer: {"shape": list(array.shape[1:])} for layer, array in maps.items()}
            atomic_write_json(staging / MANIFEST, {**manifest, "layers": layers})
