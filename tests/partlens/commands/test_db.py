"""``partlens db``: upgrade an empty database to the head, report where one stands."""

from __future__ import annotations

from sqlalchemy import inspect
from typer.testing import CliRunner

from partlens.cli import app
from partlens.store.db import make_engine
from partlens.store.migrate import HEAD_REVISION

runner = CliRunner()


def test_current_says_behind_until_upgrade_builds_the_schema(data_dir):
    before = runner.invoke(app, ["db", "current"])
    assert before.exit_code == 2
    assert "none (never migrated)" in before.output and "partlens db upgrade" in before.output

    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert HEAD_REVISION in upgraded.output
    engine = make_engine(f"sqlite:///{data_dir / 'partlens.sqlite'}")
    try:
        assert "runs" in inspect(engine).get_table_names()
    finally:
        engine.dispose()

    after = runner.invoke(app, ["db", "current"])
    assert after.exit_code == 0
    assert f"current: {HEAD_REVISION}" in after.output


def test_unreachable_database_exits_2_with_the_url_and_no_password(data_dir, monkeypatch):
    from partlens.config import get_settings

    monkeypatch.setenv(
        "PARTLENS_DATABASE_URL", "postgresql+psycopg://user:secret@127.0.0.1:1/partlens"
    )
    get_settings.cache_clear()
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "cannot migrate postgresql+psycopg://user:***@127.0.0.1:1/partlens" in result.output
    assert "secret" not in result.output
