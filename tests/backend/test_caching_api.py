"""Responses derived from published artifacts carry immutable ETags, answer If-None-Match with
304, and rendered PNGs are cached on disk and in memory; errors are never cached."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from backend.api.routes import filters as filter_routes
from backend.core.caching import CACHE_CONTROL, CACHE_DIR, MemoryLRU
from tests.backend.served_run import Served, png_array
from tests.backend.test_filters_api import _images, _manifest

CACHED_PATHS = [
    "/features",
    "/images/0.png",
    "/layers/conv_added/filters/1/activation?image=3",
    "/layers/conv_added/filters",
    "/layers/conv_added/filters/1/top?k=2",
    "/layers/conv_added/filters/1/overlay.png?image=1",
    "/layers/conv_added/filters/1/overlay.png?image=1&mode=rf",
    "/layers/conv_added/sheet.png?tile=32",
    "/layers/conv_added/sheet.json",
    "/layers/conv_added/filters/1/panel.png?image=3&size=64",
    "/layers/conv_added/filters/1/map.npy?image=3",
    "/metrics",
]


@pytest.mark.parametrize("path", CACHED_PATHS)
def test_etag_and_304_round_trip(served: Served, path: str):
    first = served.client.get(served.base + path)
    assert first.status_code == 200, first.text
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) == 34, "a strong ETag"
    assert first.headers["cache-control"] == CACHE_CONTROL
    again = served.client.get(served.base + path)
    assert again.headers["etag"] == etag and again.content == first.content
    for header in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        cached = served.client.get(served.base + path, headers={"If-None-Match": header})
        assert cached.status_code == 304, header
        assert cached.content == b""
        assert cached.headers["etag"] == etag
        assert cached.headers["cache-control"] == CACHE_CONTROL
    stale = served.client.get(served.base + path, headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200 and stale.content == first.content


def test_the_etag_depends_on_the_path_and_query(served: Served):
    url = served.layer("/filters/1/overlay.png")
    tags = {
        served.client.get(url, params=params).headers["etag"]
        for params in ({"image": 0}, {"image": 1}, {"image": 1, "mode": "rf"})
    }
    tags.add(served.client.get(served.layer("/filters/2/overlay.png")).headers["etag"])
    assert len(tags) == 4


def test_a_repeated_overlay_is_served_from_the_disk_cache(served: Served, monkeypatch):
    calls: list[tuple] = []
    render = filter_routes.render_overlay

    def counting(*args, **kwargs):
        calls.append(args[2:])
        return render(*args, **kwargs)

    monkeypatch.setattr(filter_routes, "render_overlay", counting)
    url = served.layer("/filters/1/overlay.png?image=3")
    first = served.client.get(url)
    assert calls == [("conv_added", 1, 3, "heat")]
    on_disk = served.artifacts.root / CACHE_DIR / f"{first.headers['etag'].strip(chr(34))}.png"
    assert on_disk.read_bytes() == first.content
    assert served.client.get(url).content == first.content
    served.client.app.state.response_cache = MemoryLRU()  # as after a restart: disk only
    assert served.client.get(url).content == first.content
    assert len(calls) == 1, "rendered once"
    assert len(served.client.app.state.response_cache) == 1, "back in memory"
    assert served.client.get(served.layer("/filters/1/overlay.png?image=2")).status_code == 200
    assert len(calls) == 2


def test_a_republished_run_gets_new_etags_and_new_content(served: Served):
    url = served.layer("/filters/1/overlay.png?image=3")
    before = served.client.get(url)
    activation = served.client.get(served.layer("/filters/1/activation?image=3"))
    maps = np.zeros((5, 3, 8, 8), dtype=np.float32)
    maps[3, 1, 0, 0] = 1.0
    run = served.client.get(served.base).json()
    served.artifacts.write_features({"conv_added": maps}, _manifest(run), images=_images())
    after = served.client.get(url, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert not np.array_equal(png_array(after), png_array(before))
    fresh = served.client.get(served.layer("/filters/1/activation?image=3")).json()
    assert fresh["argmax"] == [0, 0] != activation.json()["argmax"]


def test_errors_and_unpublished_runs_are_not_cached(served: Served):
    client = served.client
    missing = client.get(served.layer("/filters/7/overlay.png"))
    assert missing.status_code == 404
    assert "etag" not in missing.headers and "cache-control" not in missing.headers
    unpublished = client.post("/api/v1/runs", json={}).json()["id"]
    for path in ("/features", "/layers/conv_added/filters/0/overlay.png", "/metrics"):
        response = client.get(f"/api/v1/runs/{unpublished}{path}")
        assert response.status_code == 409, path
        assert "etag" not in response.headers
    assert not (served.artifacts.root.parent / unpublished / CACHE_DIR).exists()
    served.artifacts.metrics_path.unlink()
    rf = client.get(served.layer("/filters/1/overlay.png?mode=rf"))
    assert rf.status_code == 409 and "not evaluated" in rf.json()["detail"]
    assert "etag" not in rf.headers


def test_the_memory_cache_is_bounded_by_bytes():
    cache = MemoryLRU(max_bytes=10)
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    assert cache.get("a") == b"1234"  # now the most recent
    cache.put("c", b"1234")  # 12 bytes: evicts b, the least recently used
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"1234", None, b"1234")
    cache.put("big", b"x" * 11)
    assert cache.get("big") is None and len(cache) == 2


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/layers/conv_added/filters/1/activation?image=100000000000000000000000", "image"),
        ("/layers/conv_added/filters/99999999999999999999/overlay.png", "filter_index"),
        ("/images/99999999999999999999999.png", "image"),
        ("/layers/conv_added/sheet.png?offset=99999999999999999999999", "offset"),
        ("/layers/conv_added/sheet.json?limit=513", "limit"),
        ("/layers/conv_added/sheet.png?tile=31", "tile"),
        ("/layers/conv_added/sheet.png?tile=257", "tile"),
        ("/layers/conv_added/sheet.png?sort=colour", "sort"),
        ("/layers/conv_added/sheet.png?overlay=x", "overlay"),
        ("/layers/conv_added/filters/1/panel.png?size=9999", "size"),
        ("/layers/conv_added/filters/1/overlay.png?mode=sparkles", "mode"),
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(served: Served, path: str, parameter: str):
    response = served.client.get(served.base + path)
    assert response.status_code == 422, response.text
    assert [error["loc"][-1] for error in response.json()["detail"]] == [parameter]


def test_openapi_documents_every_status_code(served: Served):
    paths = served.client.get("/api/v1/openapi.json").json()["paths"]
    ours = [path for path in paths if path.startswith("/api/v1/runs/{run_id}/")]
    checked = 0
    for path in ours:
        operation = paths[path].get("get")
        if operation is None or operation["tags"][0] not in {"filters", "figures", "metrics"}:
            continue
        assert {"200", "304", "404", "409", "422"} <= set(operation["responses"]), path
        checked += 1
    # ... + heatmaps, heatmaps/{c}.json, heatmaps/{c}/mean.png, metrics.csv, positions
    assert checked == 18


def test_a_deleted_run_is_never_served_from_a_cache(served: Served):
    client, url = served.client, served.layer("/filters/1/overlay.png?image=3")
    other = client.post("/api/v1/runs", json={}).json()["id"]
    first = client.get(url)
    assert first.status_code == 200 and len(client.app.state.response_cache) == 1
    client.app.state.response_cache.put(f"{other}/kept", b"x")
    assert client.delete(served.base).status_code == 204
    assert not served.artifacts.root.exists(), "runs/<id>/cache/ goes with the folder"
    assert client.app.state.response_cache.get(f"{other}/kept") == b"x"
    assert len(client.app.state.response_cache) == 1, "the deleted run's entries are dropped"
    for headers in ({}, {"If-None-Match": first.headers["etag"]}):
        assert client.get(url, headers=headers).status_code == 404


def test_a_run_deleted_by_another_process_is_not_served(served: Served):
    from partlens.store import Run

    client, url = served.client, served.layer("/filters/1/overlay.png?image=3")
    first = client.get(url)
    assert first.status_code == 200
    # Another API worker deletes it: this process's caches know nothing of it.
    with client.app.state.sessions() as session:
        session.delete(session.get(Run, served.artifacts.root.name))
        session.commit()
    shutil.rmtree(served.artifacts.root)
    for headers in ({}, {"If-None-Match": first.headers["etag"]}):
        assert client.get(url, headers=headers).status_code == 404


def test_a_finished_run_is_served_without_the_database(served: Served, monkeypatch):
    client, url = served.client, served.layer("/filters/1/activation?image=3")
    first = client.get(url)
    assert first.status_code == 200

    def refuse():
        raise AssertionError("the database was asked")

    monkeypatch.setattr(client.app.state, "sessions", refuse)
    assert client.get(url).json() == first.json()
    assert client.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    assert client.get(served.layer("/filters/2/overlay.png")).status_code == 200
