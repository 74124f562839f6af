"""Celery tasks: thin wrappers that pass run ids to :mod:`partlens.runs.pipeline`."""

from __future__ import annotations

from partlens.runs.pipeline import execute_run
from worker.celery_app import RUN_TASK, app


@app.task(name=RUN_TASK, acks_late=True)
def execute_run_task(run_id: str) -> str:
    """Train, precompute and evaluate run ``run_id``; returns its final status."""
    return execute_run(run_id)
