"""Fixtures of the UI's unit tests: one Dash app built with a fake API client per test."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest
from dash import Dash
from dash._pages import _parse_query_string, _path_to_page

from frontend.app import create_app
from frontend.client import install_client
from frontend.settings import UISettings
from tests.frontend.fakes import FakeApi


@pytest.fixture(scope="session")
def ui_app() -> Dash:
    """The UI app, built once (Dash's page registry is process-wide); its client is swapped."""
    return create_app(UISettings(api_url="http://api.invalid/api/v1"), client=FakeApi())


@pytest.fixture
def fake_api(ui_app: Dash) -> Iterator[FakeApi]:
    """A fresh fake API installed in the app, inside a request of the app's server."""
    fake = FakeApi()
    install_client(ui_app.server, fake)
    with ui_app.server.test_request_context("/"):
        yield fake


@pytest.fixture
def page(ui_app: Dash) -> Callable[[str], ModuleType]:
    """A page module by name (``runs``, ``run_view``, ...), as Dash imported it."""
    return lambda name: importlib.import_module(f"frontend.pages.{name}")


@pytest.fixture
def render(fake_api: FakeApi) -> Callable[[str], Any]:
    """The layout Dash's router renders for a URL: same page match, same layout arguments."""

    def render_url(url: str) -> Any:
        parts = urlsplit(url)
        found, variables = _path_to_page(parts.path.strip("/"))
        assert found, f"no page for {url}"
        query = _parse_query_string(f"?{parts.query}" if parts.query else "")
        return found["layout"](**(variables or {}), **query)

    return render_url


@pytest.fixture
def browser() -> Iterator[Any]:
    """A fresh headless Chromium (a new browser context) for a browser test."""
    from tests.frontend.browser import new_browser  # selenium: only for the browser tests

    driver = new_browser()
    yield driver
    driver.quit()
