"""Run metadata (SQLAlchemy, its schema by Alembic migrations) and run artifacts on disk."""

from partlens.store.artifacts import RunArtifacts
from partlens.store.atomic_io import atomic_save_npy, atomic_write_bytes, atomic_write_json
from partlens.store.db import (
    RUN_STATUSES,
    Run,
    RunStatus,
    create_session_factory,
    init_db,
)
from partlens.store.migrate import HEAD_REVISION, current_revision, upgrade_database

__all__ = [
    "HEAD_REVISION",
    "RUN_STATUSES",
    "Run",
    "RunArtifacts",
    "RunStatus",
    "atomic_save_npy",
    "atomic_write_bytes",
    "atomic_write_json",
    "create_session_factory",
    "current_revision",
    "init_db",
    "upgrade_database",
]
