"""The Celery application: ``celery -A worker.celery_app worker``.

The app is created when this module is imported (Celery's ``-A`` needs a module attribute), so
only the worker process imports it; the API enqueues by task name without it. Every worker also
runs the lease reaper (:mod:`worker.reaper`), so a run whose worker died is requeued by any
worker that is still alive.
"""

from __future__ import annotations

import logging

from celery import Celery

from partlens.config import Settings, get_settings
from partlens.runs.broker import resolve_broker_url

log = logging.getLogger(__name__)

# Redis redelivers a task nobody acknowledged after this long. A dead worker's run is recovered
# by its lease within lease_s, not by this; the timeout only has to exceed the longest run
# (a paper-size VGG-16 run is hours on one GPU), so that a task still running is not delivered
# a second time for nothing (that delivery would find the lease held and return at once).
VISIBILITY_TIMEOUT_S = 48 * 3600


def create_celery(settings: Settings | None = None, broker_url: str | None = None) -> Celery:
    """A Celery app configured for long GPU/CPU-bound training tasks."""
    settings = settings or get_settings()
    if broker_url is None:
        broker_url, fallback = resolve_broker_url(settings)
        if fallback:
            log.warning(
                "No Redis at %s; using the embedded broker %s", settings.broker_url, broker_url
            )
    app = Celery("partlens", broker=broker_url, include=["worker.tasks"])
    app.conf.update(
        task_default_queue=settings.queue,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # Acknowledge a task once it returned, not when it starts: a task lost with its worker
        # stays in the broker.
        task_acks_late=True,
        # ... and when the child executing it dies (OOM killer, SIGKILL), the parent puts it
        # back on the queue instead of acknowledging it.
        task_reject_on_worker_lost=True,
        # Reserve one task at a time: a waiting run goes to the next idle worker instead of
        # waiting hours behind the run this worker is busy with.
        worker_prefetch_multiplier=1,
        # A fresh child process per task: the GPU memory and whatever else a run held go back
        # to the system when it ends. The parent never touches CUDA (it only reaps leases).
        worker_max_tasks_per_child=1,
        # The SQLAlchemy fallback transport has no visibility timeout (and refuses the option).
        broker_transport_options=(
            {"visibility_timeout": VISIBILITY_TIMEOUT_S} if broker_url.startswith("redis") else {}
        ),
        # A Redis outage must not end the worker: retry the connection forever, also at start.
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        # A run keeps training through a broker outage (it needs the database, not Redis).
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_hijack_root_logger=False,
    )
    return app


app = create_celery()

from worker import reaper  # noqa: E402 - connects the reaper to this app's worker signals

reaper.install(app)
