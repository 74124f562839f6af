"""The runs API in-process (real DB, real Redis as broker, no worker)."""

from __future__ import annotations

import json

import pytest
import redis
from fastapi.testclient import TestClient

from backend.main import create_app
from partlens.config import Settings


@pytest.fixture
def client(tmp_path, redis_url):
    settings = Settings(data_dir=tmp_path, broker_url=redis_url)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_launch_records_and_enqueues_run_with_twin(client, redis_url):
    response = client.post("/api/v1/runs", json={"arch": "tiny", "with_twin": True})
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["status"] == "queued" and run["config"]["interpretable"] is True
    twin = client.get(f"/api/v1/runs/{run['twin_id']}").json()
    assert twin["config"]["interpretable"] is False and twin["twin_id"] == run["id"]
    queued = redis.Redis.from_url(redis_url).lrange("partlens", 0, -1)
    task_ids = [json.loads(m)["headers"]["argsrepr"] for m in queued]
    assert sorted(task_ids) == sorted([repr([run["id"]]), repr([twin["id"]])])
    listed = [r["id"] for r in client.get("/api/v1/runs").json()]
    assert set(listed) == {run["id"], twin["id"]}


def test_launch_to_a_named_queue_sends_both_twins_there(client, redis_url):
    response = client.post("/api/v1/runs", json={"arch": "tiny", "with_twin": True, "queue": "gpu"})
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["queue"] == "gpu" and "queue" not in run["config"]
    assert client.get(f"/api/v1/runs/{run['twin_id']}").json()["queue"] == "gpu"
    broker = redis.Redis.from_url(redis_url)
    assert broker.llen("gpu") == 2 and broker.llen("partlens") == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"queue": "no spaces"}, "queue"),
        ({"arch": "resnet9000"}, "arch"),
        ({"epochs": -1}, "epochs"),
        ({"dataset": {"category": "unicorn"}}, "category"),
        ({"dataset": {"image_size": 8}}, "image_size"),
        ({"unknown_option": 1}, "unknown_option"),
    ],
)
def test_bad_launch_is_422_with_message(client, body, field):
    response = client.post("/api/v1/runs", json=body)
    assert response.status_code == 422
    assert field in json.dumps(response.json()["detail"])


def test_unknown_run_is_404(client):
    for path in (
        "/api/v1/runs/nope",
        "/api/v1/runs/nope/features",
        "/api/v1/runs/nope/layers/conv/filters/0/overlay.png",
    ):
        response = client.get(path)
        assert response.status_code == 404
        assert "nope" in response.json()["detail"]


def test_features_of_unfinished_run_is_409(client):
    run = client.post("/api/v1/runs", json={}).json()
    response = client.get(f"/api/v1/runs/{run['id']}/layers/x/filters/0/overlay.png")
    assert response.status_code == 409
    assert "no feature maps yet" in response.json()["detail"]


def test_cancel_queued_run(client):
    run = client.post("/api/v1/runs", json={}).json()
    cancelled = client.post(f"/api/v1/runs/{run['id']}/cancel").json()
    assert cancelled["status"] == "cancelled" and cancelled["cancel_requested"] is True
    again = client.post(f"/api/v1/runs/{run['id']}/cancel")
    assert again.status_code == 409


def test_catalog_lists_architectures_and_categories(client):
    assert "tiny" in client.get("/api/v1/architectures").json()
    assert "bird" in client.get("/api/v1/datasets/builtin").json()["categories"]
    losses = client.get("/api/v1/filter-losses").json()
    assert losses[0] == "assigned-mi" and "official" in losses
    catalog = client.get("/api/v1/catalog").json()
    assert {a["name"] for a in catalog["architectures"]} >= {"tiny", "vgg16", "resnet18"}
    assert catalog["default_filter_loss"] == "assigned-mi"


