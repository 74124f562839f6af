"""The UI's only way to data: a small client of the partlens HTTP API."""

from __future__ import annotations

from typing import Any

import httpx


class ApiError(Exception):
    """An API call failed; ``message`` is fit to show to a user."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


def _detail(response: httpx.Response) -> str:
    """The reason an API call failed, from the answer's ``detail`` (FastAPI's error body)."""
    try:
        detail = response.json().get("detail")
    except ValueError:
        return response.text[:300]
    if isinstance(detail, list):
        # FastAPI validation errors: "field: message" for each.
        return "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', [])[1:])}: {err.get('msg')}"
            for err in detail
        )
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
            raise ApiError(_detail(response), response.status_code)
        return response

    def get_json(self, path: str, **params: Any) -> Any:
        """The decoded JSON answer of ``GET path?params``."""
        return self.request("GET", path, params=params or None).json()

    def post_json(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """The decoded JSON answer of ``POST path`` with the JSON ``body``."""
        return self.request("POST", path, json=body or {}).json()
