"""The run pipeline: artifacts it publishes, and the final status of failed and cancelled runs."""

from __future__ import annotations

import pytest

from partlens.config import get_settings
from partlens.evaluation.schema import load_run_metrics
from partlens.models import load_model
from partlens.runs.config import RunConfig
from partlens.runs.history import read_history
from partlens.runs.lease import claim_run
from partlens.runs.pipeline import execute_run, run_pipeline, session_factory
from partlens.store import Run, RunArtifacts


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


def _tiny_config(**overrides) -> dict:
    return RunConfig.model_validate(
        {
            "arch": "tiny",
            "width": 8,
            "epochs": 1,
            "batch_size": 8,
            "dataset": {"image_size": 64, "train_size": 16, "eval_size": 8},
            **overrides,
        }
    ).model_dump()


def test_run_pipeline_publishes_model_features_and_metrics_without_a_database(tmp_path):
    stages: list[str] = []
    artifacts = RunArtifacts(tmp_path / "runs", "r1")
    result = run_pipeline(_tiny_config(), artifacts, on_stage=stages.append)
    assert stages == ["saving", "precomputing", "evaluating"]
    assert not result.cancelled and result.train_s > 0 and result.evaluate_s > 0
    assert result.train.steps == 2
    metrics = load_run_metrics(artifacts.metrics_path)
    # Single-category runs are evaluated on the positives: half of the 8 test images.
    assert metrics.interpretable and metrics.num_images == 4
    assert metrics.top_layer == "conv_added"
    assert (artifacts.features_dir / "conv_added.npy").is_file()
    assert load_model(artifacts.model_dir).config.builder_options == {"width": 8}


def test_run_pipeline_stopped_by_a_callback_publishes_nothing(tmp_path):
    class StopAtOnce:
        def should_stop(self) -> bool:
            return True

    artifacts = RunArtifacts(tmp_path / "runs", "r2")
    result = run_pipeline(_tiny_config(), artifacts, callbacks=[StopAtOnce()])
    assert result.cancelled and result.metrics is None
    assert not artifacts.model_dir.exists() and not artifacts.metrics_path.exists()


def test_execute_run_keeps_a_log_a_history_and_timings(sessions):
    run_id = _add(sessions, _tiny_config(epochs=2))
    assert execute_run(run_id) == "succeeded"
    with sessions() as session:
        run = session.get(Run, run_id)
        assert run.attempts == 1 and run.worker_id and run.lease_expires_at is None
        assert run.train_s > 0 and run.evaluate_s > 0
    root = RunArtifacts(get_settings().runs_dir, run_id).root
    log_text = (root / "run.log").read_text()
    assert "attempt 1 on" in log_text and "from the start" in log_text
    assert '"arch": "tiny"' in log_text and "epoch 2/2 step 4" in log_text
    assert "succeeded in" in log_text
    points = read_history(root / "history.jsonl")
    epochs = [p for p in points if p.kind == "epoch"]
    assert [p.epoch for p in epochs] == [1, 2] and epochs[-1].step == 4
    assert points[0].kind == "step" and points[0].lr == pytest.approx(0.01)


def test_a_run_held_by_a_live_lease_is_left_alone(sessions):
    run_id = _add(sessions, _tiny_config())
    assert claim_run(sessions, run_id, "other-host:1", 60).won
    assert execute_run(run_id) == "held"
    with sessions() as session:
        run = session.get(Run, run_id)
        assert run.status == "running" and run.worker_id == "other-host:1" and run.attempts == 1


def test_a_failure_is_logged_with_its_traceback(sessions):
    config = _tiny_config()
    config["dataset"]["category"] = "unicorn"  # bypasses validation, as a stale DB row could
    run_id = _add(sessions, config)
    assert execute_run(run_id) == "failed"
    log_text = (RunArtifacts(get_settings().runs_dir, run_id).root / "run.log").read_text()
    assert "failed" in log_text and "Traceback" in log_text and "unicorn" in log_text
