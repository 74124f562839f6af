"""The UI's only way to data: a small client of the partlens HTTP API."""

from __future__ import annotations

from typing import Any

import httpx

# A probe runs the run's model on the upload: the first one of a run loads the model too.
UPLOAD_TIMEOUT_S = 120.0


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


class ApiClient:
    """Calls the API at ``base_url`` (``.../api/v1``); each failure raises :class:`ApiError`."""

    def __init__(self, base_url: str, timeout_s: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        # One pooled client for every request of every thread: a page makes several calls, and
        # a client per call costs a TLS context (~25 ms) and a new connection each.
        self._http = httpx.Client(timeout=timeout_s)

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
        """The decoded JSON answer of ``GET path?params``."""
        return self.request("GET", path, params=params or None).json()

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
        response = self.request("GET", path, params=params or None)
        total = response.headers.get("x-total-count")
        return response.json(), int(total) if total and total.isdigit() else None
