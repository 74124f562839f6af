"""Schema migrations on SQLite and PostgreSQL: from nothing, from the schema before migrations,
concurrently, and in step with the ORM."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    inspect,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from partlens.config import get_settings
from partlens.runs.config import RunConfig
from partlens.runs.pipeline import execute_run, session_factory
from partlens.store import HEAD_REVISION, Run, current_revision, upgrade_database
from partlens.store.db import Base, make_engine
from partlens.store.migrate import INITIAL_REVISION, alembic_config

REPO = Path(__file__).resolve().parents[3]

# The runs table as create_all made it before migrations existed (the ORM at HEAD~1 of
# "store: run columns for the lease"): what existing users' databases hold.
PREVIOUS_METADATA = MetaData()
PREVIOUS_RUNS = Table(
    "runs",
    PREVIOUS_METADATA,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("config", JSON, nullable=False),
    Column("twin_id", String(32), nullable=True),
    Column("status", String(16), nullable=False, index=True),
    Column("stage", String(32), nullable=False),
    Column("progress", Float, nullable=False),
    Column("epoch", Integer, nullable=False),
    Column("step", Integer, nullable=False),
    Column("steps_total", Integer, nullable=False),
    Column("task_loss", Float, nullable=True),
    Column("filter_loss", Float, nullable=True),
    Column("accuracy", Float, nullable=True),
    Column("images_per_s", Float, nullable=True),
    Column("error", Text, nullable=True),
    Column("cancel_requested", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
)
LEASE_COLUMNS = {"queue", "worker_id", "lease_expires_at", "attempts", "train_s", "evaluate_s"}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'meta.sqlite'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _schema_diff(engine: Engine, metadata: MetaData) -> list:
    """What autogenerate would change to make the database match ``metadata`` (nothing: [])."""
    with engine.connect() as connection:
        # Types, nullability, tables, columns, indexes and keys are compared. Server defaults
        # are not: they exist only in the migrations, for rows (and older writers) that predate
        # a column, while the ORM fills every column itself.
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def _insert_previous_row(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            PREVIOUS_RUNS.insert().values(
                id="old1",
                name="before migrations",
                config={"arch": "tiny", "dataset": {"task": "single"}},
                status="succeeded",
                stage="done",
                progress=1.0,
                epoch=1,
                step=2,
                steps_total=2,
                accuracy=0.75,
                cancel_requested=False,
                created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            )
        )


def test_an_empty_database_is_built_at_head(engine):
    assert current_revision(engine) is None
    assert upgrade_database(engine) == HEAD_REVISION
    inspector = inspect(engine)
    assert set(inspector.get_table_names()) == {"runs", "datasets", "weights", "alembic_version"}
    assert {c["name"] for c in inspector.get_columns("runs")} == set(Run.__table__.columns.keys())
    assert {i["name"] for i in inspector.get_indexes("runs")} == {
        "ix_runs_status",
        "ix_runs_lease_expires_at",
    }
    assert current_revision(engine) == HEAD_REVISION
    assert upgrade_database(engine) == HEAD_REVISION, "upgrading at head changes nothing"


def test_upgrade_database_takes_a_url(database_url):
    assert upgrade_database(database_url) == HEAD_REVISION
    engine = create_engine(database_url, poolclass=NullPool)
    assert current_revision(engine) == HEAD_REVISION
    engine.dispose()


def test_the_initial_revision_is_the_previous_schema(engine, database_url):
    command.upgrade(alembic_config(database_url), INITIAL_REVISION)
    assert current_revision(engine) == INITIAL_REVISION
    assert _schema_diff(engine, PREVIOUS_METADATA) == []


def test_the_orm_matches_the_head_migration(engine):
    upgrade_database(engine)
    assert _schema_diff(engine, Base.metadata) == [], (
        "the ORM and the migrations differ: add a revision under partlens/store/migrations"
    )


def test_a_database_from_the_previous_create_all_keeps_its_rows(engine):
    PREVIOUS_METADATA.create_all(engine)
    _insert_previous_row(engine)
    assert upgrade_database(engine) == HEAD_REVISION
    with Session(engine) as session:
        run = session.get(Run, "old1")
        assert run is not None
        assert run.name == "before migrations" and run.status == "succeeded"
        assert run.config["dataset"]["task"] == "single" and run.accuracy == 0.75
        assert run.created_at.replace(tzinfo=UTC) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        # The new columns' server defaults, and nulls for the nullable ones.
        assert run.queue == "" and run.attempts == 0
        assert run.worker_id is None and run.lease_expires_at is None
        assert run.train_s is None and run.evaluate_s is None
        run.queue, run.attempts = "partlens", 1
        session.commit()
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    assert versions == [(HEAD_REVISION,)]
    assert _schema_diff(engine, Base.metadata) == []


def test_a_database_from_the_current_create_all_is_stamped_at_head(engine):
    # Made by create_all between the commit that added the lease columns and migrations.
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Run(id="new1", config={}, queue="q", attempts=2))
        session.commit()
    assert upgrade_database(engine) == HEAD_REVISION
    with Session(engine) as session:
        run = session.get(Run, "new1")
        assert run is not None and (run.queue, run.attempts) == ("q", 2)


def test_downgrading_to_the_initial_revision_keeps_rows_and_drops_the_lease(engine, database_url):
    PREVIOUS_METADATA.create_all(engine)
    _insert_previous_row(engine)
    upgrade_database(engine)
    command.downgrade(alembic_config(database_url), INITIAL_REVISION)
    assert current_revision(engine) == INITIAL_REVISION
    assert _schema_diff(engine, PREVIOUS_METADATA) == []
    with engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM runs")).all() == [("before migrations",)]
    command.downgrade(alembic_config(database_url), "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}


# Each process imports first, says "ready", and opens the database only on "go", so that all of
# them migrate at the same moment rather than one after another as they finish importing.
OPEN_AT_ONCE = textwrap.dedent(
    """
    import sys
    from partlens.store import create_session_factory

    print("ready", flush=True)
    sys.stdin.readline()
    create_session_factory(sys.argv[1]).kw["bind"].dispose()
    """
)


def test_processes_opening_a_fresh_database_at_once_all_succeed(database_url):
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AT_ONCE, database_url],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        for process in processes:
            assert process.stdout is not None and process.stdout.readline() == "ready\n"
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        outcomes = [process.communicate(timeout=120) for process in processes]
    finally:
        for process in processes:
            process.kill()
    for process, (_, stderr) in zip(processes, outcomes, strict=True):
        assert process.returncode == 0, stderr
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.connect() as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    assert versions == [(HEAD_REVISION,)]


@pytest.fixture
def postgres_settings(postgres_url, tmp_path, monkeypatch) -> Iterator[str]:
    """Settings on a fresh PostgreSQL database (and a tmp data dir); yields its URL."""
    monkeypatch.setenv("PARTLENS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PARTLENS_DATABASE_URL", postgres_url)
    get_settings.cache_clear()
    session_factory.cache_clear()
    yield postgres_url
    # The pipeline's cached engine holds connections that would outlive the database.
    if session_factory.cache_info().currsize:
        session_factory(postgres_url).kw["bind"].dispose()
    session_factory.cache_clear()
    get_settings.cache_clear()


def test_a_run_goes_through_its_lifecycle_on_postgresql(postgres_settings):
    config = RunConfig.model_validate(
        {
            "arch": "tiny",
            "width": 8,
            "epochs": 1,
            "batch_size": 8,
            "dataset": {"image_size": 64, "train_size": 16, "eval_size": 8},
        }
    ).model_dump()
    assert get_settings().resolved_database_url == postgres_settings
    sessions = session_factory(postgres_settings)
    with sessions() as session:
        run = Run(name="on postgres", config=config)
        session.add(run)
        session.commit()
        run_id = run.id
    assert execute_run(run_id) == "succeeded"
    # Read back through a connection of its own: the row as PostgreSQL has it.
    engine = create_engine(postgres_settings, poolclass=NullPool)
    with engine.connect() as connection:
        row = (
            connection.execute(text("SELECT * FROM runs WHERE id = :id"), {"id": run_id})
            .mappings()
            .one()
        )
    assert current_revision(engine) == HEAD_REVISION
    engine.dispose()
    assert row["status"] == "succeeded" and row["stage"] == "done" and row["error"] is None
    assert row["started_at"] is not None and row["finished_at"] >= row["started_at"]
    assert row["steps_total"] == 2 and row["step"] == 2 and row["progress"] == 1.0
    assert set(row.keys()) >= LEASE_COLUMNS
