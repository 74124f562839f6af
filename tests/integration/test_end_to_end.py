"""A tiny job through the real API, broker and worker, to feature maps and overlays."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image

from tests.support import TINY_RUN, Stack

pytestmark = pytest.mark.integration


def _check_overlay(stack: Stack, run_id: str) -> None:
    features = httpx.get(f"{stack.api_url}/runs/{run_id}/features", timeout=30).json()
    assert features["num_images"] == TINY_RUN["dataset"]["eval_size"]
    layer = features["layers"][-1]
    assert layer["filters"] > 0 and layer["height"] > 1
    url = f"{stack.api_url}/runs/{run_id}/layers/{layer['name']}/filters/0/overlay.png"
    response = httpx.get(url, params={"image": 3}, timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    picture = Image.open(io.BytesIO(response.content))
    picture.verify()
    assert picture.size == (64, 64)


def test_run_trains_through_redis_worker_and_serves_overlay(redis_stack: Stack, tiny_run: dict):
    assert tiny_run["progress"] == pytest.approx(1.0)
    assert tiny_run["step"] >= 1
    assert tiny_run["task_loss"] is not None
    _check_overlay(redis_stack, tiny_run["id"])
    twin = httpx.get(f"{redis_stack.api_url}/runs/{tiny_run['twin_id']}", timeout=5).json()
    assert twin["config"]["interpretable"] is False
    assert twin["twin_id"] == tiny_run["id"]


def test_activation_and_top_images_agree(redis_stack: Stack, tiny_run: dict):
    features = httpx.get(f"{redis_stack.api_url}/runs/{tiny_run['id']}/features").json()
    layer = features["layers"][0]["name"]
    base = f"{redis_stack.api_url}/runs/{tiny_run['id']}/layers/{layer}/filters/1"
    top = httpx.get(f"{base}/top", params={"k": 3}).json()
    best = httpx.get(f"{base}/activation", params={"image": top["images"][0]}).json()
    assert best["max"] == pytest.approx(top["peaks"][0], rel=1e-3, abs=1e-3)
    assert best["max"] == pytest.approx(best["filter_max"], rel=1e-3, abs=1e-3)
    assert top["peaks"] == sorted(top["peaks"], reverse=True)


def test_run_through_embedded_fallback_broker(tmp_path):
    # Nothing listens on port 1: the API and the worker must both fall back to SQLite.
    stack = Stack(tmp_path, "redis://127.0.0.1:1/0").start()
    try:
        health = httpx.get(f"{stack.api_url}/health", timeout=5).json()
        assert health["broker"] == "sqla+sqlite"
        response = httpx.post(f"{stack.api_url}/runs", json=TINY_RUN, timeout=30)
        assert response.status_code == 201, response.text
        run = stack.wait_run(response.json()["id"])
        assert run["status"] == "succeeded", f"{run['error']}\n{stack.logs()}"
        _check_overlay(stack, run["id"])
        assert (tmp_path / "broker.sqlite").is_file()
    finally:
        stack.stop()


def test_layer_summary_names_each_filters_best_image(redis_stack: Stack, tiny_run: dict):
    base = f"{redis_stack.api_url}/runs/{tiny_run['id']}/layers/conv_added/filters"
    summary = httpx.get(base, timeout=30).json()
    assert [item["filter"] for item in summary] == list(range(len(summary)))
    top = httpx.get(f"{base}/5/top", params={"k": 1}).json()
    assert summary[5]["top_image"] == top["images"][0]
    assert (
        httpx.get(f"{redis_stack.api_url}/runs/{tiny_run['id']}/layers/nope/filters").status_code
        == 404
    )


def test_worker_evaluates_both_twins(redis_stack: Stack, tiny_run: dict):
    api = redis_stack.api_url
    metrics = httpx.get(f"{api}/runs/{tiny_run['id']}/metrics", timeout=30).json()
    assert metrics["interpretable"] is True
    top = metrics["layers"][metrics["top_layer"]]
    assert 0.0 <= top["part_interpretability"]["mean"] <= 1.0
    assert len(top["geometry"]["thresholds"]) == len(top["part_interpretability"]["per_filter"])
    reference = top["location_instability"]["random_reference"]
    assert top["location_instability"]["oracle_reference"] < reference
    comparison = httpx.get(f"{api}/runs/{tiny_run['id']}/comparison", timeout=30).json()
    assert comparison["interpretable"]["run_id"] == tiny_run["id"]
    assert comparison["ordinary"]["run_id"] == tiny_run["twin_id"]
    rf = httpx.get(
        f"{api}/runs/{tiny_run['id']}/layers/{metrics['top_layer']}/filters/0/overlay.png",
        params={"image": 1, "mode": "rf"},
        timeout=30,
    )
    assert rf.status_code == 200
    assert Image.open(io.BytesIO(rf.content)).size == (64, 64)
    for category in metrics["heatmaps"]:
        heatmap = httpx.get(f"{api}/runs/{tiny_run['id']}/heatmaps/{category}.png", timeout=30)
        assert heatmap.status_code == 200 and heatmap.content.startswith(b"\x89PNG")
