"""A run's lifecycle: build -> train -> save -> precompute -> evaluate, with status transitions.

:func:`run_pipeline` is the sequence itself, on an artifact folder and nothing else; it serves
``partlens reproduce`` directly. :func:`execute_run` wraps it for a run recorded in the metadata
DB (the Celery task and ``partlens train`` call it): it moves the run through ``queued ->
running -> succeeded | failed | cancelled``, writes progress and reads the cancel flag. Nothing
here talks to Celery.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from sqlalchemy.orm import Session, sessionmaker

from partlens.config import get_settings
from partlens.store import RunArtifacts, RunStatus, create_session_factory
from partlens.store.db import FINISHED_STATUSES, Run

log = logging.getLogger(__name__)

StageHook = Callable[[str], None]


@dataclass
class PipelineResult:
    """What :func:`run_pipeline` did: the training result, the metrics (None when cancelled)
    and the seconds spent training and evaluating."""

    train: Any
    metrics: Any
    train_s: float
    evaluate_s: float

    @property
    def cancelled(self) -> bool:
        """Whether a callback stopped training (nothing was published then)."""
        return bool(self.train.cancelled)


def run_pipeline(
    config: Mapping[str, Any],
    artifacts: RunArtifacts,
    *,
    device: str = "cpu",
    callbacks: Sequence[Any] = (),
    on_stage: StageHook | None = None,
    backbone: Mapping[str, torch.Tensor] | None = None,
    train_set: Any | None = None,
    eval_set: Any | None = None,
) -> PipelineResult:
    """Build, train, save, precompute and evaluate one run described by ``config``.

    config: a :class:`partlens.runs.RunConfig` as a dict. backbone: pretrained weights loaded
    into the fresh model (the added layer and classifier stay fresh). train_set / eval_set:
    datasets already built by the caller (default: from ``config``). Training resumes from
    ``artifacts.checkpoint_dir``; every artifact is published atomically.
    """
    from partlens.evaluation import evaluate_run, precompute_features
    from partlens.models import save_checkpoint
    from partlens.runs.config import build_run_model, build_train_dataset, train_config
    from partlens.training import train
    from partlens.training.pretraining import load_backbone

    stage = on_stage or (lambda name: None)
    config = dict(config)
    # The fresh layers start from the same weights for a run and its twin (same seed).
    torch.manual_seed(config["seed"])
    model = build_run_model(config)
    if backbone is not None:
        load_backbone(model, dict(backbone))
    started = time.perf_counter()
    result = train(
        model,
        train_set if train_set is not None else build_train_dataset(config),
        train_config(config, device=device),
        callbacks=list(callbacks),
        checkpoint_dir=artifacts.checkpoint_dir,
    )
    trained = time.perf_counter()
    if result.cancelled:
        return PipelineResult(result, None, trained - started, 0.0)
    stage("saving")
    save_checkpoint(model, artifacts.model_dir, run_config=config)
    stage("precomputing")
    precompute_features(model, config, artifacts, dataset=eval_set)
    stage("evaluating")
    metrics = evaluate_run(artifacts, device=device)
    return PipelineResult(result, metrics, trained - started, time.perf_counter() - trained)


@lru_cache
def session_factory(url: str) -> sessionmaker[Session]:
    """One session factory per database URL and process."""
    return create_session_factory(url)


class RunProgressRecorder:
    """A training callback that writes progress to the run's row and reads its cancel flag.

    Writes are throttled (every ``interval_s``) so that a fast CPU loop does not hammer the DB.
    """

    def __init__(
        self, sessions: sessionmaker[Session], run_id: str, interval_s: float = 0.5
    ) -> None:
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
        _set(
            self.sessions,
            self.run_id,
            stage="training",
            epoch=progress.epoch,
            step=progress.step,
            steps_total=progress.steps_total,
            progress=progress.step / max(progress.steps_total, 1),
            task_loss=_finite(progress.task_loss),
            filter_loss=_finite(progress.filter_loss),
            accuracy=_finite(progress.accuracy),
            images_per_s=_finite(progress.images_per_s),
        )

    def on_step(self, progress: Any) -> None:
        """Records the step's progress (throttled)."""
        self._write(progress)

    def on_epoch_end(self, progress: Any) -> None:
        """Records the epoch's means."""
        self._write(progress, force=True)

    def should_stop(self) -> bool:
        """True once the run's cancel flag is set (read at most every ``interval_s``)."""
        now = time.monotonic()
        if not self._cancelled and now - self._last_cancel_check >= self.interval_s:
            self._last_cancel_check = now
            with self.sessions() as session:
                run = session.get(Run, self.run_id)
                self._cancelled = bool(run is not None and run.cancel_requested)
        return self._cancelled


def _finite(value: float | None) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return float(value)


def _set(sessions: sessionmaker[Session], run_id: str, **fields: Any) -> None:
    with sessions() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise LookupError(f"run {run_id} disappeared from the database")
        for key, value in fields.items():
            setattr(run, key, value)
        session.commit()


def _finish(
    sessions: sessionmaker[Session], run_id: str, status: RunStatus, stage: str, **fields: Any
) -> str:
    """Record the run's final status (and when it ended); returns the status."""
    _set(
        sessions, run_id, status=status.value, stage=stage, finished_at=datetime.now(UTC), **fields
    )
    return status.value


def _start(sessions: sessionmaker[Session], run_id: str) -> tuple[str | None, dict[str, Any]]:
    """Moves a queued run to ``running``; returns (final status if it must not run, config)."""
    with sessions() as session:
        run = session.get(Run, run_id)
        if run is None:
            log.error("run %s does not exist", run_id)
            return "missing", {}
        if run.status in FINISHED_STATUSES:
            return run.status, {}
        if run.cancel_requested:
            run.status = RunStatus.cancelled.value
            run.finished_at = datetime.now(UTC)
            session.commit()
            return run.status, {}
        run.status = RunStatus.running.value
        run.stage = "preparing"
        run.started_at = run.started_at or datetime.now(UTC)
        session.commit()
        return None, dict(run.config)


def execute_run(run_id: str, extra_callbacks: Sequence[Any] = ()) -> str:
    """Run the whole pipeline for ``run_id``; idempotent for finished runs; returns the status.

    ``extra_callbacks`` (e.g. a console progress bar) see the same training progress.
    """
    from partlens.training import resolve_device

    settings = get_settings()
    sessions = session_factory(settings.resolved_database_url)
    final, config = _start(sessions, run_id)
    if final is not None:
        return final
    recorder = RunProgressRecorder(sessions, run_id)
    try:
        result = run_pipeline(
            config,
            RunArtifacts(settings.runs_dir, run_id),
            device=str(resolve_device(settings.device)),
            callbacks=[recorder, *extra_callbacks],
            on_stage=lambda stage: _set(sessions, run_id, stage=stage, progress=1.0),
        )
        if result.cancelled:
            return _finish(sessions, run_id, RunStatus.cancelled, stage="cancelled")
        return _finish(sessions, run_id, RunStatus.succeeded, stage="done")
    except Exception as exc:
        log.exception("run %s failed", run_id)
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
        return _finish(sessions, run_id, RunStatus.failed, stage="failed", error=error)
