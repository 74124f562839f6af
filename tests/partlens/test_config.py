from __future__ import annotations

from partlens.config import Settings


def test_environment_overrides_and_sqlite_default(tmp_path, monkeypatch):
    monkeypatch.setenv("PARTLENS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PARTLENS_BROKER_URL", "redis://example:1/2")
    monkeypatch.delenv("PARTLENS_DATABASE_URL", raising=False)
    settings = Settings()
    assert settings.data_dir == tmp_path
    assert settings.broker_url == "redis://example:1/2"
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve()}/partlens.sqlite"
    assert settings.fallback_broker_url.startswith("sqla+sqlite:///")
    monkeypatch.setenv("PARTLENS_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert Settings().resolved_database_url == "postgresql+psycopg://u@h/db"
