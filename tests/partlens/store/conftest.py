"""Store test fixtures: a fresh PostgreSQL database for each test that asks for one."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

POSTGRES_ADMIN_URL = os.environ.get(
    "PARTLENS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _admin_url() -> URL:
    url = make_url(POSTGRES_ADMIN_URL)
    # SQLAlchemy 2.0 reads a bare postgresql:// as psycopg2, which partlens does not install.
    return url.set(drivername="postgresql+psycopg") if url.drivername == "postgresql" else url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a new, uniquely named PostgreSQL database, dropped after the test.

    Fails (never skips) when PostgreSQL does not answer: the store must be tested on both
    backends. ``PARTLENS_TEST_POSTGRES_URL`` names a database to connect to for creating it.
    """
    admin_url = _admin_url()
    # CREATE / DROP DATABASE cannot run inside a transaction.
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"partlens_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        pytest.fail(
            f"the store tests need PostgreSQL at {admin_url!r} (start it, or point "
            f"PARTLENS_TEST_POSTGRES_URL at one): {exc}",
            pytrace=False,
        )
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            # FORCE ends the connections a failed test (or a pool) left open.
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
