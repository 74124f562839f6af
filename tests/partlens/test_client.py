"""partlens.client against a live API (the session stack with its finished tiny run)."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from partlens.client import ApiError, PartlensClient

pytestmark = pytest.mark.integration


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


def test_errors_carry_the_api_s_status_and_message(redis_stack):
    with PartlensClient(redis_stack.api_url) as api:
        with pytest.raises(ApiError) as missing:
            api.run("nope")
        assert missing.value.status_code == 404 and "nope" in missing.value.message
        with pytest.raises(ApiError) as invalid:
            api.launch({"arch": "resnet9000"})
        assert invalid.value.status_code == 422 and "resnet9000" in invalid.value.message
