"""What the worker does with a run id: train, precompute feature maps, evaluate.

Everything here talks to the metadata DB and the artifact folder only, never to Celery, so
it runs the same in a worker process, in ``partlens train`` and in tests.
"""

from __future__ import annotations

import logging
import time
import traceback
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy.orm import sessionmaker

from partlens.config import get_settings
from partlens.evaluation.features import precompute_features
from partlens.runs.config import build_run_model, build_train_dataset, train_config
from partlens.store import RunArtifacts, RunStatus, create_session_factory
from partlens.store.db import FINISHED_STATUSES, Run

log = logging.getLogger(__name__)


@lru_cache
def session_factory(url: str) -> sessionmaker:
    return create_session_factory(url)


class RunProgressRecorder:
    """A training callback that writes progress to the run's row and reads its cancel flag.

    Writes are throttled (every ``interval_s``) so that a fast CPU loop does not hammer the DB.
    """

    def __init__(self, sessions: sessionmaker, run_id: str, interval_s: float = 0.5) -> None:
        self.sessions = sessions
        self.run_id = run_id
        self.interval_s = interval_s
        self._last_write = 0.0
        self._last_cancel_check = 0.0
        self._cancelled = False

    def _write(self, progress: Any, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_write < self.interval_s:
            return
        self._last_write = now
        with self.sessions() as session:
            run = session.get(Run, self.run_id)
            run.stage = "training"
            run.epoch = progress.epoch
            run.step = progress.step
            run.steps_total = progress.steps_total
            run.progress = progress.step / max(progress.steps_total, 1)
            run.task_loss = _finite(progress.task_loss)
            run.filter_loss = _finite(progress.filter_loss)
            run.accuracy = _finite(progress.accuracy)
            run.images_per_s = _finite(progress.images_per_s)
            session.commit()

    def on_step(self, progress: Any) -> None:
        self._write(progress)

    def on_epoch_end(self, progress: Any) -> None:
        self._write(progress, force=True)

    def should_stop(self) -> bool:
        now = time.monotonic()
        if not self._cancelled and now - self._last_cancel_check >= self.interval_s:
            self._last_cancel_check = now
            with self.sessions() as session:
                self._cancelled = bool(session.get(Run, self.run_id).cancel_requested)
        return self._cancelled


def _finite(value: float | None) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return float(value)


def _set(sessions: sessionmaker, run_id: str, **fields: Any) -> None:
    with sessions() as session:
        run = session.get(Run, run_id)
        for key, value in fields.items():
            setattr(run, key, value)
        session.commit()


def _finish(
    sessions: sessionmaker, run_id: str, status: RunStatus, stage: str, **fields: Any
) -> str:
    """Record the run's final status (and when it ended); returns the status."""
    _set(
        sessions, run_id, status=status.value, stage=stage, finished_at=datetime.now(UTC), **fields
    )
    return status.value


def execute_run(run_id: str, extra_callbacks: tuple[Any, ...] = ()) -> str:
    """Run the whole pipeline for ``run_id``; idempotent for finished runs; returns the status.

    ``extra_callbacks`` (e.g. a console progress bar) see the same training progress.
    """
    from partlens.evaluation.run import evaluate_run
    from partlens.training.loop import resolve_device, save_checkpoint, train

    settings = get_settings()
    sessions = session_factory(settings.resolved_database_url)
    with sessions() as session:
        run = session.get(Run, run_id)
        if run is None:
            log.error("run %s does not exist", run_id)
            return "missing"
        if run.status in FINISHED_STATUSES:
            return run.status
        config = dict(run.config)
        if run.cancel_requested:
            run.status = RunStatus.cancelled.value
            run.finished_at = datetime.now(UTC)
            session.commit()
            return run.status
        run.status = RunStatus.running.value
        run.stage = "preparing"
        run.started_at = run.started_at or datetime.now(UTC)
        session.commit()

    artifacts = RunArtifacts(settings.runs_dir, run_id)
    recorder = RunProgressRecorder(sessions, run_id)
    try:
        model = build_run_model(config)
        result = train(
            model,
            build_train_dataset(config),
            train_config(config, device=settings.device),
            callbacks=[recorder, *extra_callbacks],
            checkpoint_dir=artifacts.checkpoint_dir,
        )
        if result.cancelled:
            return _finish(sessions, run_id, RunStatus.cancelled, stage="cancelled")
        _set(sessions, run_id, stage="saving", progress=1.0)
        save_checkpoint(model, artifacts.model_dir, run_config=config)
        _set(sessions, run_id, stage="precomputing")
        precompute_features(model, config, artifacts)
        _set(sessions, run_id, stage="evaluating")
        evaluate_run(artifacts, device=str(resolve_device(settings.device)))
        return _finish(sessions, run_id, RunStatus.succeeded, stage="done")
    except Exception as exc:  # noqa: BLE001 - any failure must end as a visible run status
        log.exception("run %s failed", run_id)
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
        return _finish(sessions, run_id, RunStatus.failed, stage="failed", error=error)
