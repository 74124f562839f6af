"""The Celery application: ``celery -A worker.celery_app worker``.

The app is created when this module is imported (Celery's ``-A`` needs a module attribute), so
only the worker process imports it; the API enqueues by task name without it.
"""

from __future__ import annotations

import logging

from celery import Celery

from partlens.config import Settings, get_settings
from partlens.runs.broker import resolve_broker_url

log = logging.getLogger(__name__)


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
        # One long task at a time per worker; a task lost with its worker is redelivered.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
    )
    return app


app = create_celery()
