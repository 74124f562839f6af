"""The API's side of the task queue: a producer created on first use, sending by task name.

Importing the API or building the app connects to nothing; the broker is resolved (and a Redis
that does not answer replaced by the embedded fallback) when the first run is enqueued.
"""

from __future__ import annotations

import threading

from celery import Celery

from partlens.config import Settings
from partlens.runs.broker import RUN_TASK, resolve_broker_url


class RunQueue:
    """Enqueues runs by id for the worker (``partlens.execute_run``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._producer: Celery | None = None
        self._lock = threading.Lock()

    @property
    def broker_scheme(self) -> str:
        """The scheme of the broker in use (``redis``, or ``sqla+sqlite`` for the fallback);
        resolving it may ping Redis once, on first use."""
        return str(self._celery().conf.broker_url).split("://")[0]

    def _celery(self) -> Celery:
        with self._lock:
            if self._producer is None:
                broker_url, _ = resolve_broker_url(self.settings)
                self._producer = Celery("partlens-api", broker=broker_url)
                self._producer.conf.update(
                    task_default_queue=self.settings.queue, task_serializer="json"
                )
            return self._producer

    def live_workers(self, timeout_s: float = 1.0) -> dict[str, list[str]] | None:
        """The workers answering a broadcast within ``timeout_s``, with the queues they serve;
        None when the broker cannot broadcast (the embedded SQLite fallback) or is down."""
        if not self.broker_scheme.startswith("redis"):
            return None
        try:
            answers = self._celery().control.inspect(timeout=timeout_s).active_queues() or {}
        except Exception:  # a broker outage is reported as "unknown", never as a 500
            return None
        return {name: sorted(q["name"] for q in queues) for name, queues in answers.items()}

    def enqueue(self, run_id: str, queue: str | None = None) -> None:
        """Sends the run task for ``run_id`` to ``queue`` (default: the configured one); broker
        errors propagate to the caller."""
        self._celery().send_task(RUN_TASK, args=[run_id], queue=queue or self.settings.queue)
