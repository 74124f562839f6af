"""Run metadata round-trips through SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from partlens.store import Run, RunStatus, create_session_factory

POSTGRES_ADMIN_URL = os.environ.get(
    "PARTLENS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _roundtrip(url: str) -> None:
    sessions = create_session_factory(url)
    with sessions() as session:
        run = Run(name="r", config={"arch": "tiny", "dataset": {"task": "single"}})
        session.add(run)
        session.commit()
        run_id = run.id
    with sessions() as session:
        loaded = session.get(Run, run_id)
        assert loaded.status == RunStatus.queued
        assert loaded.config["dataset"]["task"] == "single"
        assert loaded.created_at is not None
        loaded.status = RunStatus.running.value
        loaded.progress = 0.5
        session.commit()
    with sessions() as session:
        assert session.get(Run, run_id).progress == 0.5


def test_sqlite_file_in_a_new_folder(tmp_path):
    _roundtrip(f"sqlite:///{tmp_path / 'deep' / 'meta.sqlite'}")
    assert (tmp_path / "deep" / "meta.sqlite").is_file()


@pytest.fixture
def postgres_url():
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"partlens_test_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    except OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must reach PostgreSQL at {POSTGRES_ADMIN_URL}: {exc}")
        pytest.skip(f"no PostgreSQL at {POSTGRES_ADMIN_URL}")
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def test_postgresql_by_url(postgres_url):
    _roundtrip(postgres_url)
