"""Fixtures of the API tests: a finished, evaluated run behind a TestClient."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from backend.main import create_app
from partlens.config import Settings
from tests.backend.served_run import Served, publish_evaluated


@pytest.fixture
def served(tmp_path, redis_url) -> Iterator[Served]:
    """`publish_evaluated` on a fresh app and data dir."""
    settings = Settings(data_dir=tmp_path, broker_url=redis_url)
    with TestClient(create_app(settings)) as client:
        yield publish_evaluated(client, settings.runs_dir)
