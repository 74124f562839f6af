"""FastAPI dependencies: settings, a DB session, the run lookup."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from partlens.config import Settings
from partlens.store import Run, RunArtifacts


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session)]


def get_run(run_id: str, session: SessionDep) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise HTTPException(status_code=404, detail=f"run {run_id!r} not found")
    return run


RunDep = Annotated[Run, Depends(get_run)]


def get_artifacts(run: RunDep, settings: SettingsDep) -> RunArtifacts:
    return RunArtifacts(settings.runs_dir, run.id)


ArtifactsDep = Annotated[RunArtifacts, Depends(get_artifacts)]
