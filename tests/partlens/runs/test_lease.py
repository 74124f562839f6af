"""Leases on real databases: one claim wins, renewals, the reaper, and cancel of a dead run."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from partlens.runs.config import RunConfig
from partlens.runs.lease import (
    Heartbeat,
    claim_run,
    holds_lease,
    renew_lease,
    requeue_expired,
)
from partlens.store import Run, create_session_factory


def _sessions(tmp_path):
    return create_session_factory(f"sqlite:///{tmp_path / 'runs.sqlite'}")


def _add(sessions, **fields) -> str:
    with sessions() as session:
        run = Run(name="t", config=RunConfig().model_dump(), queue="cpu", **fields)
        session.add(run)
        session.commit()
        return run.id


def _expire(sessions, run_id: str) -> None:
    with sessions() as session:
        session.get(Run, run_id).lease_expires_at = datetime.now(UTC) - timedelta(seconds=1)
        session.commit()


def test_of_concurrent_claims_exactly_one_wins(tmp_path):
    sessions = _sessions(tmp_path)
    run_id = _add(sessions)
    results = []
    barrier = threading.Barrier(8)

    def claim(i: int) -> None:
        barrier.wait()
        results.append(claim_run(sessions, run_id, f"w{i}", 20))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [c for c in results if c.won]
    assert len(winners) == 1 and winners[0].attempt == 1
    assert winners[0].config["arch"] == "tiny"
    assert sorted(c.status for c in results if not c.won) == ["held"] * 7
    with sessions() as session:
        run = session.get(Run, run_id)
        assert run.status == "running" and run.attempts == 1 and run.started_at is not None
        assert run.lease_expires_at is not None


def test_renewal_only_by_the_holder_and_an_expired_lease_can_be_taken_over(tmp_path):
    sessions = _sessions(tmp_path)
    run_id = _add(sessions)
    assert claim_run(sessions, run_id, "a", 20).won
    assert renew_lease(sessions, run_id, "a", 20)
    assert not renew_lease(sessions, run_id, "b", 20)
    assert not claim_run(sessions, run_id, "b", 20).won
    _expire(sessions, run_id)
    takeover = claim_run(sessions, run_id, "b", 20)
    assert takeover.won and takeover.attempt == 2
    assert not renew_lease(sessions, run_id, "a", 20), "the old holder lost it"
    assert holds_lease(sessions, run_id, "b") and not holds_lease(sessions, run_id, "a")


def test_the_reaper_requeues_expired_runs_once_and_cancels_cancelled_ones(tmp_path):
    sessions = _sessions(tmp_path)
    live, dead, dead_cancelled = _add(sessions), _add(sessions), _add(sessions)
    for run_id in (live, dead, dead_cancelled):
        assert claim_run(sessions, run_id, "w", 20).won
    _expire(sessions, dead)
    _expire(sessions, dead_cancelled)
    with sessions() as session:
        session.get(Run, dead_cancelled).cancel_requested = True
        session.commit()
    assert requeue_expired(sessions) == [(dead, "cpu")]
    assert requeue_expired(sessions) == [], "a second reaper finds nothing"
    with sessions() as session:
        assert session.get(Run, live).status == "running"
        requeued = session.get(Run, dead)
        assert (requeued.status, requeued.stage, requeued.worker_id) == ("queued", "requeued", None)
        cancelled = session.get(Run, dead_cancelled)
        assert cancelled.status == "cancelled" and cancelled.finished_at is not None


def test_finished_and_cancelled_runs_are_not_claimed(tmp_path):
    sessions = _sessions(tmp_path)
    done = _add(sessions, status="succeeded")
    cancelled = _add(sessions, cancel_requested=True)
    assert claim_run(sessions, done, "w", 20).status == "succeeded"
    claim = claim_run(sessions, cancelled, "w", 20)
    assert not claim.won and claim.status == "cancelled"
    assert claim_run(sessions, "nope", "w", 20).status == "missing"


def test_heartbeat_renews_and_notices_a_lost_lease(tmp_path):
    sessions = _sessions(tmp_path)
    run_id = _add(sessions)
    assert claim_run(sessions, run_id, "a", 0.8).won
    with Heartbeat(sessions, run_id, "a", 0.8) as heartbeat:
        threading.Event().wait(1.2)  # longer than the lease: only renewals keep it
        assert not heartbeat.should_stop()
        assert not requeue_expired(sessions)
        with sessions() as session:
            session.get(Run, run_id).worker_id = "b"  # taken over elsewhere
            session.commit()
        assert heartbeat.lost.wait(2)
        assert heartbeat.should_stop()
