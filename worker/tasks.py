"""Celery tasks: thin wrappers that pass run ids to :func:`partlens.runs.pipeline.execute_run`."""

from __future__ import annotations

from partlens.runs.broker import RUN_TASK
from partlens.runs.pipeline import execute_run
from worker.celery_app import app


@app.task(name=RUN_TASK, acks_late=True)
def execute_run_task(run_id: str) -> str:
    """Train, precompute and evaluate run ``run_id``; returns its final status."""
    return execute_run(run_id)
