"""Schema migrations of the run metadata database (Alembic, revisions shipped in the package).

:func:`upgrade_database` brings a database to :data:`HEAD_REVISION`: an empty one is built from
nothing, one made by ``create_all`` before migrations existed (a ``runs`` table and no
``alembic_version``) is stamped first and keeps its rows. Every process that opens the database
calls it (through :func:`partlens.store.db.init_db`), several at once at start-up, so it holds a
lock while it migrates: a PostgreSQL advisory lock, or a file lock next to a SQLite file.

The Alembic configuration is built here, not read from an ``alembic.ini``. A developer drafts a
revision with ``alembic.command.revision(alembic_config(url), message=..., autogenerate=True)``
and then edits it by hand (batch operations, server defaults for existing rows, a docstring).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from partlens.store.db import make_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
INITIAL_REVISION = "0001_initial"
LEASE_REVISION = "0002_run_lease"
HEAD_REVISION = "0003_assets"

# The columns 0002_run_lease adds: a database that create_all made from the ORM after they were
# added (and before migrations existed) already has them, and is stamped at that revision.
_LEASE_COLUMNS = frozenset(
    ("queue", "worker_id", "lease_expires_at", "attempts", "train_s", "evaluate_s")
)

# Any fixed 64-bit key will do; advisory locks are per database, so this one only serialises
# the callers migrating the same database.
_PG_LOCK_KEY = 0x7061_7274_6C65_6E73  # "partlens"


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    """The Alembic configuration for the database at ``url``, on ``connection`` when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Set explicitly, so that Alembic does not warn about its legacy path splitting.
    config.set_main_option("path_separator", "os")
    # The options go through configparser interpolation: a "%" (URL-encoded password) doubles.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def current_revision(engine: Engine | Connection) -> str | None:
    """The revision the database is at; None for one that migrations never touched."""
    if isinstance(engine, Connection):
        return MigrationContext.configure(engine).get_current_revision()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_database(engine_or_url: Engine | str) -> str:
    """Bring the database to :data:`HEAD_REVISION` (safe to call concurrently); returns it."""
    if isinstance(engine_or_url, str):
        engine = make_engine(engine_or_url)
        try:
            return _upgrade(engine)
        finally:
            engine.dispose()
    return _upgrade(engine_or_url)


def _upgrade(engine: Engine) -> str:
    url = engine.url.render_as_string(hide_password=False)
    with _migration_lock(engine) as connection:
        config = alembic_config(url, connection)
        tables = set(inspect(connection).get_table_names())
        if "runs" in tables and "alembic_version" not in tables:
            command.stamp(config, _legacy_revision(connection))
        command.upgrade(config, "head")
        revision = current_revision(connection)
        connection.commit()
    if revision is None:
        raise RuntimeError(f"the database at {engine.url!r} has no revision after upgrading")
    return revision


def _legacy_revision(connection: Connection) -> str:
    """The revision whose schema a database made by ``create_all`` already has."""
    inspector = inspect(connection)
    columns = {column["name"] for column in inspector.get_columns("runs")}
    if not columns >= _LEASE_COLUMNS:
        return INITIAL_REVISION
    # The asset tables came with 0003: create_all made them only once they were in the ORM.
    has_assets = {"datasets", "weights"} <= set(inspector.get_table_names())
    return HEAD_REVISION if has_assets else LEASE_REVISION


def _migration_lock(engine: Engine) -> AbstractContextManager[Connection]:
    """A connection on which this process alone migrates the database until the block ends."""
    if engine.dialect.name == "postgresql":
        return _advisory_lock(engine)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return _file_lock(engine, Path(f"{database}.migrate.lock"))
    # Other backends, and in-memory SQLite (private to its one connection), migrate unlocked.
    return engine.connect()


@contextmanager
def _advisory_lock(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        # A session lock, not a transaction one, so that it spans the commits made under it.
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK_KEY})
        connection.commit()
        try:
            yield connection
        finally:
            # A failed migration leaves the transaction aborted; unlocking needs a fresh one.
            connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK_KEY})
            connection.commit()


@contextmanager
def _file_lock(engine: Engine, lock_path: Path) -> Iterator[Connection]:
    # SQLite has no advisory lock and pysqlite runs DDL outside transactions: a file lock
    # beside the database serialises the processes. The lock file stays (removing it races).
    with open(lock_path, "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
