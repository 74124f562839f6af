"""The UI's only way to data: a small client of the partlens HTTP API."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import httpx

# A probe runs the run's model on the upload: the first one of a run loads the model too.
UPLOAD_TIMEOUT_S = 120.0
CACHE_BYTES = 64 * 2**20  # immutable JSON answers kept per UI process


class ApiError(Exception):
    """An API call failed; ``message`` is fit to show to a user.

    ``fields`` maps each request field the API rejected (``epochs``, ``dataset.category``: its
    dotted location in the body or query) to the reason, so a form can say it at the field.
    """

    def __init__(
        self, message: str, status_code: int | None = None, fields: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.fields = fields or {}


def _location(err: dict[str, Any]) -> str:
    """A FastAPI error's location without its first part (``body``, ``query``): ``dataset.name``."""
    return ".".join(str(part) for part in err.get("loc", [])[1:])


def _field_errors(response: httpx.Response) -> dict[str, str]:
    """The fields a FastAPI validation error (a list ``detail``) names, each with its message."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return {}
    if not isinstance(detail, list):
        return {}
    return {_location(err): str(err.get("msg")) for err in detail if isinstance(err, dict)}


def _detail(response: httpx.Response) -> str:
    """The reason an API call failed, from the answer's ``detail`` (FastAPI's error body)."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return response.text[:300]
    if isinstance(detail, list):
        # FastAPI validation errors: "field: message" for each.
        return "; ".join(f"{_location(err)}: {err.get('msg')}" for err in detail)
    return str(detail)


class ImmutableCache:
    """The API's JSON answers it marks ``Cache-Control: immutable`` (those derived from a
    published run: features, metrics, top images, sheets...), kept in memory up to
    ``max_bytes``, least recently used dropped first. Thread-safe."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, httpx.Response] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> httpx.Response | None:
        """The answer stored under ``key`` (now the most recently used), or None."""
        with self._lock:
            response = self._entries.get(key)
            if response is not None:
                self._entries.move_to_end(key)
            return response

    def offer(self, key: str, response: httpx.Response) -> None:
        """Keep ``response`` under ``key`` when the API says it never changes."""
        if "immutable" not in response.headers.get("cache-control", ""):
            return
        size = len(response.content)
        if size > self.max_bytes // 8:  # one answer never pushes out most of the others
            return
        with self._lock:
            old = self._entries.pop(key, None)
            self._bytes += size - (0 if old is None else len(old.content))
            self._entries[key] = response
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped.content)


class ApiClient:
    """Calls the API at ``base_url`` (``.../api/v1``); each failure raises :class:`ApiError`.

    JSON answers the API marks immutable are served again from memory (:class:`ImmutableCache`):
    a page built again (the next filter, a revisit) costs no round trip for them.
    """

    def __init__(self, base_url: str, timeout_s: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        # One pooled client for every request of every thread: a page makes several calls, and
        # a client per call costs a TLS context (~25 ms) and a new connection each.
        self._http = httpx.Client(timeout=timeout_s)
        self.cache = ImmutableCache()

    def _get(self, path: str, params: dict[str, Any]) -> httpx.Response:
        """``GET path?params``, from the cache when the API said the answer never changes."""
        key = str(httpx.URL(path, params=params or None))
        response = self.cache.get(key)
        if response is None:
            response = self.request("GET", path, params=params or None)
            self.cache.offer(key, response)
        return response

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The response to ``method`` on ``path`` (relative to the base URL); raises on >= 400."""
        try:
            response = self._http.request(method, f"{self.base_url}{path}", **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(f"the API at {self.base_url} does not answer ({exc})") from exc
        if response.status_code >= 400:
            raise ApiError(_detail(response), response.status_code, _field_errors(response))
        return response

    def get_json(self, path: str, **params: Any) -> Any:
        """The decoded JSON answer of ``GET path?params`` (decoded anew: callers may change it)."""
        return self._get(path, params).json()

    def post_json(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """The decoded JSON answer of ``POST path`` with the JSON ``body``."""
        return self.request("POST", path, json=body or {}).json()

    def post_file(self, path: str, field: str, name: str, content: bytes) -> Any:
        """The decoded JSON answer of ``POST path`` with ``content`` as the multipart ``field``
        (file name ``name``); it may run a model, so it waits longer than other calls."""
        files = {field: (name, content)}
        return self.request("POST", path, files=files, timeout=UPLOAD_TIMEOUT_S).json()

    def get_page(self, path: str, **params: Any) -> tuple[Any, int | None]:
        """The decoded JSON answer of ``GET path?params`` and its ``X-Total-Count`` (None when
        the API sends none)."""
        response = self._get(path, params)
        total = response.headers.get("x-total-count")
        return response.json(), int(total) if total and total.isdigit() else None