def test_create_answers_a_location_the_client_can_get(client):
    response = client.post("/api/v1/runs", json={"arch": "tiny"})
    location = response.headers["Location"]
    assert location.endswith(f"/api/v1/runs/{response.json()['id']}")
    assert client.get(location).json()["id"] == response.json()["id"]


def test_list_filters_pages_and_counts(client):
    client.post("/api/v1/runs", json={"arch": "tiny", "with_twin": True})
    client.post("/api/v1/runs", json={"arch": "tiny", "interpretable": False})
    every = client.get("/api/v1/runs")
    assert every.headers["X-Total-Count"] == "3" and len(every.json()) == 3
    ordinary = client.get("/api/v1/runs", params={"kind": "ordinary"})
    assert ordinary.headers["X-Total-Count"] == "2"
    assert all(r["config"]["interpretable"] is False for r in ordinary.json())
    page = client.get("/api/v1/runs", params={"limit": 1, "offset": 1})
    assert [r["id"] for r in page.json()] == [every.json()[1]["id"]]
    assert client.get("/api/v1/runs", params={"status": "running"}).json() == []
    assert client.get("/api/v1/runs", params={"dataset": "builtin"}).headers["X-Total-Count"] == "3"
    assert client.get("/api/v1/runs", params={"arch": "vgg16"}).json() == []
    huge = client.get("/api/v1/runs", params={"offset": 10**30})
    assert huge.status_code == 422 and "offset" in json.dumps(huge.json()["detail"])
    bad = client.get("/api/v1/runs", params={"status": "sleeping"})
    assert bad.status_code == 422


def test_delete_refuses_a_live_run_and_removes_a_finished_one(client, tmp_path):
    run = client.post("/api/v1/runs", json={"arch": "tiny", "with_twin": True}).json()
    refused = client.delete(f"/api/v1/runs/{run['id']}")
    assert refused.status_code == 409 and "cancel it first" in refused.json()["detail"]
    client.post(f"/api/v1/runs/{run['id']}/cancel")
    folder = tmp_path / "runs" / run["id"]
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text("{}")
    assert client.delete(f"/api/v1/runs/{run['id']}").status_code == 204
    assert not folder.exists()
    assert client.get(f"/api/v1/runs/{run['id']}").status_code == 404
    assert client.get(f"/api/v1/runs/{run['twin_id']}").json()["twin_id"] is None


def test_health_reports_the_database_and_broker(client):
    health = client.get("/api/v1/health").json()
    assert health == {"status": "ok", "database": "ok", "broker": "redis", "workers": None}
    assert client.get("/api/v1/health", params={"workers": True}).json()["workers"] == {}


# A built-in run the shipped backbone fits: tiny, width 64, at 96 px.
FITS_SHIPPED = {"arch": "tiny", "width": 64, "dataset": {"image_size": 96}}


def test_a_run_naming_no_weights_starts_from_the_shipped_backbone_unless_from_scratch(client):
    default = client.post("/api/v1/runs", json=FITS_SHIPPED)
    assert default.status_code == 201, default.text
    config = default.json()["config"]
    assert config["weights"] == "builtin-tiny-96" and config["weights_file"]
    assert config["from_scratch"] is False
    scratch = client.post("/api/v1/runs", json={**FITS_SHIPPED, "from_scratch": True})
    assert scratch.status_code == 201, scratch.text
    config = scratch.json()["config"]
    assert config["from_scratch"] is True
    assert config["weights"] is None and config["weights_file"] is None


def test_from_scratch_with_weights_is_422_at_the_field(client):
    body = {**FITS_SHIPPED, "from_scratch": True, "weights": "builtin-tiny-96"}
    response = client.post("/api/v1/runs", json=body)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "from_scratch"]
    assert "from_scratch trains without weights, but weights 'builtin-tiny-96'" in error["msg"]


def test_from_scratch_is_described_in_the_openapi_schema(client):
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["RunCreate"]
    field = schema["properties"]["from_scratch"]
    assert field["type"] == "boolean" and field["default"] is False
    assert "shipped backbone" in field["description"]
