"""Celery tasks: thin wrappers that pass run ids to :mod:`worker.pipeline`."""

from __future__ import annotations

from worker.celery_app import RUN_TASK, app
from worker.pipeline import execute_run


@app.task(name=RUN_TASK, acks_late=True)
def execute_run_task(run_id: str) -> str:
    """Train, precompute and evaluate run ``run_id``; returns its final status."""
    return execute_run(run_id)
