from __future__ import annotations

from partlens.config import Settings
from partlens.runs.broker import redis_answers, resolve_broker_url


def test_redis_broker_used_when_it_answers(tmp_path, redis_url):
    assert redis_answers(redis_url)
    url, fallback = resolve_broker_url(Settings(data_dir=tmp_path, broker_url=redis_url))
    assert (url, fallback) == (redis_url, False)


def test_fallback_to_sqlite_when_redis_is_silent(tmp_path):
    settings = Settings(data_dir=tmp_path, broker_url="redis://127.0.0.1:1/0")
    assert not redis_answers(settings.broker_url, timeout_s=0.2)
    url, fallback = resolve_broker_url(settings)
    assert fallback and url == f"sqla+sqlite:///{tmp_path.resolve()}/broker.sqlite"
