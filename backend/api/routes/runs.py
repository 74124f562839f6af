"""Runs: launch (with an optional twin), list, show, training history, log, cancel."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy import select

from backend.api.deps import ArtifactsDep, RunDep, SessionDep, TokenDep, forget_run
from backend.run_listing import RunOrder, public_run, sort_runs
from backend.schemas import ErrorMessage, RunCreate, RunHistory, RunLog, RunPublic
from partlens.assets import AssetError
from partlens.assets.datasets import resolve_dataset_spec
from partlens.assets.weights import resolve_run_weights
from partlens.runs.history import HISTORY_FILE, read_history
from partlens.runs.runlog import LOG_FILE, read_log_tail
from partlens.store import Run, RunStatus
from partlens.store.db import FINISHED_STATUSES

router = APIRouter(prefix="/runs", tags=["runs"])


LAUNCH_FIELDS = {"name", "with_twin", "queue", "preset"}


def _resolved(body: RunCreate, request: Request) -> RunCreate:
    """The body with its registered dataset and weights looked up (422 at the field)."""
    sessions = request.app.state.sessions
    try:
        dataset = resolve_dataset_spec(sessions, body.dataset.model_dump())
    except AssetError as error:
        raise _field_error(("body", "dataset", "name"), error) from None
    update: dict = {"dataset": body.dataset.model_validate(dataset)}
    # Always by name: a client never points the server at a file of its choosing. A built-in
    # run that names none starts from the shipped backbone that fits it, if any.
    try:
        update.update(resolve_run_weights(body.model_dump(), sessions))
    except AssetError as error:
        raise _field_error(("body", "weights"), error) from None
    return body.model_copy(update=update)


def _field_error(loc: tuple[str, ...], error: AssetError) -> HTTPException:
    # The same shape as FastAPI's validation errors, so clients show it at the field.
    return HTTPException(
        status_code=422, detail=[{"loc": list(loc), "msg": str(error), "type": "value_error"}]
    )


@router.post(
    "",
    response_model=RunPublic,
    status_code=201,
    responses={
        400: {"model": ErrorMessage, "description": "A body that is not valid JSON"},
        401: {"description": "Token required"},
        503: {"description": "No broker"},
    },
)
def launch_run(
    body: RunCreate, session: SessionDep, request: Request, response: Response, _: TokenDep
) -> Run:
    """Record the run (and its twin) as ``queued`` and enqueue them for the worker."""
    if body.weights_file is not None and body.weights is None:
        raise _field_error(("body", "weights_file"), AssetError("set by the server, not a client"))
    body = _resolved(body, request)
    config = body.model_dump(exclude=LAUNCH_FIELDS)
    kind = "interpretable" if body.interpretable else "ordinary"
    queue_name = body.queue or request.app.state.settings.queue
    run = Run(name=body.name or f"{body.arch} {kind}", config=config, queue=queue_name)
    runs = [run]
    if body.with_twin:
        twin_config = body.twin().model_dump(exclude=LAUNCH_FIELDS)
        twin_kind = "ordinary" if body.interpretable else "interpretable"
        twin = Run(
            name=f"{body.name or body.arch} {twin_kind} twin", config=twin_config, queue=queue_name
        )
        runs.append(twin)
    session.add_all(runs)
    session.flush()
    if len(runs) == 2:
        runs[0].twin_id, runs[1].twin_id = runs[1].id, runs[0].id
    session.commit()
    queue = request.app.state.queue
    for queued in runs:
        try:
            queue.enqueue(queued.id, queued.queue)
        except Exception as exc:
            for r in runs:
                r.status = RunStatus.failed.value
                r.error = f"could not enqueue: {exc}"
            session.commit()
            raise HTTPException(status_code=503, detail=f"broker unavailable: {exc}") from exc
    response.headers["Location"] = str(request.url_for("get_run", run_id=run.id))
    return run


@router.get("", response_model=list[RunPublic])
def list_runs(
    session: SessionDep,
    request: Request,
    response: Response,
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = Query(default=0, ge=0, le=10_000_000),
    status: RunStatus | None = Query(default=None, description="Only runs in this status."),
    arch: str | None = Query(default=None, max_length=64),
    dataset: str | None = Query(default=None, max_length=64, description="A dataset name."),
    kind: Literal["interpretable", "ordinary"] | None = None,
    q: str | None = Query(
        default=None, max_length=200, description="Only runs whose name or id contains this."
    ),
    sort: RunOrder = Query(
        default="created",
        description="Order: creation time, name, status, test accuracy or the top layer's "
        "metric means; runs without the value (not evaluated) come last.",
    ),
    desc: bool = Query(default=True, description="Descending (newest, largest first)."),
) -> list[RunPublic]:
    """Runs, filtered and ordered (default: newest first), each with its summary and ETA;
    the total before paging is in ``X-Total-Count``."""
    query = select(Run)
    if status is not None:
        query = query.where(Run.status == status.value)
    runs = list(session.scalars(query.order_by(Run.created_at.desc())))
    # The config is JSON (portable across SQLite and PostgreSQL): filtered here, not in SQL.
    if arch is not None:
        runs = [r for r in runs if r.config.get("arch") == arch]
    if dataset is not None:
        runs = [r for r in runs if r.config.get("dataset", {}).get("name") == dataset]
    if kind is not None:
        runs = [r for r in runs if r.config.get("interpretable") == (kind == "interpretable")]
    if q:
        needle = q.casefold()
        runs = [r for r in runs if needle in r.name.casefold() or needle in r.id.casefold()]
    runs_dir = request.app.state.settings.runs_dir
    ordered = sort_runs([public_run(r, runs_dir) for r in runs], sort, desc)
    response.headers["X-Total-Count"] = str(len(ordered))
    return ordered[offset : offset + limit]


@router.get("/{run_id}", response_model=RunPublic, responses={404: {}})
def get_run(run: RunDep, request: Request) -> RunPublic:
    """Status, stage and live training progress of one run, its ETA and, once evaluated, its
    accuracy and metric means."""
    return public_run(run, request.app.state.settings.runs_dir)


@router.get("/{run_id}/history", response_model=RunHistory)
def run_history(run: RunDep, artifacts: ArtifactsDep) -> RunHistory:
    """The training curves (throttled steps and every epoch end), readable while it trains."""
    return RunHistory(run_id=run.id, points=read_history(artifacts.root / HISTORY_FILE))


@router.get("/{run_id}/log", response_model=RunLog)
def run_log(
    run: RunDep,
    artifacts: ArtifactsDep,
    max_bytes: int = Query(default=64_000, ge=1, le=10_000_000),
) -> RunLog:
    """The last ``max_bytes`` of the run's log: config, device, epochs, warnings, traceback."""
    return RunLog(run_id=run.id, text=read_log_tail(artifacts.root / LOG_FILE, max_bytes))


@router.post("/{run_id}/cancel", response_model=RunPublic, responses={409: {}, 401: {}})
def cancel_run(run: RunDep, session: SessionDep, _: TokenDep) -> Run:
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


@router.delete("/{run_id}", status_code=204, responses={404: {}, 409: {}, 401: {}})
def delete_run(
    run: RunDep, session: SessionDep, artifacts: ArtifactsDep, request: Request, _: TokenDep
) -> Response:
    """Delete a finished run with its artifacts (409 while it is queued or running: cancel it
    first); its twin stays, unlinked. Its cached responses go too: the memory ones here, the
    disk ones (``runs/<id>/cache/``) with its folder."""
    if run.status not in FINISHED_STATUSES:
        raise HTTPException(
            status_code=409, detail=f"run {run.id!r} is {run.status}: cancel it first"
        )
    if run.twin_id is not None:
        twin = session.get(Run, run.twin_id)
        if twin is not None:
            twin.twin_id = None
    session.delete(run)
    session.commit()
    # The row goes first: a reader never finds a run whose folder is half deleted.
    shutil.rmtree(artifacts.root, ignore_errors=True)
    forget_run(request.app, run.id)
    return Response(status_code=204)
