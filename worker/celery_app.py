"""The Celery application: Redis broker when one answers, else an embedded SQLite broker."""

from __future__ import annotations

import logging

import redis
from celery import Celery

from partlens.config import Settings, get_settings

log = logging.getLogger(__name__)

RUN_TASK = "partlens.execute_run"


def redis_answers(url: str, timeout_s: float = 1.0) -> bool:
    """True when a Redis server answers PING at ``url`` within ``timeout_s``."""
    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s
        )
        return bool(client.ping())
    except (redis.RedisError, OSError, ValueError):
        return False


def resolve_broker_url(settings: Settings) -> tuple[str, bool]:
    """The broker to use and whether it is the embedded fallback.

    A ``redis://`` URL that does not answer falls back to kombu's SQLAlchemy transport on a
    SQLite file in the data dir, so a fresh machine without Redis still works.
    """
    url = settings.broker_url
    if url.startswith(("redis://", "rediss://")) and not redis_answers(url):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return settings.fallback_broker_url, True
    return url, False


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
