"""Leases: exactly one worker executes a run, and a run whose worker died is requeued.

A worker claims a run with one compare-and-set UPDATE (status, worker id, lease expiry), so of
two deliveries of the same task only one wins; the loser returns without touching the run. The
winner renews the lease from a :class:`Heartbeat` thread every ``lease_s / 4``. A reaper (every
worker, periodically and at start-up) finds running runs whose lease expired, moves them back
to ``queued`` with another compare-and-set, and the caller sends their task again; the next
worker resumes from the last checkpoint. Nothing here talks to Celery.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from partlens.store.db import FINISHED_STATUSES, Run, RunStatus

log = logging.getLogger(__name__)


def worker_identity() -> str:
    """This process as a lease holder: ``host:pid`` (a worker's child has its own pid)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _now() -> datetime:
    return datetime.now(UTC)


def _rowcount(result: Any) -> int:
    return result.rowcount if isinstance(result, CursorResult) else 0


@dataclass(frozen=True)
class Claim:
    """What a claim attempt found: ``won`` (this worker now executes the run), or the status
    to report without running it (a finished run, a cancelled one, or ``held`` by another)."""

    won: bool
    status: str
    config: dict[str, Any]
    attempt: int = 0


def claim_run(
    sessions: sessionmaker[Session], run_id: str, worker_id: str, lease_s: float
) -> Claim:
    """Atomically takes ``run_id`` if it is queued, or running under an expired lease."""
    now = _now()
    claimable = and_(
        Run.id == run_id,
        Run.cancel_requested.is_(False),
        or_(
            Run.status == RunStatus.queued.value,
            and_(
                Run.status == RunStatus.running.value,
                or_(Run.lease_expires_at.is_(None), Run.lease_expires_at < now),
            ),
        ),
    )
    with sessions() as session:
        result = session.execute(
            update(Run)
            .where(claimable)
            .values(
                status=RunStatus.running.value,
                stage="preparing",
                worker_id=worker_id,
                lease_expires_at=now + timedelta(seconds=lease_s),
                attempts=Run.attempts + 1,
                error=None,
            )
            .execution_options(synchronize_session=False)
        )
        session.commit()
        won = _rowcount(result) == 1
        run = session.get(Run, run_id, populate_existing=True)
        if run is None:
            return Claim(False, "missing", {})
        if won:
            if run.started_at is None:
                run.started_at = now
                session.commit()
            return Claim(True, run.status, dict(run.config), run.attempts)
        if run.status in FINISHED_STATUSES:
            return Claim(False, run.status, {})
        if run.cancel_requested and run.status == RunStatus.queued.value:
            run.status, run.stage, run.finished_at = RunStatus.cancelled.value, "cancelled", now
            session.commit()
            return Claim(False, run.status, {})
        return Claim(False, "held", {})


def renew_lease(
    sessions: sessionmaker[Session], run_id: str, worker_id: str, lease_s: float
) -> bool:
    """Extends this worker's lease; False when the run is no longer this worker's."""
    with sessions() as session:
        result = session.execute(
            update(Run)
            .where(
                Run.id == run_id,
                Run.worker_id == worker_id,
                Run.status == RunStatus.running.value,
            )
            .values(lease_expires_at=_now() + timedelta(seconds=lease_s))
            .execution_options(synchronize_session=False)
        )
        session.commit()
        return _rowcount(result) == 1


def holds_lease(sessions: sessionmaker[Session], run_id: str, worker_id: str) -> bool:
    """Whether ``worker_id`` still executes ``run_id`` (checked before publishing a result)."""
    with sessions() as session:
        run = session.get(Run, run_id)
        return (
            run is not None and run.worker_id == worker_id and run.status == RunStatus.running.value
        )


def requeue_expired(sessions: sessionmaker[Session]) -> list[tuple[str, str]]:
    """Moves running runs with an expired lease back to ``queued`` (or to ``cancelled`` when a
    cancel was asked for); returns ``(run_id, queue)`` of the requeued ones, to be sent again."""
    now = _now()
    expired = and_(
        Run.status == RunStatus.running.value,
        or_(Run.lease_expires_at.is_(None), Run.lease_expires_at < now),
    )
    requeued: list[tuple[str, str]] = []
    with sessions() as session:
        candidates = session.execute(select(Run.id, Run.queue, Run.cancel_requested).where(expired))
        for run_id, queue, cancelled in candidates.all():
            values: dict[str, Any] = {"worker_id": None, "lease_expires_at": None}
            if cancelled:
                values |= {"status": "cancelled", "stage": "cancelled", "finished_at": now}
            else:
                values |= {"status": RunStatus.queued.value, "stage": "requeued"}
            result = session.execute(
                update(Run)
                .where(Run.id == run_id, expired)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if _rowcount(result) == 1 and not cancelled:
                requeued.append((run_id, queue))
        session.commit()
    for run_id, _queue in requeued:
        log.warning("run %s: its worker's lease expired; requeued", run_id)
    return requeued


class Heartbeat:
    """A daemon thread renewing this worker's lease every ``lease_s / 4`` seconds.

    ``lost`` is set when a renewal finds the run taken away (reaped after a stall, or cancelled
    and finished elsewhere): the training loop then stops without publishing anything.
    """

    def __init__(
        self, sessions: sessionmaker[Session], run_id: str, worker_id: str, lease_s: float
    ) -> None:
        self.sessions, self.run_id, self.worker_id, self.lease_s = (
            sessions,
            run_id,
            worker_id,
            lease_s,
        )
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lease-{run_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.lease_s)

    def _beat(self) -> None:
        while not self._stop.wait(self.lease_s / 4):
            try:
                if not renew_lease(self.sessions, self.run_id, self.worker_id, self.lease_s):
                    log.error("run %s: lease lost; stopping without publishing", self.run_id)
                    self.lost.set()
                    return
            except Exception:
                # A database hiccup: try again at the next beat, the lease has slack for it.
                log.exception("run %s: could not renew the lease", self.run_id)

    def should_stop(self) -> bool:
        """The training-callback hook: stop once the lease is lost."""
        return self.lost.is_set()
