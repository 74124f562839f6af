"""A landmark-only dataset end to end: a CUB-200 folder registered through the API, a run on
it (from scratch) under a real worker, its metrics, table, heat maps and part positions."""

from __future__ import annotations

import json

import httpx
import pytest
import redis

from tests.cub_folder import write_cub_scenes
from tests.support import REDIS_TEST_URL, Stack

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(tmp_path):
    client = redis.Redis.from_url(REDIS_TEST_URL)
    client.flushdb()
    stack = Stack(
        tmp_path / "stack",
        REDIS_TEST_URL,
        queue="own-data-landmarks",
        extra_env={"PARTLENS_DATASET_ROOTS": str(tmp_path / "datasets")},
    )
    stack.data_dir.mkdir()
    yield stack.start()
    stack.stop()
    client.flushdb()


def test_a_run_on_a_cub_folder_gets_location_instability_and_says_why(stack, tmp_path):
    api = stack.api_url
    root = write_cub_scenes(tmp_path / "datasets" / "cub", train=24, test=12, size=80)
    created = httpx.post(
        f"{api}/datasets", json={"name": "cub", "format": "cub200", "root": str(root)}, timeout=60
    )
    assert created.status_code == 201, created.text
    assert created.json()["categories"] == ["bird"]
    body = {
        "arch": "tiny",
        "from_scratch": True,
        "epochs": 1,
        "batch_size": 8,
        "width": 8,
        "dataset": {"name": "cub", "task": "single", "category": "bird", "image_size": 64},
    }
    launched = httpx.post(f"{api}/runs", json=body, timeout=30)
    assert launched.status_code == 201, launched.text
    run = stack.wait_run(launched.json()["id"])
    assert run["status"] == "succeeded", f"{run['error']}\n{stack.logs()}"
    assert run["config"]["from_scratch"] is True and run["config"]["weights"] is None
    run_id = run["id"]

    written = json.loads((stack.data_dir / "runs" / run_id / "metrics.json").read_text())
    assert written["part_interpretability_absent"].startswith("cub (cub200) annotates landmarks")
    top = written["layers"][written["top_layer"]]
    assert top["part_interpretability"] is None
    assert top["location_instability"]["mean"] is not None
    assert top["location_instability"]["random_reference"] is not None

    metrics = httpx.get(f"{api}/runs/{run_id}/metrics", timeout=30)
    assert metrics.status_code == 200 and metrics.json() == written
    table = httpx.get(f"{api}/runs/{run_id}/metrics.csv", timeout=30)
    assert table.status_code == 200 and table.text.count("\n") == 1 + len(written["layers"])
    rows = httpx.get(f"{api}/runs/{run_id}/layers/conv_top/filters", timeout=30)
    assert rows.status_code == 200, rows.text
    assert {row["part_score"] for row in rows.json()} == {None}
    heatmaps = httpx.get(f"{api}/runs/{run_id}/heatmaps", timeout=30)
    assert heatmaps.status_code == 200 and heatmaps.json()["categories"] == ["bird"]
    strongest = max(rows.json(), key=lambda row: row["peak"])
    path = f"{api}/runs/{run_id}/layers/conv_top/filters/{strongest['filter']}/positions"
    positions = httpx.get(path, timeout=30)
    assert positions.status_code == 200, positions.text
    assert positions.json()["points"] and "back" in {
        landmark["name"] for landmark in positions.json()["landmarks"]
    }
