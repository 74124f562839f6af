"""How the services find the task queue: the run task's name and the broker to use.

The API enqueues by this name and the worker registers its task under it, so neither imports
the other. A ``redis://`` broker that does not answer falls back to kombu's SQLAlchemy transport
on a SQLite file in the data dir, so a fresh machine without Redis still works.
"""

from __future__ import annotations

import redis

from partlens.config import Settings

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
    """The broker to use and whether it is the embedded SQLite fallback."""
    url = settings.broker_url
    if url.startswith(("redis://", "rediss://")) and not redis_answers(url):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return settings.fallback_broker_url, True
    return url, False
