"""Runs: launch (with an optional twin), list, show, cancel."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Query, Request
from sqlalchemy import select

from backend.api.deps import RunDep, SessionDep
from backend.schemas import RunCreate, RunPublic
from partlens.store import Run, RunStatus
from partlens.store.db import FINISHED_STATUSES

router = APIRouter(prefix="/runs", tags=["runs"])


@router.post("", response_model=RunPublic, status_code=201)
def launch_run(body: RunCreate, session: SessionDep, request: Request) -> Run:
    """Record the run (and its twin) as ``queued`` and enqueue them for the worker."""
    config = body.model_dump(exclude={"name", "with_twin"})
    kind = "interpretable" if body.interpretable else "ordinary"
    run = Run(name=body.name or f"{body.arch} {kind}", config=config)
    runs = [run]
    if body.with_twin:
        twin_config = body.twin().model_dump(exclude={"name", "with_twin"})
        twin_kind = "ordinary" if body.interpretable else "interpretable"
        twin = Run(name=f"{body.name or body.arch} {twin_kind} twin", config=twin_config)
        runs.append(twin)
    session.add_all(runs)
    session.flush()
    if len(runs) == 2:
        runs[0].twin_id, runs[1].twin_id = runs[1].id, runs[0].id
    session.commit()
    queue = request.app.state.queue
    for queued in runs:
        try:
            queue.enqueue(queued.id)
        except Exception as exc:
            for r in runs:
                r.status = RunStatus.failed.value
                r.error = f"could not enqueue: {exc}"
            session.commit()
            raise HTTPException(status_code=503, detail=f"broker unavailable: {exc}") from exc
    return run


@router.get("", response_model=list[RunPublic])
def list_runs(
    session: SessionDep,
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = Query(default=0, ge=0),
) -> list[Run]:
    """Runs, newest first."""
    query = select(Run).order_by(Run.created_at.desc()).limit(limit).offset(offset)
    return list(session.scalars(query))


@router.get("/{run_id}", response_model=RunPublic)
def get_run(run: RunDep) -> Run:
    """Status, stage and live training progress of one run."""
    return run


@router.post("/{run_id}/cancel", response_model=RunPublic)
def cancel_run(run: RunDep, session: SessionDep) -> Run:
    """Ask the worker to stop the run between batches; a queued run is cancelled at once."""
    if run.status in FINISHED_STATUSES:
        raise HTTPException(status_code=409, detail=f"run {run.id!r} already {run.status}")
    run.cancel_requested = True
    if run.status == RunStatus.queued:
        run.status = RunStatus.cancelled.value
        run.stage = "cancelled"
        run.finished_at = datetime.now(UTC)
    session.commit()
    return run
