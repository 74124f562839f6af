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
import torch
from sqlalchemy.orm import sessionmaker

from partlens.config import get_settings
from partlens.runs import build_eval_dataset, build_run_model, build_train_dataset, train_config
from partlens.store import RunArtifacts, RunStatus, create_session_factory
from partlens.store.artifacts import publish_dir
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


def precompute_features(
    model: torch.nn.Module, config: dict[str, Any], artifacts: RunArtifacts
) -> None:
    """Write the interpretable layers' maps (after ReLU/mask) for the evaluation images."""
    from partlens.data import collate_samples

    dataset = build_eval_dataset(config)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=32, shuffle=False, collate_fn=collate_samples
    )
    device = next(model.parameters()).device
    model.eval()
    maps: dict[str, list[np.ndarray]] = {name: [] for name in model.layer_names}
    logits, labels = [], []
    with torch.no_grad():
        for batch in loader:
            images = batch.images.to(device)
            for name, fmap in model.forward_features(images).items():
                maps[name].append(fmap.float().cpu().numpy())
            logits.append(model(images).float().cpu().numpy())
            labels.append(batch.labels.numpy())
    all_logits = np.concatenate(logits)
    all_labels = np.concatenate(labels)
    manifest = {
        "dataset": config["dataset"],
        "split": "test",
        "num_images": int(len(dataset)),
        "categories": list(dataset.categories),
        "labels": all_labels.tolist(),
        "logits": all_logits.tolist(),
        "image_size": int(config["dataset"]["image_size"]),
    }
    artifacts.write_features({k: np.concatenate(v) for k, v in maps.items()}, manifest)


def execute_run(run_id: str, extra_callbacks: tuple[Any, ...] = ()) -> str:
    """Run the whole pipeline for ``run_id``; idempotent for finished runs; returns the status.

    ``extra_callbacks`` (e.g. a console progress bar) see the same training progress.
    """
    from partlens.evaluation import evaluate_run
    from partlens.training import resolve_device, save_checkpoint, train

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
            _set(
                sessions,
                run_id,
                status=RunStatus.cancelled.value,
                stage="cancelled",
                finished_at=datetime.now(UTC),
            )
            return RunStatus.cancelled.value
        _set(sessions, run_id, stage="saving", progress=1.0)
        with publish_dir(artifacts.model_dir) as staging:
            save_checkpoint(model, staging, run_config=config)
        _set(sessions, run_id, stage="precomputing")
        precompute_features(model, config, artifacts)
        _set(sessions, run_id, stage="evaluating")
        evaluate_run(artifacts, device=str(resolve_device(settings.device)))
        _set(
            sessions,
            run_id,
            status=RunStatus.succeeded.value,
            stage="done",
            finished_at=datetime.now(UTC),
        )
        return RunStatus.succeeded.value
    except Exception as exc:  # noqa: BLE001 - any failure must end as a visible run status
        log.exception("run %s failed", run_id)
        _set(
            sessions,
            run_id,
            status=RunStatus.failed.value,
            stage="failed",
            error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}",
            finished_at=datetime.now(UTC),
        )
        return RunStatus.failed.value
