"""The app around the pages: settings, client injection, the media proxy, ``python -m frontend``."""

from __future__ import annotations

import ast
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dash
import flask
import httpx
import pytest
from dash import dcc

from frontend.api_client import ApiClient, ApiError
from frontend.app import create_app
from frontend.client import CONFIG_KEY, api_client
from frontend.settings import UISettings
from tests.frontend.fakes import FakeApi, by_id, links, walk

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
REPO = FRONTEND.parent
PNG = b"\x89PNG\r\n\x1a\nfake"
THIRD_PARTY = {"dash", "flask", "httpx", "numpy", "plotly", "pydantic", "pydantic_settings"}


def test_settings_read_the_ui_variables_only(monkeypatch):
    for name in ("PARTLENS_API_URL", "PARTLENS_UI_HOST", "PARTLENS_UI_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert UISettings().model_dump() == {
        "api_url": "http://127.0.0.1:8000/api/v1",
        "ui_host": "127.0.0.1",
        "ui_port": 8050,
    }
    monkeypatch.setenv("PARTLENS_API_URL", "http://api:8000/api/v1")
    monkeypatch.setenv("PARTLENS_UI_HOST", "0.0.0.0")
    monkeypatch.setenv("PARTLENS_UI_PORT", "9123")
    monkeypatch.setenv("PARTLENS_DATA_DIR", "/data")  # the API's: ignored
    assert UISettings().model_dump() == {
        "api_url": "http://api:8000/api/v1",
        "ui_host": "0.0.0.0",
        "ui_port": 9123,
    }


def test_create_app_installs_a_client_of_the_settings_api():
    app = create_app(UISettings(api_url="http://api.invalid:1/api/v1/"))
    client = app.server.config[CONFIG_KEY]
    assert isinstance(client, ApiClient)
    assert client.base_url == "http://api.invalid:1/api/v1"
    with app.server.app_context():
        assert api_client() is client


def test_api_client_needs_an_installed_client():
    with pytest.raises(RuntimeError, match="outside of application context"):
        api_client()
    with flask.Flask("bare").app_context(), pytest.raises(RuntimeError, match="create_app"):
        api_client()


def test_shell_links_home_and_holds_the_page_container(ui_app):
    assert links(ui_app.layout) == {"partlens": "/", "Runs": "/", "Datasets": "/datasets/builtin"}
    assert any(getattr(c, "id", None) == "_pages_content" for c in walk(ui_app.layout))
    assert isinstance(by_id(ui_app.layout, "_pages_location"), dcc.Location)


def test_shell_copies_the_address_of_the_view(ui_app):
    """The copy-link button of the navigation bar copies the browser's current address."""
    assert isinstance(by_id(ui_app.layout, "copy-link"), dcc.Clipboard)
    copy = ui_app.callback_map["copy-link.content"]
    assert copy["inputs"] == [{"id": "copy-link", "property": "n_clicks"}]


def test_pages_are_discovered_by_dash_in_match_order(ui_app):
    registry = {page["module"]: page for page in dash.page_registry.values()}
    assert list(registry) == [
        "frontend.pages.runs",
        "frontend.pages.compare",
        "frontend.pages.probe_upload",
        "frontend.pages.filter_view",
        "frontend.pages.run_view",
        "frontend.pages.probe_view",
        "frontend.pages.dataset",
        "frontend.pages.not_found_404",
    ]
    assert [page["path_template"] for page in registry.values()] == [
        None,
        "/runs/<run_id>/compare",
        "/runs/<run_id>/probe",
        "/runs/<run_id>/layers/<layer>/filters/<filter_index>",
        "/runs/<run_id>",
        "/probes/<probe_id>",
        "/datasets/<name>",
        None,
    ]
    assert [page["title"] for page in registry.values()] == [
        "partlens · runs",
        "partlens · compare",
        "partlens · probe",
        "partlens · filter",
        "partlens · run",
        "partlens · probe",
        "partlens · dataset",
        "partlens · not found",
    ]


