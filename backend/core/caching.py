"""HTTP caching of responses derived from a run's published artifacts.

Published artifacts (``features/``, ``metrics.json``, ``heatmaps/``) never change in place: a
republication is a new inode (``partlens.store.artifacts._identity``). So a response derived
from them is a pure function of (run id, the identities of the files it reads, the request's
path and query): that tuple is the strong ``ETag``, the response is ``immutable`` for a year,
and ``If-None-Match`` is answered with 304 and no body.

Rendered PNGs are also kept on disk under ``runs/<id>/cache/<etag>.png`` (written atomically)
and every body in a bounded in-memory LRU, so a repeated request never renders again, even
after a restart. Only successful responses reach this module: routes validate first (404,
409, 422 are raised before), so errors and unpublished runs are never cached.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from pydantic_core import to_json
from starlette.concurrency import run_in_threadpool

from partlens.store import RunArtifacts
from partlens.store.atomic_io import atomic_write_bytes

CACHE_CONTROL = "public, max-age=31536000, immutable"
CACHE_DIR = "cache"
MEMORY_BYTES = 64 * 1024 * 1024  # bound of the in-memory LRU, per app
MEMORY_ENTRY_BYTES = 4 * 1024 * 1024  # larger bodies are served from disk only
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the If-None-Match ETag still matches."}
}


class MemoryLRU:
    """A thread-safe LRU of response bodies bounded by their total size in bytes."""

    def __init__(self, max_bytes: int = MEMORY_BYTES) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """The body stored under ``key`` (now the most recent), or None."""
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        """Store ``body``, evicting the least recently used bodies beyond the bound."""
        if len(body) > min(self.max_bytes, MEMORY_ENTRY_BYTES):
            return
        with self._lock:
            old = self._items.pop(key, None)
            self._size += len(body) - (len(old) if old is not None else 0)
            self._items[key] = body
            while self._size > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._size -= len(evicted)

    def drop_run(self, run_id: str) -> None:
        """Forget every body of run ``run_id`` (keys are ``<run_id>/<etag>``)."""
        prefix = f"{run_id}/"
        with self._lock:
            for key in [key for key in self._items if key.startswith(prefix)]:
                self._size -= len(self._items.pop(key))

    def __len__(self) -> int:
        return len(self._items)


_APP_LOCK = threading.Lock()


def memory_cache(request: Request) -> MemoryLRU:
    """The app's in-memory LRU, created on first use (one per app, so tests stay isolated)."""
    return memory_cache_of(request.app)


def memory_cache_of(app: Any) -> MemoryLRU:
    """`memory_cache` of an app."""
    state = app.state
    cache = getattr(state, "response_cache", None)
    if cache is None:
        with _APP_LOCK:
            cache = getattr(state, "response_cache", None)
            if cache is None:
                cache = state.response_cache = MemoryLRU()
    return cache


def identity(path: Path) -> str:
    """Inode, mtime and size of ``path``: changes whenever the file is republished."""
    status = os.stat(path)
    return f"{status.st_ino}-{status.st_mtime_ns}-{status.st_size}"


def etag_for(run_id: str, sources: Iterable[Path], request: Request) -> str:
    """The strong ETag of a response of run ``run_id`` reading ``sources`` for ``request``."""
    query = "&".join(sorted(f"{k}={v}" for k, v in request.query_params.multi_items()))
    parts = [run_id, *(identity(p) for p in sources), request.url.path, query]
    return '"' + hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32] + '"'


def matches(request: Request, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison, as RFC 9110 asks)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


async def cached_response(
    request: Request,
    artifacts: RunArtifacts,
    sources: Iterable[Path],
    render: Callable[[], bytes],
    *,
    media_type: str,
    disk: bool = False,
) -> Response:
    """``render()``'s body for this request with its ETag, 304 when the client has it.

    ``sources`` are the published files the body derives from; ``render`` runs only when no
    copy is in memory (nor, with ``disk=True``, under ``runs/<id>/cache/``). A hit (304 or
    memory) is answered on the event loop: no thread hop, the route's only cost; disk reads
    and renders run in the thread pool. A body rendered while a source was republished is
    served without an ETag and not stored.
    """
    sources = list(sources)
    etag = etag_for(artifacts.root.name, sources, request)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if matches(request, etag):
        return Response(status_code=304, headers=headers)
    memory = memory_cache(request)
    key = f"{artifacts.root.name}/{etag}"  # per run, so that a deleted run's bodies can go
    hit = memory.get(key)
    if hit is not None:
        return Response(hit, media_type=media_type, headers=headers)
    path = artifacts.root / CACHE_DIR / f"{etag.strip(chr(34))}{_suffix(media_type)}"
    body, fresh = await run_in_threadpool(
        _load_or_render, request, artifacts.root.name, sources, etag, path if disk else None, render
    )
    if not fresh:
        return Response(body, media_type=media_type)
    memory.put(key, body)
    return Response(body, media_type=media_type, headers=headers)


def _load_or_render(
    request: Request,
    run_id: str,
    sources: list[Path],
    etag: str,
    path: Path | None,
    render: Callable[[], bytes],
) -> tuple[bytes, bool]:
    """The body from the disk cache at ``path`` or rendered (and then stored there); False
    when a source changed while rendering (the body is not ``etag``'s)."""
    if path is not None and (stored := _read(path)) is not None:
        return stored, True
    body = render()
    if etag != etag_for(run_id, sources, request):
        return body, False
    if path is not None:
        atomic_write_bytes(path, body)
    return body, True


def json_body(value: Any) -> bytes:
    """``value`` (pydantic models, lists of them, plain data) as the JSON FastAPI would send."""
    return to_json(value)


def _suffix(media_type: str) -> str:
    return {"image/png": ".png", "application/json": ".json"}.get(media_type, ".bin")


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
