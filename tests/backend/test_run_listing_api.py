"""The runs table's data: each run's summary and ETA, sorting, free-text filtering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from backend.main import create_app
from backend.run_listing import eta_seconds
from partlens.config import Settings
from partlens.store import Run, RunArtifacts, RunStatus, atomic_write_json
from tests.partlens.evaluation.sample_metrics import layer_dict, run_dict


@pytest.fixture
def listed(tmp_path, redis_url):
    """Four runs: two evaluated (accuracy 0.9 / 0.7), one without part masks, one running."""
    settings = Settings(data_dir=tmp_path, broker_url=redis_url)
    with TestClient(create_app(settings)) as client:
        ids = {}
        for name in ("alpha", "beta", "gamma", "delta"):
            ids[name] = client.post("/api/v1/runs", json={"arch": "tiny", "name": name}).json()[
                "id"
            ]
        evaluated = {
            "alpha": run_dict(accuracy=0.9, layers={"conv_added": layer_dict(0.10, 0.50)}),
            "beta": run_dict(accuracy=0.7, layers={"conv_added": layer_dict(0.05, 0.60)}),
            "gamma": run_dict(
                accuracy=0.8,
                layers={"conv_added": layer_dict(0.20, None, masks=False)},
                absent="no part masks",
            ),
        }
        for name, metrics in evaluated.items():
            metrics["run_id"] = ids[name]
            atomic_write_json(RunArtifacts(settings.runs_dir, ids[name]).metrics_path, metrics)
        with client.app.state.sessions() as session:
            for name in evaluated:
                session.get(Run, ids[name]).status = RunStatus.succeeded.value
            running = session.get(Run, ids["delta"])
            running.status, running.progress = RunStatus.running.value, 0.25
            running.started_at = datetime.now(UTC) - timedelta(seconds=60)
            session.commit()
        yield client, ids


def names(client: TestClient, ids: dict[str, str], **params) -> list[str]:
    by_id = {run_id: name for name, run_id in ids.items()}
    return [by_id[run["id"]] for run in client.get("/api/v1/runs", params=params).json()]


def test_runs_carry_their_summary_and_eta(listed):
    client, ids = listed
    runs = {run["name"]: run for run in client.get("/api/v1/runs").json()}
    assert runs["alpha"]["summary"] == {
        "layer": "conv_added",
        "test_accuracy": 0.9,
        "location_instability": 0.1,
        "part_interpretability": 0.5,
    }
    assert runs["gamma"]["summary"]["part_interpretability"] is None
    assert runs["delta"]["summary"] is None and runs["alpha"]["eta_s"] is None
    # 60 s for a quarter: about 180 s left.
    assert runs["delta"]["eta_s"] == pytest.approx(180, abs=10)
    assert client.get(f"/api/v1/runs/{ids['beta']}").json()["summary"]["test_accuracy"] == 0.7


def test_sorting_puts_runs_without_the_value_last(listed):
    client, ids = listed
    assert names(client, ids, sort="accuracy") == ["alpha", "gamma", "beta", "delta"]
    assert names(client, ids, sort="accuracy", desc=False) == ["beta", "gamma", "alpha", "delta"]
    assert names(client, ids, sort="location_instability", desc=False)[:3] == [
        "beta",
        "alpha",
        "gamma",
    ]
    assert names(client, ids, sort="part_interpretability")[:2] == ["beta", "alpha"]
    assert set(names(client, ids, sort="part_interpretability")[2:]) == {"gamma", "delta"}
    assert names(client, ids, sort="name", desc=False) == ["alpha", "beta", "delta", "gamma"]
    assert names(client, ids) == ["delta", "gamma", "beta", "alpha"]  # newest first
    page = client.get("/api/v1/runs", params={"sort": "accuracy", "limit": 1, "offset": 1})
    assert page.headers["X-Total-Count"] == "4" and page.json()[0]["name"] == "gamma"


def test_free_text_filters_by_name_or_id_and_bad_orders_are_422(listed):
    client, ids = listed
    assert names(client, ids, q="ALP") == ["alpha"]
    assert names(client, ids, q=ids["beta"][:8]) == ["beta"]
    bad = client.get("/api/v1/runs", params={"sort": "loss"})
    assert bad.status_code == 422 and "sort" in str(bad.json()["detail"])


def test_eta_needs_a_running_run_with_progress():
    started = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    run = Run(name="r", config={}, status="running", progress=0.5, started_at=started)
    assert eta_seconds(run, now=started + timedelta(seconds=30)) == pytest.approx(30)
    run.progress = 0.0
    assert eta_seconds(run, now=started) is None
    run.progress, run.status = 0.5, "succeeded"
    assert eta_seconds(run, now=started) is None