def test_media_proxies_the_api_image_with_its_caching_headers(ui_app):
    cache = {"etag": '"abc123"', "cache-control": "public, max-age=31536000, immutable"}
    fake = FakeApi(
        {
            "/runs/abc/layers/l/filters/2/overlay.png": httpx.Response(
                200, content=PNG, headers={"content-type": "image/png", "x-internal": "1"} | cache
            )
        }
    )
    ui_app.server.config[CONFIG_KEY] = fake
    response = ui_app.server.test_client().get(
        "/media/runs/abc/layers/l/filters/2/overlay.png?image=5&mode=rf"
    )
    assert (response.status_code, response.mimetype, response.data) == (200, "image/png", PNG)
    assert response.headers["ETag"] == '"abc123"'
    assert response.headers["Cache-Control"] == cache["cache-control"]
    assert "x-internal" not in response.headers
    assert fake.calls == [
        (
            "GET",
            "/runs/abc/layers/l/filters/2/overlay.png",
            {"params": {"image": "5", "mode": "rf"}, "headers": {}},
        )
    ]


def test_media_revalidates_with_the_api(ui_app):
    """The browser's If-None-Match reaches the API; its 304 reaches the browser, bodiless."""
    fake = FakeApi({"/runs/abc/images/1.png": httpx.Response(304, headers={"etag": '"abc123"'})})
    ui_app.server.config[CONFIG_KEY] = fake
    response = ui_app.server.test_client().get(
        "/media/runs/abc/images/1.png", headers={"If-None-Match": '"abc123"'}
    )
    assert (response.status_code, response.data) == (304, b"")
    assert response.headers["ETag"] == '"abc123"'
    assert fake.calls[0][2]["headers"] == {"if-none-match": '"abc123"'}


def test_media_passes_the_apis_error_on(ui_app):
    ui_app.server.config[CONFIG_KEY] = FakeApi(
        {"/runs/abc/images/99.png": ApiError("image 99 out of range", 404)}
    )
    client = ui_app.server.test_client()
    missing = client.get("/media/runs/abc/images/99.png")
    assert (missing.status_code, missing.text) == (404, "image 99 out of range")
    ui_app.server.config[CONFIG_KEY] = FakeApi({"/runs/abc/images/1.png": ApiError("down")})
    assert client.get("/media/runs/abc/images/1.png").status_code == 502


def _imports(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def test_frontend_imports_only_itself_and_its_libraries():
    outside = {
        f"{path.relative_to(REPO)}: {module}"
        for path in FRONTEND.rglob("*.py")
        for module in _imports(path)
        if module.split(".")[0] not in {"frontend", *THIRD_PARTY, *sys.stdlib_module_names}
    }
    assert outside == set()


def test_pages_and_app_do_not_import_each_other():
    for path in (FRONTEND / "pages").glob("*.py"):
        assert "frontend.app" not in _imports(path), path.name
    assert not any(m.startswith("frontend.pages") for m in _imports(FRONTEND / "app.py"))


# --- python -m frontend ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _FakeApiHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/api/v1/runs/abc/images/3.png":
            self.send_response(200)
            self.send_header("content-type", "image/png")
            self.end_headers()
            self.wfile.write(PNG)
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_api_server() -> Iterator[str]:
    """A real HTTP server answering one image under /api/v1; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeApiHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    server.shutdown()
    server.server_close()


@pytest.mark.integration
def test_python_m_frontend_serves_the_ui_of_the_environment(fake_api_server, tmp_path):
    port = _free_port()
    env = dict(os.environ)
    env.update(
        PARTLENS_API_URL=fake_api_server,
        PARTLENS_UI_HOST="127.0.0.1",
        PARTLENS_UI_PORT=str(port),
    )
    log = tmp_path / "ui.log"
    with log.open("wb") as out:
        ui = subprocess.Popen(
            [sys.executable, "-m", "frontend"], cwd=REPO, env=env, stdout=out, stderr=out
        )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert ui.poll() is None, log.read_text()
            try:
                home = httpx.get(url + "/", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert home.status_code == 200 and "partlens" in home.text
        image = httpx.get(f"{url}/media/runs/abc/images/3.png", timeout=10)
        assert (image.status_code, image.content) == (200, PNG)
        assert httpx.get(f"{url}/media/runs/abc/images/4.png", timeout=10).status_code == 404
    finally:
        ui.terminate()
        ui.wait(timeout=15)


def test_a_wsgi_worker_registers_its_bundles_before_its_first_request():
    # A fresh process, as a gunicorn worker: importing the WSGI module must leave Dash ready to
    # serve every bundle, so concurrent first requests cannot race its lazy set-up.
    code = "import frontend.wsgi as w; print(sorted(w.app.registered_paths))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    packages = ast.literal_eval(result.stdout.strip().splitlines()[-1])
    assert {"dash", "plotly"} <= set(packages), result.stderr
