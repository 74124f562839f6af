"""A hand-written finished run (3 filters over 5 images, evaluated, with a published tiny model
and Fig. 6 heat maps, status succeeded) for the caching, figure and probe route tests; the
``served`` fixture (tests/backend/conftest.py) puts it behind a TestClient."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from partlens.store import Run, RunArtifacts, RunStatus, atomic_write_json
from tests.backend.test_filters_api import SIZE, N, _images, _manifest, _maps
from tests.partlens.evaluation.sample_metrics import layer_dict, run_dict

FILTERS = 3
THRESHOLDS = [0.5, 1.0, 0.5]
HEATMAP_GRID = 4
MODEL_WIDTH = 8  # tiny's smallest: the published model's conv_added has 8 filters


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
    layer["part_interpretability"]["per_filter_part"] = [[0.5, 0.25], [0.05, 0.1], [0.3, None]]
    return layer


def png_array(response) -> np.ndarray:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))


def heatmap_arrays() -> dict[str, np.ndarray]:
    """The arrays of the stored ``heatmaps/bird.npz``: heat [G, G] (row = y), mean_image."""
    heat = np.arange(HEATMAP_GRID * HEATMAP_GRID, dtype=np.float32).reshape(HEATMAP_GRID, -1)
    mean_image = np.full((HEATMAP_GRID, HEATMAP_GRID, 3), 100, dtype=np.uint8)
    mean_image[0, :, 0] = 250
    return {"heat": heat, "mean_image": mean_image, "points": np.int64(7), "images": np.int64(4)}


def annotation_arrays() -> dict[str, np.ndarray]:
    """The stored ``annotations.npz``: the positives 0, 2, 3 with boxes in image pixels and two
    landmarks (tail absent on image 2)."""
    nan = np.nan
    return {
        "indices": np.array([0, 2, 3]),
        "categories": np.array([0, 0, 0]),
        "category_names": np.array(["bird"]),
        "bboxes": np.array([[8.0, 8.0, 56.0, 56.0], [0.0, 0.0, 64.0, 64.0], [16.0, 32, 48, 64]]),
        "landmarks": np.array(
            [[[20.0, 20.0], [50.0, 40.0]], [[10.0, 30.0], [nan, nan]], [[32.0, 40.0], [40, 60]]]
        ),
        "landmark_names": np.array(["head", "tail"]),
    }


def _write_heatmaps(artifacts: RunArtifacts) -> None:
    folder = artifacts.heatmaps_dir
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "bird.npz", **heatmap_arrays())
    Image.new("RGB", (16, 16), (200, 30, 30)).save(folder / "bird.png")


def _publish_model(artifacts: RunArtifacts, config: dict) -> None:
    from partlens.models import save_checkpoint
    from partlens.runs.config import build_run_model

    torch_config = {**config, "width": MODEL_WIDTH}
    save_checkpoint(build_run_model(torch_config), artifacts.model_dir, run_config=torch_config)


def publish_evaluated(client: TestClient, runs_dir) -> Served:
    """Launch a run record, publish its features (`test_filters_api`), a tiny model, heat
    maps and metrics.json, and mark it succeeded."""
    run = client.post("/api/v1/runs", json={"dataset": {"image_size": SIZE, "eval_size": N}})
    run_id = run.json()["id"]
    artifacts = RunArtifacts(runs_dir, run_id)
    artifacts.write_features({"conv_added": _maps()}, _manifest(run.json()), images=_images())
    _publish_model(artifacts, run.json()["config"])
    _write_heatmaps(artifacts)
    np.savez(artifacts.root / "annotations.npz", **annotation_arrays())
    metrics = run_dict(run_id=run_id, layers={"conv_added": evaluated_layer()})
    metrics["heatmaps"] = {"bird": "heatmaps/bird.png"}
    metrics["heatmap_arrays"] = {"bird": "heatmaps/bird.npz"}
    atomic_write_json(artifacts.metrics_path, metrics)
    with client.app.state.sessions() as session:
        session.get(Run, run_id).status = RunStatus.succeeded.value
        session.commit()
    return Served(client, f"/api/v1/runs/{run_id}", artifacts)
