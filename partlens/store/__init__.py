"""Run metadata (SQLAlchemy) and run artifacts on disk (atomic writes)."""

from partlens.store.artifacts import RunArtifacts
from partlens.store.atomic_io import atomic_save_npy, atomic_write_bytes, atomic_write_json
from partlens.store.db import (
    RUN_STATUSES,
    Run,
    RunStatus,
    create_session_factory,
    init_db,
)

__all__ = [
    "RUN_STATUSES",
    "Run",
    "RunArtifacts",
    "RunStatus",
    "atomic_save_npy",
    "atomic_write_bytes",
    "atomic_write_json",
    "create_session_factory",
    "init_db",
]
