"""Bring your own data and weights: a Pascal-Part folder and a tiny state dict registered
through the API, a run on them under a real worker, served with the dataset moved away."""

from __future__ import annotations

import io
import shutil

import httpx
import numpy as np
import pytest
import redis
import torch
from PIL import Image
from safetensors.torch import save_file

from partlens.models import build_model
from tests.pascal_part_folder import write_pascal_part_scenes
from tests.support import REDIS_TEST_URL, Stack

pytestmark = pytest.mark.integration


@pytest.fixture
def stack(tmp_path):
    client = redis.Redis.from_url(REDIS_TEST_URL)
    client.flushdb()
    roots = tmp_path / "datasets"
    stack = Stack(
        tmp_path / "stack",
        REDIS_TEST_URL,
        queue="own-data",
        extra_env={"PARTLENS_DATASET_ROOTS": str(roots)},
    )
    stack.data_dir.mkdir()
    yield stack.start()
    stack.stop()
    client.flushdb()


def test_a_run_on_a_registered_dataset_and_weights_serves_without_the_dataset(stack, tmp_path):
    api = stack.api_url
    root = write_pascal_part_scenes(tmp_path / "datasets" / "pascal", train=24, val=12, size=80)
    created = httpx.post(
        f"{api}/datasets",
        json={"name": "pascal", "format": "pascal-part", "root": str(root)},
        timeout=60,
    )
    assert created.status_code == 201, created.text
    weights = tmp_path / "tiny8.safetensors"
    torch.manual_seed(0)  # the same starting weights whatever ran before in this process
    state = build_model("tiny", interpretable=False, width=8).state_dict()
    save_file({k: v.contiguous() for k, v in state.items()}, str(weights))
    with open(weights, "rb") as file:
        uploaded = httpx.post(
            f"{api}/weights",
            data={"name": "tiny8", "arch": "tiny"},
            files={"file": ("tiny8.safetensors", file)},
            timeout=60,
        )
    assert uploaded.status_code == 201, uploaded.text

    body = {
        "arch": "tiny",
        "weights": "tiny8",
        "epochs": 1,
        "batch_size": 8,
        "dataset": {"name": "pascal", "task": "single", "category": "cat", "image_size": 64},
    }
    launched = httpx.post(f"{api}/runs", json=body, timeout=30)
    assert launched.status_code == 201, launched.text
    run = stack.wait_run(launched.json()["id"])
    assert run["status"] == "succeeded", f"{run['error']}\n{stack.logs()}"
    assert run["config"]["width"] == 8

    shutil.move(root, tmp_path / "moved-away")
    run_id = run["id"]
    features = httpx.get(f"{api}/runs/{run_id}/features", timeout=30).json()
    assert features["num_images"] == 12 and features["categories"] == ["negative", "cat"]
    image = httpx.get(f"{api}/runs/{run_id}/images/0.png", timeout=30)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    stored = (stack.data_dir / "runs" / run_id / "features" / "images" / "0.png").read_bytes()
    assert image.content == stored
    overlay = httpx.get(f"{api}/runs/{run_id}/layers/conv_top/filters/0/overlay.png", timeout=30)
    assert overlay.status_code == 200, overlay.text
    assert np.asarray(Image.open(io.BytesIO(overlay.content))).shape[:2] == (64, 64)
    metrics = httpx.get(f"{api}/runs/{run_id}/metrics", timeout=30).json()
    assert metrics["layers"]["conv_top"]["part_interpretability"] is not None
