"""How the UI's code reaches the API client: it lives on the Flask server of the app.

``create_app`` installs the client with :func:`install_client`; layouts and callbacks, which
Dash runs inside a request of that server, get it back with :func:`api_client`. A test
installs a fake the same way (or passes it to ``create_app``).
"""

from __future__ import annotations

from typing import Any, Protocol, cast

import flask
import httpx

CONFIG_KEY = "PARTLENS_API"


class Api(Protocol):
    """What the UI needs of an API client: :class:`frontend.api_client.ApiClient` or a fake.

    Each method raises :class:`frontend.api_client.ApiError` when the call fails.
    """

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The raw response to ``method path`` (used to proxy images)."""
        ...

    def get_json(self, path: str, **params: Any) -> Any:
        """The decoded JSON answer of ``GET path?params``."""
        ...

    def post_json(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """The decoded JSON answer of ``POST path`` with the JSON ``body``."""
        ...

    def post_file(self, path: str, field: str, name: str, content: bytes) -> Any:
        """The decoded JSON answer of ``POST path`` with ``content`` as multipart ``field``."""
        ...

    def get_page(self, path: str, **params: Any) -> tuple[Any, int | None]:
        """The decoded JSON answer of ``GET path?params`` and its ``X-Total-Count`` header."""
        ...


def install_client(server: flask.Flask, client: Api) -> None:
    """Make ``client`` the API client of every request ``server`` handles."""
    server.config[CONFIG_KEY] = client


def api_client() -> Api:
    """The API client of the app handling the current request (or app context)."""
    try:
        return cast(Api, flask.current_app.config[CONFIG_KEY])
    except KeyError:
        raise RuntimeError("no API client installed: build the app with create_app()") from None
