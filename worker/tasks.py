"""Celery tasks: thin wrappers that pass run ids to :func:`partlens.runs.pipeline.execute_run`."""

from __future__ import annotations

from partlens.runs.broker import RUN_TASK
from worker.celery_app import app


@app.task(name=RUN_TASK, acks_late=True)
def execute_run_task(run_id: str) -> str:
    """Train, precompute and evaluate run ``run_id`` under a lease; returns its final status
    (``held`` when another worker executes it: a second delivery is a no-op)."""
    # Imported in the child that executes the task, so the parent never loads the training
    # stack (and never initialises CUDA before forking).
    from partlens.runs.pipeline import execute_run

    return execute_run(run_id)
