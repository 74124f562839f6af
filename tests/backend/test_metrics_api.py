"""Metric routes and the RF-region overlay on hand-written artifacts (no worker needed)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from backend.main import create_app
from backend.rendering import png_bytes
from partlens.config import Settings
from partlens.evaluation.schema import SCHEMA_VERSION, RunMetrics
from partlens.store import Run, RunArtifacts, atomic_write_json
from tests.partlens.evaluation.sample_metrics import layer_dict, run_dict

SIZE = 64


def _layer_metrics(instability: float, interpretability: float) -> dict:
    layer = layer_dict(instability, interpretability)
    layer["location_instability"]["random_reference"] = 0.15
    return layer


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
        run_dict(
            run_id=run.id,
            interpretable=run.config["interpretable"],
            accuracy=0.9,
            layers={"conv_added": _layer_metrics(instability, interpretability)},
        ),
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


def test_metrics_follow_the_contract(evaluated):
    client, run = evaluated
    metrics = client.get(f"/api/v1/runs/{run['id']}/metrics").json()
    assert RunMetrics.model_validate(metrics).schema_version == SCHEMA_VERSION
    # Multi-category-only fields are absent for a single-category run, not null.
    assert "target_category" not in metrics["layers"]["conv_added"]
    assert "per_category_accuracy" not in metrics
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert {"RunMetrics", "LayerMetrics", "Comparison"} <= set(schemas)


def test_comparison_reports_the_accuracy_difference(evaluated):
    client, run = evaluated
    comparison = client.get(f"/api/v1/runs/{run['id']}/comparison").json()
    assert comparison["accuracy_difference_points"] == pytest.approx(0.0)
    assert comparison["directions"] == {
        "location_instability": "lower is better",
        "part_interpretability": "higher is better",
    }


def test_stale_metrics_are_409_with_the_re_evaluate_message(evaluated):
    client, run = evaluated
    settings = client.app.state.settings
    path = RunArtifacts(settings.runs_dir, run["id"]).metrics_path
    old = json.loads(path.read_text())
    del old["schema_version"]
    atomic_write_json(path, old)
    base = f"/api/v1/runs/{run['id']}"
    for url in (f"{base}/metrics", f"{base}/comparison", f"{base}/heatmaps/bird.png"):
        response = client.get(url)
        assert response.status_code == 409, url
        assert (
            f"re-evaluate this run with `partlens evaluate {run['id']}`"
            in (response.json()["detail"])
        )
