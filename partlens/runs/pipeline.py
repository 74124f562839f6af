"""A run's lifecycle: build -> train -> save -> precompute -> evaluate, with status transitions.

:func:`run_pipeline` is the sequence itself, on an artifact folder and nothing else; it serves
``partlens reproduce`` directly. :func:`execute_run` wraps it for a run recorded in the metadata
DB (the Celery task and ``partlens train`` call it): it moves the run through ``queued ->
running -> succeeded | failed | cancelled``, writes progress and reads the cancel flag. Nothing
here talks to Celery.
"""

from __future__ import annotations

import json
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
from partlens.runs.history import HISTORY_FILE, HistoryRecorder, truncate_history
from partlens.runs.lease import Claim, Heartbeat, claim_run, worker_identity
from partlens.runs.runlog import LOG_FILE, run_log
from partlens.store import RunArtifacts, RunStatus, create_session_factory
from partlens.store.atomic_io import remove_stale_staging
from partlens.store.db import Run

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
    checkpoint_every_s: float | None = None,
) -> PipelineResult:
    """Build, train, save, precompute and evaluate one run described by ``config``.

    config: a :class:`partlens.runs.RunConfig` as a dict. backbone: pretrained weights loaded
    into the fresh model (the added layer and classifier stay fresh). train_set / eval_set:
    datasets already built by the caller (default: from ``config``). Training resumes from
    ``artifacts.checkpoint_dir`` (written every epoch and every ``checkpoint_every_s``); every
    artifact is published atomically.
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
        train_config(config, device=device, checkpoint_every_s=checkpoint_every_s),
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
        self._pending: Any = None  # the newest progress not written (throttled away)

    def flush(self) -> None:
        """Write the last throttled progress (when training ends: the row shows the end)."""
        if self._pending is not None:
            self._write(self._pending, force=True)

    def _write(self, progress: Any, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_write < self.interval_s:
            self._pending = progress
            return
        self._last_write = now
        self._pending = None
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
    now = datetime.now(UTC)
    _set(
        sessions, run_id, status=status.value, stage=stage, finished_at=now,
        lease_expires_at=None, **fields,
    )  # fmt: skip
    return status.value


class LeaseLost(RuntimeError):
    """Another worker took the run over (this one stalled past its lease): publish nothing."""


def _resume_step(artifacts: RunArtifacts) -> int:
    """The step the run's checkpoint resumes from (0 without one)."""
    from partlens.models.checkpoint import read_checkpoint_meta
    from partlens.training.state import has_training_state

    if not has_training_state(artifacts.checkpoint_dir):
        return 0
    return int(read_checkpoint_meta(artifacts.checkpoint_dir)["state"].get("step", 0))


def execute_run(run_id: str, extra_callbacks: Sequence[Any] = ()) -> str:
    """Run the whole pipeline for ``run_id`` under a lease; returns the status it ended in.

    Idempotent: a finished run is not re-run, and a run another worker holds a live lease on
    returns ``held`` without touching it. ``extra_callbacks`` (e.g. a console progress bar)
    see the same training progress.
    """
    from partlens.training import resolve_device

    settings = get_settings()
    sessions = session_factory(settings.resolved_database_url)
    worker_id = worker_identity()
    claim = claim_run(sessions, run_id, worker_id, settings.lease_s)
    if not claim.won:
        log.info("run %s not executed here: %s", run_id, claim.status)
        return claim.status
    artifacts = RunArtifacts(settings.runs_dir, run_id)
    with (
        run_log(artifacts.root / LOG_FILE, run_id) as run_logger,
        Heartbeat(sessions, run_id, worker_id, settings.lease_s) as heartbeat,
    ):
        return _execute_claimed(
            run_id,
            claim,
            artifacts,
            sessions,
            heartbeat,
            run_logger,
            extra_callbacks,
            device=str(resolve_device(settings.device)),
        )


def _execute_claimed(
    run_id: str,
    claim: Claim,
    artifacts: RunArtifacts,
    sessions: sessionmaker[Session],
    heartbeat: Heartbeat,
    run_logger: logging.Logger,
    extra_callbacks: Sequence[Any],
    *,
    device: str,
) -> str:
    settings = get_settings()
    # A killed attempt may have died inside an atomic write; this attempt holds the lease, so
    # nothing else writes here and its leftovers can go.
    for path in remove_stale_staging(artifacts.root):
        run_logger.info("removed %s left by an interrupted write", path.name)
    resume_step = _resume_step(artifacts)
    truncate_history(artifacts.root / HISTORY_FILE, resume_step)
    run_logger.info(
        "attempt %d on %s, device %s, %s",
        claim.attempt,
        heartbeat.worker_id,
        device,
        f"resuming from step {resume_step}" if resume_step else "from the start",
    )
    run_logger.info("config %s", json.dumps(claim.config, sort_keys=True))

    progress_recorder = RunProgressRecorder(sessions, run_id)
    history = HistoryRecorder(
        artifacts.root / HISTORY_FILE,
        interval_s=settings.history_interval_s,
        attempt=claim.attempt,
    )

    def on_stage(stage: str) -> None:
        if heartbeat.lost.is_set():
            raise LeaseLost(f"run {run_id}: lease lost before {stage}")
        # Training is over: its last step belongs in the row and on the curve.
        progress_recorder.flush()
        history.flush()
        run_logger.info("stage %s", stage)
        _set(sessions, run_id, stage=stage, progress=1.0)

    callbacks = [
        progress_recorder,
        history,
        EpochLogger(run_logger),
        heartbeat,
        *extra_callbacks,
    ]
    try:
        result = run_pipeline(
            claim.config,
            artifacts,
            device=device,
            callbacks=callbacks,
            on_stage=on_stage,
            checkpoint_every_s=settings.checkpoint_interval_s,
        )
        if heartbeat.lost.is_set():
            raise LeaseLost(f"run {run_id}: lease lost while training")
        timings = {"train_s": result.train_s, "evaluate_s": result.evaluate_s}
        if result.cancelled:
            run_logger.info("cancelled at step %d; checkpoint kept", result.train.steps)
            return _finish(sessions, run_id, RunStatus.cancelled, stage="cancelled", **timings)
        run_logger.info("succeeded in %.1f s training, %.1f s evaluating", *timings.values())
        return _finish(sessions, run_id, RunStatus.succeeded, stage="done", **timings)
    except LeaseLost as exc:
        run_logger.error("%s; the run is another worker's now", exc)
        return "lost"
    except Exception as exc:
        run_logger.exception("run %s failed", run_id)
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
        return _finish(sessions, run_id, RunStatus.failed, stage="failed", error=error)


class EpochLogger:
    """A training callback writing one line per epoch to the run's log."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def on_epoch_end(self, progress: Any) -> None:
        """The epoch's means."""
        self.logger.info(
            "epoch %d/%d step %d: task loss %.4f, filter loss %.4f, accuracy %.3f, "
            "lambda %.4g, lr %.4g, %.1f images/s",
            progress.epoch, progress.epochs, progress.step, progress.task_loss,
            progress.filter_loss, progress.accuracy, progress.filter_lambda, progress.lr,
            progress.images_per_s,
        )  # fmt: skip
