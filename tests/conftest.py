"""Shared fixtures: a real Redis db, and a real stack (uvicorn API, celery worker, Dash UI)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import redis

from tests.support import REDIS_TEST_URL, STACK_REDIS_URL, TINY_RUN, Stack


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A real Redis database index reserved for tests, emptied before and after."""
    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"tests need the Redis at {REDIS_TEST_URL}: {exc}")
    client.flushdb()
    yield REDIS_TEST_URL
    client.flushdb()


@pytest.fixture(scope="session")
def redis_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """API + worker + UI on a real Redis broker (its own db index, emptied around it)."""
    client = redis.Redis.from_url(STACK_REDIS_URL)
    client.flushdb()
    stack = Stack(tmp_path_factory.mktemp("stack-redis"), STACK_REDIS_URL).start(ui=True)
    yield stack
    stack.stop()
    client.flushdb()


@pytest.fixture(scope="session")
def tiny_run(redis_stack: Stack) -> dict:
    """A tiny interpretable run (with its twin) trained to the end through the API."""
    response = httpx.post(
        f"{redis_stack.api_url}/runs", json={**TINY_RUN, "with_twin": True}, timeout=30
    )
    assert response.status_code == 201, response.text
    run = redis_stack.wait_run(response.json()["id"])
    assert run["status"] == "succeeded", f"{run['error']}\n{redis_stack.logs()}"
    twin = redis_stack.wait_run(run["twin_id"])
    assert twin["status"] == "succeeded", f"{twin['error']}\n{redis_stack.logs()}"
    return run
