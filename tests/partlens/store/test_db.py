"""Run metadata round-trips through SQLite and PostgreSQL."""

from __future__ import annotations

from partlens.store import Run, RunStatus, create_session_factory


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
    sessions.kw["bind"].dispose()


def test_sqlite_file_in_a_new_folder(tmp_path):
    _roundtrip(f"sqlite:///{tmp_path / 'deep' / 'meta.sqlite'}")
    assert (tmp_path / "deep" / "meta.sqlite").is_file()


def test_postgresql_by_url(postgres_url):
    _roundtrip(postgres_url)
