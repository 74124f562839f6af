"""A hand-written finished run (3 filters over 5 images, evaluated) for the caching and figure
route tests; the ``served`` fixture (tests/backend/conftest.py) puts it behind a TestClient."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from partlens.store import RunArtifacts, atomic_write_json
from tests.backend.test_filters_api import SIZE, N, _images, _manifest, _maps
from tests.partlens.evaluation.sample_metrics import layer_dict, run_dict

FILTERS = 3
THRESHOLDS = [0.5, 1.0, 0.5]


@dataclass
class Served:
    client: TestClient
    base: str
    artifacts: RunArtifacts

    def layer(self, path: str = "") -> str:
        return f"{self.base}/layers/conv_added{path}"


def stored_maps() -> np.ndarray:
    """The maps as the API reads them back: [N, F, 8, 8] rounded through float16."""
    return _maps().astype(np.float16).astype(np.float32)


def evaluated_layer() -> dict:
    """`layer_dict` grown to three filters (every per-filter list has one entry per filter)."""
    layer = layer_dict()
    layer["geometry"]["thresholds"] = THRESHOLDS
    layer["location_instability"]["per_filter"] = [0.1, None, 0.2]
    layer["part_interpretability"]["per_filter"] = [0.5, 0.1, 0.3]
    layer["part_interpretability"]["best_part"] = ["head", "torso", "head"]
    return layer


def png_array(response) -> np.ndarray:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))


def publish_evaluated(client: TestClient, runs_dir) -> Served:
    """Launch a run record, publish its features (`test_filters_api`) and metrics.json."""
    run = client.post("/api/v1/runs", json={"dataset": {"image_size": SIZE, "eval_size": N}})
    run_id = run.json()["id"]
    artifacts = RunArtifacts(runs_dir, run_id)
    artifacts.write_features({"conv_added": _maps()}, _manifest(run.json()), images=_images())
    metrics = run_dict(run_id=run_id, layers={"conv_added": evaluated_layer()})
    atomic_write_json(artifacts.metrics_path, metrics)
    return Served(client, f"/api/v1/runs/{run_id}", artifacts)
