"""The lease reaper: in every worker's main process, requeue runs whose worker died.

At start-up and then every ``lease_s / 4`` seconds, :func:`partlens.runs.lease.requeue_expired`
moves running runs with an expired lease back to ``queued`` and this thread sends their task
again, to the queue they were launched on. Several workers reaping at once is safe: the move is
a compare-and-set, so each run is requeued once.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Celery
from celery.signals import worker_ready, worker_shutdown
from sqlalchemy.orm import Session, sessionmaker

from partlens.config import get_settings
from partlens.runs.broker import RUN_TASK
from partlens.runs.lease import requeue_expired
from partlens.store import create_session_factory

log = logging.getLogger(__name__)


class Reaper:
    """A daemon thread requeuing expired runs through ``app``."""

    def __init__(self, app: Celery, interval_s: float) -> None:
        self.app = app
        self.interval_s = interval_s
        self._sessions: sessionmaker[Session] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lease-reaper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def reap_once(self) -> list[str]:
        """Requeues the runs whose lease expired; returns their ids."""
        settings = get_settings()
        if self._sessions is None:
            # Not the pipeline's factory: that module loads torch, which the parent avoids.
            self._sessions = create_session_factory(settings.resolved_database_url)
        requeued = requeue_expired(self._sessions)
        for run_id, queue in requeued:
            self.app.send_task(RUN_TASK, args=[run_id], queue=queue or settings.queue)
        return [run_id for run_id, _ in requeued]

    def _loop(self) -> None:
        while True:
            try:
                self.reap_once()
            except Exception:
                # The database or the broker is away: the next round tries again.
                log.exception("lease reaper round failed")
            if self._stop.wait(self.interval_s):
                return


def install(app: Celery) -> None:
    """Starts a reaper when a worker of ``app`` is ready, stops it at shutdown."""
    reapers: list[Reaper] = []

    @worker_ready.connect(weak=False)
    def _start(sender: Any = None, **_kwargs: Any) -> None:
        reaper = Reaper(app, interval_s=get_settings().lease_s / 4)
        reaper.start()
        reapers.append(reaper)

    @worker_shutdown.connect(weak=False)
    def _stop(sender: Any = None, **_kwargs: Any) -> None:
        for reaper in reapers:
            reaper.stop()
