"""Filter routes serve a run from its published features alone: maps, statistics, stored PNGs
(no dataset, no generator); older folders stay readable or say how to fix them."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from backend.main import create_app
from backend.rendering import overlay
from partlens.config import Settings
from partlens.data.builtin.generator import BuiltinDataset
from partlens.runs.config import build_eval_dataset
from partlens.store import RunArtifacts, atomic_write_json
from tests.partlens.evaluation.legacy_features import write_legacy_features

SIZE = 64
N = 5


def _maps() -> np.ndarray:
    """[N, F=3, 8, 8] distinct values; filter 1 fires hardest on image 3 at (row 6, col 2)."""
    maps = np.random.default_rng(0).permutation(N * 3 * 64).reshape(N, 3, 8, 8) / 1000.0
    maps[3, 1, 6, 2] = 2.0
    return maps.astype(np.float32)


def _images() -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8) for _ in range(N)]


def _manifest(run: dict) -> dict:
    return {
        "dataset": run["config"]["dataset"],
        "split": "test",
        "num_images": N,
        "image_size": SIZE,
        "categories": ["negative", "bird"],
        "labels": [1, 0, 1, 1, 0],
        "logits": [[0.5]] * N,
    }


@pytest.fixture
def api(tmp_path, redis_url):
    settings = Settings(data_dir=tmp_path, broker_url=redis_url)
    with TestClient(create_app(settings)) as client:

        def new_run() -> tuple[dict, RunArtifacts]:
            body = {"dataset": {"image_size": SIZE, "eval_size": N}}
            run = client.post("/api/v1/runs", json=body).json()
            return run, RunArtifacts(settings.runs_dir, run["id"])

        yield client, new_run


@pytest.fixture
def published(api):
    client, new_run = api
    run, artifacts = new_run()
    artifacts.write_features({"conv_added": _maps()}, _manifest(run), images=_images())
    return client, f"/api/v1/runs/{run['id']}", artifacts


@pytest.fixture
def no_dataset(monkeypatch):
    """Any use of the dataset code on the request path fails the request."""

    def refuse(*args, **kwargs):
        raise AssertionError("the request path used the dataset")

    monkeypatch.setitem(sys.modules, "partlens.data", None)  # import partlens.data fails
    monkeypatch.setattr(BuiltinDataset, "__getitem__", refuse)


def _png(response) -> np.ndarray:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(response.content)))


def test_images_and_overlays_come_from_the_stored_png(published, no_dataset):
    client, base, artifacts = published
    for index, image in enumerate(_images()):
        response = client.get(f"{base}/images/{index}.png")
        assert response.content == artifacts.image_path(index).read_bytes(), "byte for byte"
        np.testing.assert_array_equal(_png(response), image)
    heat = _png(client.get(f"{base}/layers/conv_added/filters/1/overlay.png?image=3"))
    expected = overlay(_images()[3], _maps()[3, 1].astype(np.float16).astype(np.float32), 2.0)
    np.testing.assert_array_equal(heat, expected)
    missing = client.get(f"{base}/images/{N}.png")
    assert missing.status_code == 404 and f"has {N} images" in missing.json()["detail"]


def test_summaries_and_top_images_come_from_the_statistics(published, monkeypatch):
    client, base, _ = published

    def refuse(*args, **kwargs):
        raise AssertionError("read the maps")

    monkeypatch.setattr(RunArtifacts, "layer_maps", refuse)
    values = _maps().astype(np.float16).astype(np.float32)
    per_image = values.reshape(N, 3, -1).max(axis=2)  # [N, F]
    summary = client.get(f"{base}/layers/conv_added/filters").json()
    assert [s["filter"] for s in summary] == [0, 1, 2]
    for f, item in enumerate(summary):
        best = int(per_image[:, f].argmax())
        assert item["top_image"] == best and item["peak"] == pytest.approx(per_image[best, f])
        row, col = divmod(int(values[best, f].argmax()), 8)
        assert item["argmax"] == [row, col]
        assert item["mean"] == pytest.approx(values[:, f].mean(), rel=1e-5)
        assert item["mean_max"] == pytest.approx(per_image[:, f].mean(), rel=1e-5)
    assert (summary[1]["top_image"], summary[1]["peak"], summary[1]["argmax"]) == (3, 2.0, [6, 2])
    for k in (2, N, 100):
        top = client.get(f"{base}/layers/conv_added/filters/1/top", params={"k": k}).json()
        order = np.argsort(-per_image[:, 1], kind="stable")[:k]
        assert top["images"] == order.tolist()
        assert top["peaks"] == pytest.approx(per_image[order, 1].tolist())
        assert top["argmax"][0] == [6, 2]
        assert top["positions"] is None  # not evaluated: no RF geometry yet


def test_activation_reads_one_filter_and_its_peak(published, no_dataset):
    client, base, _ = published
    url = f"{base}/layers/conv_added/filters/1/activation"
    body = client.get(url, params={"image": 3}).json()
    assert body["argmax"] == [6, 2] and body["max"] == 2.0 and body["filter_max"] == 2.0
    expected = _maps()[3, 1].astype(np.float16).astype(np.float32)
    np.testing.assert_allclose(body["map"], expected, atol=1e-5)
    other = client.get(url, params={"image": 0}).json()
    assert other["filter_max"] == 2.0 and other["max"] < 2.0
    assert client.get(url, params={"image": N}).status_code == 404
    assert client.get(f"{base}/layers/conv_added/filters/3/activation").status_code == 404
    assert client.get(f"{base}/layers/nope/filters/0/top").status_code == 404


def test_features_lists_layers_with_their_shapes(published):
    client, base, _ = published
    body = client.get(f"{base}/features").json()
    assert body["num_images"] == N and body["image_size"] == SIZE
    assert body["layers"] == [{"name": "conv_added", "filters": 3, "height": 8, "width": 8}]


def test_a_legacy_run_still_serves_maps_and_regenerates_its_images(api):
    client, new_run = api
    run, artifacts = new_run()
    write_legacy_features(artifacts, {"conv_added": _maps()}, _manifest(run))
    base = f"/api/v1/runs/{run['id']}"
    summary = client.get(f"{base}/layers/conv_added/filters").json()
    assert summary[1]["top_image"] == 3 and summary[1]["peak"] == 2.0
    top = client.get(f"{base}/layers/conv_added/filters/1/top", params={"k": 1}).json()
    assert top["images"] == [3]
    body = client.get(f"{base}/layers/conv_added/filters/1/activation?image=3").json()
    assert body["argmax"] == [6, 2] and body["filter_max"] == 2.0
    # No stored images: the old deterministic regeneration from the dataset spec.
    regenerated = build_eval_dataset({"dataset": run["config"]["dataset"]})[2].image
    np.testing.assert_array_equal(_png(client.get(f"{base}/images/2.png")), regenerated)
    assert _png(client.get(f"{base}/layers/conv_added/filters/1/overlay.png")).shape == (
        SIZE,
        SIZE,
        3,
    )


def test_a_legacy_run_without_a_dataset_spec_is_409_with_the_fix(api):
    client, new_run = api
    run, artifacts = new_run()
    manifest = {key: value for key, value in _manifest(run).items() if key != "dataset"}
    write_legacy_features(artifacts, {"conv_added": _maps()}, manifest)
    response = client.get(f"/api/v1/runs/{run['id']}/images/0.png")
    assert response.status_code == 409
    assert "published before images were stored; re-run it" in response.json()["detail"]


def test_unfinished_and_unknown_versions_are_409(published, api):
    client, base, artifacts = published
    raw = artifacts.manifest()
    atomic_write_json(artifacts.features_dir / "manifest.json", {**raw, "schema_version": 9})
    response = client.get(f"{base}/features")
    assert response.status_code == 409 and "schema_version 9" in response.json()["detail"]
    run, _ = api[1]()
    response = client.get(f"/api/v1/runs/{run['id']}/layers/conv_added/filters")
    assert response.status_code == 409 and "no feature maps yet" in response.json()["detail"]
