"""The pipeline records a visible final status for failed and cancelled runs."""

from __future__ import annotations

import pytest

from partlens.config import get_settings
from partlens.runs.config import RunConfig
from partlens.runs.pipeline import execute_run, session_factory
from partlens.store import Run


@pytest.fixture
def sessions(tmp_path, monkeypatch):
    monkeypatch.setenv("PARTLENS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PARTLENS_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield session_factory(get_settings().resolved_database_url)
    get_settings.cache_clear()


def _add(sessions, config: dict, **fields) -> str:
    with sessions() as session:
        run = Run(name="t", config=config, **fields)
        session.add(run)
        session.commit()
        return run.id


def test_a_failing_run_ends_failed_with_the_error(sessions):
    config = RunConfig(dataset={"image_size": 64}).model_dump()
    config["arch"] = "no-such-arch"  # bypasses validation, as a stale DB row could
    run_id = _add(sessions, config)
    assert execute_run(run_id) == "failed"
    with sessions() as session:
        run = session.get(Run, run_id)
        assert run.stage == "failed" and run.finished_at is not None
        assert "no-such-arch" in run.error


def test_a_run_cancelled_before_it_starts_is_not_trained(sessions):
    run_id = _add(sessions, RunConfig().model_dump(), cancel_requested=True)
    assert execute_run(run_id) == "cancelled"
    assert execute_run(run_id) == "cancelled", "finished runs are not re-run"
