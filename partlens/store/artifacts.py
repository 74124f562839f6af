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
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

MANIFEST = "manifest.json"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    atomic_write_bytes(path, json.dumps(obj, indent=2).encode())


def atomic_save_npy(path: Path, array: np.ndarray) -> None:
    """Save ``array`` in .npy format, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.save(f, array)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def publish_dir(target: Path) -> Iterator[Path]:
    """Yield a staging folder; on success it replaces ``target`` in one rename.

    An existing ``target`` is moved aside first and removed after the swap, so a reader sees
    either the old complete folder or the new complete one.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(target, old)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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
