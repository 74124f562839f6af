"""partlens.client against a live API (the session stack with its finished tiny run), and its
probe and dataset-sample calls against the in-process app."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from backend.main import create_app
from partlens.client import ApiError, PartlensClient
from partlens.config import Settings
from tests.backend.served_run import heatmap_arrays, publish_evaluated


@pytest.mark.integration
def test_the_client_reads_a_finished_run_like_the_api(redis_stack, tiny_run):
    with PartlensClient(redis_stack.api_url) as api:
        assert api.health()["database"] == "ok"
        run = api.wait(tiny_run["id"], timeout_s=5)
        assert run["status"] == "succeeded"
        assert tiny_run["id"] in [r["id"] for r in api.runs(kind="interpretable")]
        points = api.history(run["id"])
        assert points and points[-1]["step"] == run["step"]
        assert "attempt 1 on" in api.log(run["id"])
        layer = next(iter(api.metrics(run["id"])["layers"]))
        summary = api.filters(run["id"], layer)[0]
        fmap = api.filter_map(run["id"], layer, 0, image=summary["top_image"])
        raw = httpx.get(
            f"{redis_stack.api_url}/runs/{run['id']}/layers/{layer}/filters/0/activation",
            params={"image": summary["top_image"]},
        ).json()["map"]
        assert np.array_equal(fmap, np.asarray(raw, np.float32))
        assert float(fmap.max()) == pytest.approx(summary["peak"], abs=1e-4)
        image = api.image(run["id"], 0)
        assert image.dtype == np.uint8 and image.shape[2] == 3
        assert api.datasets()[0]["name"] == "builtin"


@pytest.mark.integration
def test_errors_carry_the_api_s_status_and_message(redis_stack):
    with PartlensClient(redis_stack.api_url) as api:
        with pytest.raises(ApiError) as missing:
            api.run("nope")
        assert missing.value.status_code == 404 and "nope" in missing.value.message
        with pytest.raises(ApiError) as invalid:
            api.launch({"arch": "resnet9000"})
        assert invalid.value.status_code == 422 and "resnet9000" in invalid.value.message


def test_probe_and_dataset_samples_in_process(tmp_path, redis_url):
    settings = Settings(data_dir=tmp_path, broker_url=redis_url)
    app = create_app(settings)
    with TestClient(app) as setup:
        run_id = publish_evaluated(setup, settings.runs_dir).artifacts.root.name
    buffer = io.BytesIO()
    Image.new("RGB", (80, 64), (10, 200, 30)).save(buffer, format="PNG")
    path = tmp_path / "me.png"
    path.write_bytes(buffer.getvalue())
    with PartlensClient("http://testserver/api/v1") as api:
        api._http = TestClient(app, base_url="http://testserver/api/v1")
        probe = api.probe(run_id, path)
        assert api.probe(run_id, buffer.getvalue())["id"] == probe["id"], "bytes or a file"
        layer = probe["layers"][-1]["name"]
        filters = api.probe_filters(probe["id"], layer)
        fmap = api.probe_map(probe["id"], layer, 0)
        assert fmap.dtype == np.float32
        assert float(fmap.max()) == pytest.approx(filters[0]["peak"], abs=1e-4)  # 5 decimals
        with pytest.raises(ApiError) as not_image:
            api.probe(run_id, b"text")
        assert not_image.value.status_code == 422
        page = api.dataset_samples("builtin", split="test", limit=2)
        assert page["total"] > 2 and [item["index"] for item in page["items"]] == [0, 1]


def test_filter_table_heatmap_and_csv_in_process(tmp_path, redis_url):
    settings = Settings(data_dir=tmp_path, broker_url=redis_url)
    app = create_app(settings)
    with TestClient(app) as setup:
        run_id = publish_evaluated(setup, settings.runs_dir).artifacts.root.name
    with PartlensClient("http://testserver/api/v1") as api:
        api._http = TestClient(app, base_url="http://testserver/api/v1")
        rows = api.filters(run_id, "conv_added", sort="part_score", desc=True, part="head")
        assert [row["filter"] for row in rows] == [0, 2]
        np.testing.assert_array_equal(api.heatmap(run_id, "bird"), heatmap_arrays()["heat"])
        assert api.metrics_csv(run_id).splitlines()[0].startswith("run_id,name,arch")
