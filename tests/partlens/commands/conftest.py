"""Fixtures of the CLI command tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A fresh data dir (SQLite DB inside it) as every command's settings see it."""
    from partlens.config import get_settings

    monkeypatch.setenv("PARTLENS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PARTLENS_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
