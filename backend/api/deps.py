"""FastAPI dependencies: settings, a DB session, the run lookup.

Artifact routes look their run up through :func:`get_published_run`, an ``async`` dependency
that answers a finished run from a small per-process cache: a finished run never changes
status again and its artifacts are immutable, so the hot path (a cached overlay, a 304) costs
no thread hop and no SQL. Its folder is checked on every hit (one stat), so a run deleted by
another API process is looked up again (and 404s); :func:`forget_run` drops it here at once.
Mutations use :func:`get_run`, a fresh row in the request's session.
"""

from __future__ import annotations

import hmac
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from partlens.config import Settings
from partlens.store import Run, RunArtifacts
from partlens.store.db import FINISHED_STATUSES

FINISHED_RUNS_CACHED = 1024  # finished runs remembered per API process


async def get_settings_dep(request: Request) -> Settings:
    """The app's settings (async: no thread hop)."""
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """A session of the metadata DB for this request."""
    with request.app.state.sessions() as session:
        yield session


async def get_session_factory(request: Request) -> sessionmaker:
    """The app's session factory, for helpers that open their own sessions."""
    return request.app.state.sessions


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session)]
SessionFactoryDep = Annotated[sessionmaker, Depends(get_session_factory)]
_bearer = HTTPBearer(auto_error=False)


async def require_token(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Mutations need ``Authorization: Bearer <PARTLENS_API_TOKEN>`` when a token is set."""
    if not settings.api_token:
        return
    if credentials is None:
        raise HTTPException(
            status_code=401,
            detail="this API needs a token: send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(credentials.credentials, settings.api_token):
        raise HTTPException(status_code=403, detail="wrong API token")


TokenDep = Annotated[None, Depends(require_token)]


def _not_found(run_id: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"run {run_id!r} not found")


def get_run(run_id: str, session: SessionDep) -> Run:
    """The run's row in this request's session (for routes that change it); 404 if unknown."""
    run = session.get(Run, run_id)
    if run is None:
        raise _not_found(run_id)
    return run


RunDep = Annotated[Run, Depends(get_run)]


class FinishedRuns:
    """A bounded, thread-safe map of run id -> detached Run of runs that have finished."""

    def __init__(self, max_runs: int = FINISHED_RUNS_CACHED) -> None:
        self.max_runs = max_runs
        self._runs: OrderedDict[str, Run] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, run_id: str) -> Run | None:
        """The cached run, or None."""
        with self._lock:
            return self._runs.get(run_id)

    def put(self, run: Run) -> None:
        """Remember a finished run (evicting the oldest beyond the bound)."""
        with self._lock:
            self._runs[run.id] = run
            while len(self._runs) > self.max_runs:
                self._runs.popitem(last=False)

    def forget(self, run_id: str) -> None:
        """Drop ``run_id`` (deleted)."""
        with self._lock:
            self._runs.pop(run_id, None)


def finished_runs(app: FastAPI) -> FinishedRuns:
    """The app's cache of finished runs (created with the app state on first use)."""
    state = app.state
    cache = getattr(state, "finished_runs", None)
    if cache is None:
        cache = state.finished_runs = FinishedRuns()
    return cache


def forget_run(app: FastAPI, run_id: str) -> None:
    """Drop a deleted run from this process's caches: its row and its response bodies."""
    from backend.core.caching import memory_cache_of

    finished_runs(app).forget(run_id)
    memory_cache_of(app).drop_run(run_id)


def _load_detached(sessions: sessionmaker, run_id: str) -> Run | None:
    with sessions() as session:
        run = session.get(Run, run_id)
        if run is not None:
            session.expunge(run)  # every column is loaded: readable after the session
        return run


async def get_published_run(run_id: str, request: Request) -> Run:
    """The run, read-only, for routes serving its artifacts; 404 if unknown. A finished run
    whose folder exists comes from :class:`FinishedRuns` without touching the DB."""
    app = request.app
    cache = finished_runs(app)
    run = cache.get(run_id)
    if run is not None:
        if (app.state.settings.runs_dir / run_id).is_dir():
            return run
        cache.forget(run_id)
    run = await run_in_threadpool(_load_detached, app.state.sessions, run_id)
    if run is None:
        raise _not_found(run_id)
    if run.status in FINISHED_STATUSES:
        cache.put(run)
    return run


PublishedRunDep = Annotated[Run, Depends(get_published_run)]


async def get_artifacts(run_id: str, settings: SettingsDep) -> RunArtifacts:
    """The run's artifact folder. Only a path: every route that takes it looks the run up
    first (RunDep or PublishedRunDep, declared before it), so an unknown id is a 404 before
    any file is touched."""
    return RunArtifacts(settings.runs_dir, run_id)


ArtifactsDep = Annotated[RunArtifacts, Depends(get_artifacts)]
