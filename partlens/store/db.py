"""Run metadata in a relational database: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


class RunStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"


RUN_STATUSES = tuple(s.value for s in RunStatus)
FINISHED_STATUSES = (RunStatus.succeeded, RunStatus.failed, RunStatus.cancelled)


def _now() -> datetime:
    return datetime.now(UTC)


def new_run_id() -> str:
    """A short random run id, safe in URLs and folder names."""
    return uuid.uuid4().hex[:12]


class Base(DeclarativeBase):
    pass


class Run(Base):
    """One training run: its configuration, where it stands, and its live progress."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_run_id)
    name: Mapped[str] = mapped_column(String(200), default="")
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    twin_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.queued.value, index=True)
    stage: Mapped[str] = mapped_column(String(32), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    epoch: Mapped[int] = mapped_column(Integer, default=0)
    step: Mapped[int] = mapped_column(Integer, default=0)
    steps_total: Mapped[int] = mapped_column(Integer, default=0)
    task_loss: Mapped[float | None] = mapped_column(Float, nullable=True)
    filter_loss: Mapped[float | None] = mapped_column(Float, nullable=True)
    accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    images_per_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # The lease: the worker executing the run and until when its claim holds. A worker renews
    # it from a heartbeat thread; a reaper requeues running runs whose lease has expired.
    queue: Mapped[str] = mapped_column(String(64), default="")
    worker_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True, index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    train_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    evaluate_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class DatasetEntry(Base):
    """A dataset registered by name: a folder in one of the supported formats, indexed once."""

    __tablename__ = "datasets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    format: Mapped[str] = mapped_column(String(32))
    root: Mapped[str] = mapped_column(Text)
    # DatasetSummary (partlens.assets.datasets): counts per split, category and part.
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class WeightsEntry(Base):
    """A weights file registered by name, checked against its architecture, stored by checksum."""

    __tablename__ = "weights"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    arch: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    layout: Mapped[str] = mapped_column(String(16))
    # The architecture's own options the weights fix (tiny's width), applied to runs using them.
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    num_tensors: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their folder created and WAL mode for readers."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets the API read while the worker writes progress.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def init_db(engine: Engine) -> None:
    """Bring the schema to the newest migration: built in an empty database, upgraded in an
    older one (its rows kept). Safe when several processes start at once."""
    # Imported here because the migrations import this module (for make_engine and Base).
    from partlens.store.migrate import upgrade_database

    upgrade_database(engine)


def create_session_factory(url: str) -> sessionmaker:
    """A session factory bound to a ready database at ``url``."""
    engine = make_engine(url)
    init_db(engine)
    return sessionmaker(bind=engine, expire_on_commit=False)
