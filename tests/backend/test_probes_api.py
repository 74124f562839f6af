"""Probe your own image: an upload runs the served run's published model, every filter's
response is stored once and served like the run's own images (heat scaled by the run's max)."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
import torch
from fastapi import FastAPI
from PIL import Image

from backend import probing
from backend.api.routes import probes as probe_routes
from backend.probing import RECORD, model_input, prune_probes
from backend.rendering import overlay
from partlens.data.types import image_to_tensor
from partlens.models.checkpoint import load_model
from partlens.nn import template_shapes
from partlens.store import atomic_write_json
from tests.backend.served_run import MODEL_WIDTH, Served, evaluated_layer, png_array
from tests.backend.test_filters_api import SIZE, N, _images, _manifest
from tests.partlens.evaluation.sample_metrics import run_dict

UNITS = 8  # tiny's maps at 64 px are 8 x 8


def _png_upload(width: int = 96, height: int = 80, seed: int = 3) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def probed(served: Served) -> Served:
    """The served run grown to its model's 8 filters: maps whose filter f peaks at f + 1, and
    metrics whose T_f are 0 (every unit above: a region on every probe)."""
    maps = np.full((N, MODEL_WIDTH, UNITS, UNITS), 0.01, dtype=np.float32)
    for f in range(MODEL_WIDTH):
        maps[f % N, f, 2, 3] = f + 1.0
    run = served.client.get(served.base).json()
    served.artifacts.write_features({"conv_added": maps}, _manifest(run), images=_images())
    layer = evaluated_layer()
    layer["geometry"]["thresholds"] = [0.0] * MODEL_WIDTH
    layer["location_instability"]["per_filter"] = [0.1] * MODEL_WIDTH
    layer["part_interpretability"]["per_filter"] = [0.5] * MODEL_WIDTH
    layer["part_interpretability"]["best_part"] = ["head"] * MODEL_WIDTH
    metrics = run_dict(run_id=run["id"], layers={"conv_added": layer})
    atomic_write_json(served.artifacts.metrics_path, metrics)
    return served


def _post(served: Served, data: bytes, name: str = "me.png", run_base: str | None = None):
    return served.client.post(
        f"{run_base or served.base}/probes", files={"image": (name, data, "image/png")}
    )


def _expected_maps(served: Served, data: bytes) -> dict[str, np.ndarray]:
    model = load_model(served.artifacts.model_dir)
    with torch.no_grad():
        _, maps = model.forward_with_features(image_to_tensor(model_input(data, SIZE))[None])
    return {name: tensor[0].numpy() for name, tensor in maps.items()}


def test_a_probe_is_created_once_per_upload(probed: Served):
    data = _png_upload()
    created = _post(probed, data)
    assert created.status_code == 201, created.text
    body = created.json()
    run_id = probed.artifacts.root.name
    assert body["run_id"] == run_id and body["image_size"] == SIZE
    assert body["layers"] == [
        {"name": "conv_top", "filters": MODEL_WIDTH},
        {"name": "conv_added", "filters": MODEL_WIDTH},
    ]
    assert created.headers["location"].endswith(f"/api/v1/probes/{body['id']}")
    assert probed.client.get(created.headers["location"]).json() == body
    again = _post(probed, data, name="other-name.png")
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert _post(probed, _png_upload(seed=4)).json()["id"] != body["id"]


def test_the_probe_image_is_the_centre_crop_the_model_saw(probed: Served):
    data = _png_upload(width=96, height=64)
    pid = _post(probed, data).json()["id"]
    crop = png_array(probed.client.get(f"/api/v1/probes/{pid}/image.png"))
    original = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert crop.shape == (SIZE, SIZE, 3)
    assert np.array_equal(crop, original[:, 16:80]), "64 px high: no resize, 16 px off each side"


def test_every_filters_response_matches_the_model(probed: Served):
    data = _png_upload()
    pid = _post(probed, data).json()["id"]
    expected = _expected_maps(probed, data)
    for layer, maps in expected.items():
        filters = probed.client.get(f"/api/v1/probes/{pid}/layers/{layer}/filters").json()
        assert [f["filter"] for f in filters] == list(range(MODEL_WIDTH))
        assert [f["peak"] for f in filters] == pytest.approx(maps.reshape(MODEL_WIDTH, -1).max(1))
        assert [f["mean"] for f in filters] == pytest.approx(maps.reshape(MODEL_WIDTH, -1).mean(1))
    # conv_added has the run's geometry: p(mu_hat) is the top unit's RF centre (8c+4, 8r+4).
    top = probed.client.get(f"/api/v1/probes/{pid}/layers/conv_added/filters").json()
    for f, entry in enumerate(top):
        row, col = divmod(int(expected["conv_added"][f].argmax()), UNITS)
        assert entry["position"] == [8 * col + 4.0, 8 * row + 4.0]


def test_activation_has_the_map_mask_and_masked_map_and_the_runs_scale(probed: Served):
    data = _png_upload()
    pid = _post(probed, data).json()["id"]
    fmap = _expected_maps(probed, data)["conv_added"][5]
    body = probed.client.get(f"/api/v1/probes/{pid}/layers/conv_added/filters/5/activation").json()
    assert np.asarray(body["map"]) == pytest.approx(fmap, abs=1e-4)
    row, col = divmod(int(fmap.argmax()), UNITS)
    assert body["argmax"] == [row, col] and body["max"] == pytest.approx(fmap.max())
    assert body["filter_max"] == pytest.approx(6.0), "the run's max of filter 5"
    mask = template_shapes(UNITS, UNITS, beta=4.0, norm="l1")[row * UNITS + col].numpy()
    assert np.asarray(body["mask"]) == pytest.approx(mask, abs=1e-4)
    assert np.asarray(body["masked"]) == pytest.approx(np.maximum(fmap * mask, 0), abs=1e-3)
    # conv_top has no statistics in the run: its scale is the probe's own max.
    own = probed.client.get(f"/api/v1/probes/{pid}/layers/conv_top/filters/2/activation").json()
    assert own["filter_max"] == pytest.approx(own["max"])


def test_overlays_sheet_and_panel(probed: Served):
    data = _png_upload()
    pid = _post(probed, data).json()["id"]
    base = f"/api/v1/probes/{pid}/layers/conv_added"
    fmap = _expected_maps(probed, data)["conv_added"][3]
    heat = png_array(probed.client.get(f"{base}/filters/3/overlay.png"))
    picture = model_input(data, SIZE)
    assert np.abs(heat.astype(int) - overlay(picture, fmap, 4.0)).max() <= 1
    region = png_array(probed.client.get(f"{base}/filters/3/overlay.png?mode=rf"))
    assert region.shape == picture.shape and not np.array_equal(region, heat)
    sheet = png_array(probed.client.get(f"{base}/sheet.png?tile=32&columns=4&sort=peak&desc=true"))
    assert sheet.shape == (2 * 32, 4 * 32, 3)
    tiles = probed.client.get(f"{base}/sheet.json?tile=32&columns=4&sort=peak&desc=true").json()
    peaks = _expected_maps(probed, data)["conv_added"].reshape(MODEL_WIDTH, -1).max(1)
    assert tiles["filters"] == [int(f) for f in np.argsort(-peaks, kind="stable")]
    assert (tiles["rows"], tiles["total"], tiles["offset"]) == (2, MODEL_WIDTH, 0)
    panel = png_array(probed.client.get(f"{base}/filters/3/panel.png?size=64"))
    assert panel.shape[1] == 4 * 64
    first = probed.client.get(f"{base}/filters/3/overlay.png")
    cached = probed.client.get(
        f"{base}/filters/3/overlay.png", headers={"If-None-Match": first.headers["etag"]}
    )
    assert cached.status_code == 304


def test_a_layer_without_the_runs_metrics_has_no_region(probed: Served):
    pid = _post(probed, _png_upload()).json()["id"]
    base = f"/api/v1/probes/{pid}/layers/conv_top"
    assert probed.client.get(f"{base}/filters/0/overlay.png").status_code == 200
    for path in ("/filters/0/overlay.png?mode=rf", "/filters/0/panel.png", "/sheet.png?overlay=rf"):
        response = probed.client.get(base + path)
        assert response.status_code == 409 and "not evaluated" in response.json()["detail"]


def test_unknown_probe_layer_and_filter(probed: Served):
    pid = _post(probed, _png_upload()).json()["id"]
    for path in (
        "/probes/0123456789abcdef0123",
        f"/probes/{pid}/layers/nope/filters",
        f"/probes/{pid}/layers/conv_added/filters/8/activation",
        f"/probes/{pid}/layers/conv_added/sheet.png?offset=8",
    ):
        assert probed.client.get(f"/api/v1{path}").status_code == 404, path
    bad = probed.client.get("/api/v1/probes/..%2F..%2Fetc/image.png")
    assert bad.status_code in (404, 422)
    invalid = probed.client.get(f"/api/v1/probes/{pid}/layers/conv_added/sheet.json?limit=0")
    assert [e["loc"][-1] for e in invalid.json()["detail"]] == ["limit"]


def test_bad_uploads(probed: Served, monkeypatch):
    client = probed.client
    not_image = _post(probed, b"hello, not an image", name="x.png")
    assert not_image.status_code == 422 and "image" in not_image.json()["detail"]
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, format="GIF")
    refused_gif = _post(probed, gif.getvalue(), name="x.gif")
    assert refused_gif.status_code == 422 and "GIF is not supported" in refused_gif.json()["detail"]
    truncated = _post(probed, _png_upload()[:200])
    assert truncated.status_code == 422 and "image" in truncated.json()["detail"]
    monkeypatch.setattr(probe_routes, "MAX_UPLOAD_BYTES", 1000)
    too_large = _post(probed, _png_upload())
    assert too_large.status_code == 413 and "bytes" in too_large.json()["detail"]
    monkeypatch.undo()
    missing = client.post(f"{probed.base}/probes")
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"][-1] == "image"
    unknown = _post(probed, _png_upload(), run_base="/api/v1/runs/nope")
    assert unknown.status_code == 404
    queued = client.post("/api/v1/runs", json={}).json()["id"]
    refused = _post(probed, _png_upload(), run_base=f"/api/v1/runs/{queued}")
    assert refused.status_code == 409 and "not succeeded" in refused.json()["detail"]


def test_probing_needs_the_token_when_one_is_set(probed: Served):
    app = probed.client.app
    assert isinstance(app, FastAPI)
    app.state.settings.api_token = "s3cret"
    assert _post(probed, _png_upload()).status_code == 401
    ok = probed.client.post(
        f"{probed.base}/probes",
        files={"image": ("a.png", _png_upload(), "image/png")},
        headers={"Authorization": "Bearer s3cret"},
    )
    assert ok.status_code == 201
    assert probed.client.get(ok.headers["location"]).status_code == 200, "reads stay open"


def test_only_the_newest_probes_are_kept(tmp_path):
    for age, name in enumerate(["old", "mid", "new"]):
        folder = tmp_path / name
        folder.mkdir()
        (folder / RECORD).write_text("{}")
        os.utime(folder / RECORD, ns=(age * 10**9, age * 10**9))
    prune_probes(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mid", "new"]


def test_a_full_inference_pool_refuses_with_503(probed: Served, monkeypatch):
    monkeypatch.setattr(probing, "MAX_PENDING", 0)
    busy = _post(probed, _png_upload())
    assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
    monkeypatch.undo()
    assert _post(probed, _png_upload()).status_code == 201, "nothing left pending"


def test_a_run_whose_model_cannot_be_loaded_is_409(probed: Served):
    (probed.artifacts.model_dir / "model.safetensors").unlink()
    refused = _post(probed, _png_upload())
    assert refused.status_code == 409 and "model cannot be loaded" in refused.json()["detail"]
    (probed.artifacts.model_dir / "model.json").unlink()
    assert "no published model" in _post(probed, _png_upload()).json()["detail"]
