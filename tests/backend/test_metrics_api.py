"""Metric routes and the RF-region overlay on hand-written artifacts (no worker needed)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from backend.main import create_app
from backend.rendering import png_bytes
from partlens.config import Settings
from partlens.store import Run, RunArtifacts, atomic_write_json

SIZE = 64


def _layer_metrics(instability: float, interpretability: float) -> dict:
    centers = [[[8 * c + 4.0, 8 * r + 4.0] for c in range(8)] for r in range(8)]
    return {
        "geometry": {
            "unit_centers": centers,
            "rf_size": 38,
            "rf_radius": 6.0,
            "thresholds": [0.5, 0.5],
        },
        "location_instability": {
            "mean": instability,
            "per_filter": [instability, None],
            "excluded": 1,
            "landmarks": ["head"],
            "random_reference": 0.15,
            "oracle_reference": 0.03,
        },
        "part_interpretability": {
            "mean": interpretability,
            "per_filter": [0.5, 0.1],
            "parts": ["head", "torso"],
            "best_part": ["head", "torso"],
            "best_part_histogram": {"head": 1, "torso": 1},
            "rf_radius": 6.0,
            "radius_sensitivity": [{"radius": 6.0, "mean": 0.3}],
        },
    }


def _publish(settings: Settings, run: Run, instability: float, interpretability: float) -> None:
    artifacts = RunArtifacts(settings.runs_dir, run.id)
    maps = np.zeros((3, 2, 8, 8), dtype=np.float32)
    maps[:, 0, 2, 5] = 1.0  # filter 0 fires at one unit (row 2, col 5) on every image
    dataset = dict(run.config["dataset"], image_size=SIZE)
    artifacts.write_features(
        {"conv_added": maps},
        {
            "dataset": dataset,
            "num_images": 3,
            "image_size": SIZE,
            "categories": ["neg", "bird"],
            "labels": [1, 1, 0],
            "logits": [[1.0], [2.0], [-1.0]],
        },
    )
    (artifacts.heatmaps_dir).mkdir(parents=True)
    (artifacts.heatmaps_dir / "bird.png").write_bytes(png_bytes(np.zeros((4, 4, 3), np.uint8)))
    atomic_write_json(
        artifacts.metrics_path,
        {
            "run_id": run.id,
            "interpretable": run.config["interpretable"],
            "accuracy": 0.9,
            "top_layer": "conv_added",
            "layers": {"conv_added": _layer_metrics(instability, interpretability)},
            "heatmaps": {"bird": "heatmaps/bird.png"},
        },
    )


@pytest.fixture
def evaluated(tmp_path, redis_url):
    settings = Settings(data_dir=tmp_path, broker_url=redis_url)
    app = create_app(settings)
    with TestClient(app) as client:
        run = client.post(
            "/api/v1/runs", json={"with_twin": True, "dataset": {"image_size": SIZE}}
        ).json()
        with app.state.sessions() as session:
            for run_id, (li, pi) in ((run["id"], (0.06, 0.6)), (run["twin_id"], (0.12, 0.2))):
                _publish(settings, session.get(Run, run_id), li, pi)
        yield client, run


def test_metrics_served_as_written(evaluated):
    client, run = evaluated
    metrics = client.get(f"/api/v1/runs/{run['id']}/metrics").json()
    assert metrics["layers"]["conv_added"]["location_instability"]["mean"] == 0.06


def test_comparison_pairs_twins_with_ratios(evaluated):
    client, run = evaluated
    comparison = client.get(f"/api/v1/runs/{run['twin_id']}/comparison").json()
    assert comparison["interpretable"]["run_id"] == run["id"]
    assert comparison["ordinary"]["run_id"] == run["twin_id"]
    ratios = comparison["ratios"]["conv_added"]
    assert ratios["location_instability"] == pytest.approx(0.5)
    assert ratios["part_interpretability"] == pytest.approx(3.0)
    assert comparison["interpretable"]["layers"]["conv_added"]["random_reference"] == 0.15


def test_heatmap_png_and_unknown_category(evaluated):
    client, run = evaluated
    response = client.get(f"/api/v1/runs/{run['id']}/heatmaps/bird.png")
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
    missing = client.get(f"/api/v1/runs/{run['id']}/heatmaps/cow.png")
    assert missing.status_code == 404 and "bird" in missing.json()["detail"]


def test_rf_overlay_marks_the_disk_around_the_firing_unit(evaluated):
    client, run = evaluated
    url = f"/api/v1/runs/{run['id']}/layers/conv_added/filters/0/overlay.png"
    rf = np.asarray(Image.open(io.BytesIO(client.get(url, params={"mode": "rf"}).content)))
    plain = np.asarray(
        Image.open(io.BytesIO(client.get(f"/api/v1/runs/{run['id']}/images/0.png").content))
    )
    assert rf.shape == (SIZE, SIZE, 3)
    # The unit (row 2, col 5) has its RF centre at (x=44, y=20): kept; far corners dimmed.
    np.testing.assert_array_equal(rf[20, 44], plain[20, 44])
    assert (rf[60, 4].astype(int) <= plain[60, 4].astype(int) * 0.4 + 1).all()
    bad = client.get(url, params={"mode": "sparkles"})
    assert bad.status_code == 422


def test_unevaluated_run_metrics_is_409(tmp_path, redis_url):
    with TestClient(create_app(Settings(data_dir=tmp_path, broker_url=redis_url))) as client:
        run = client.post("/api/v1/runs", json={}).json()
        response = client.get(f"/api/v1/runs/{run['id']}/metrics")
        assert response.status_code == 409 and "not evaluated" in response.json()["detail"]
        assert client.get(f"/api/v1/runs/{run['id']}/comparison").status_code == 404
