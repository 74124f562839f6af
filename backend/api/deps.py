"""FastAPI dependencies: settings, a DB session, the run lookup."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from partlens.config import Settings
from partlens.store import Run, RunArtifacts


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def get_session_factory(request: Request) -> sessionmaker:
    return request.app.state.sessions


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_session)]
SessionFactoryDep = Annotated[sessionmaker, Depends(get_session_factory)]
_bearer = HTTPBearer(auto_error=False)


def require_token(
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


def get_run(run_id: str, session: SessionDep) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise HTTPException(status_code=404, detail=f"run {run_id!r} not found")
    return run


RunDep = Annotated[Run, Depends(get_run)]


def get_artifacts(run: RunDep, settings: SettingsDep) -> RunArtifacts:
    return RunArtifacts(settings.runs_dir, run.id)


ArtifactsDep = Annotated[RunArtifacts, Depends(get_artifacts)]
