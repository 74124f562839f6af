"""The UI's HTTP client against a mock transport: errors at their fields, pages, uploads."""

from __future__ import annotations

import httpx
import pytest

from frontend.api_client import UPLOAD_TIMEOUT_S, ApiClient, ApiError, ImmutableCache


def _client(handler) -> ApiClient:
    client = ApiClient("http://api.test/api/v1")
    client._http = httpx.Client(transport=httpx.MockTransport(handler))
    return client


def test_a_validation_error_names_each_field():
    detail = [
        {"loc": ["body", "epochs"], "msg": "Input should be greater than or equal to 1"},
        {"loc": ["body", "dataset", "category"], "msg": "unknown category 'x'"},
    ]
    client = _client(lambda request: httpx.Response(422, json={"detail": detail}))
    with pytest.raises(ApiError) as caught:
        client.post_json("/runs", {"epochs": -1})
    assert caught.value.status_code == 422
    assert caught.value.fields == {
        "epochs": "Input should be greater than or equal to 1",
        "dataset.category": "unknown category 'x'",
    }
    assert caught.value.message.startswith("epochs: Input should be")


def test_a_plain_error_has_no_fields():
    client = _client(lambda request: httpx.Response(409, json={"detail": "not evaluated"}))
    with pytest.raises(ApiError) as caught:
        client.get_json("/runs/a/metrics")
    assert (caught.value.message, caught.value.fields) == ("not evaluated", {})


def test_a_page_comes_with_its_total():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        headers = {"X-Total-Count": "600"} if "offset" in request.url.params else {}
        return httpx.Response(200, json=[{"filter": 512}], headers=headers)

    client = _client(handler)
    assert client.get_page("/runs/a/layers/l/filters", offset=512, limit=512) == (
        [{"filter": 512}],
        600,
    )
    assert seen[0] == "http://api.test/api/v1/runs/a/layers/l/filters?offset=512&limit=512"
    assert client.get_page("/runs/a/layers/l/filters") == ([{"filter": 512}], None)


def test_an_upload_is_multipart_and_waits_for_the_model():
    def handler(request: httpx.Request) -> httpx.Response:
        body = request.read()
        assert b'name="image"; filename="cat.png"' in body and b"PNGDATA" in body
        assert request.extensions["timeout"]["read"] == UPLOAD_TIMEOUT_S
        return httpx.Response(201, json={"id": "p1"})

    assert _client(handler).post_file("/runs/a/probes", "image", "cat.png", b"PNGDATA") == {
        "id": "p1"
    }


def test_immutable_answers_are_fetched_once_and_decoded_anew():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        immutable = request.url.path.endswith("/metrics")
        headers = {"Cache-Control": "public, max-age=31536000, immutable"} if immutable else {}
        return httpx.Response(200, json={"layers": {"l": 1}}, headers=headers)

    client = _client(handler)
    first = client.get_json("/runs/a/metrics")
    first["layers"]["l"] = 2  # a caller changing its copy leaves the cached answer as it was
    assert client.get_json("/runs/a/metrics") == {"layers": {"l": 1}}
    assert client.get_json("/runs/a/metrics", k=3) == {"layers": {"l": 1}}
    client.get_json("/runs/a")
    client.get_json("/runs/a")
    assert seen == [
        "http://api.test/api/v1/runs/a/metrics",
        "http://api.test/api/v1/runs/a/metrics?k=3",
        "http://api.test/api/v1/runs/a",
        "http://api.test/api/v1/runs/a",
    ]


def test_the_cache_drops_the_least_recently_used_past_its_size():
    cache = ImmutableCache(max_bytes=800)
    immutable = {"Cache-Control": "immutable"}

    def answer(n: int) -> httpx.Response:
        return httpx.Response(200, content=b"x" * n, headers=immutable)

    for key in ("a", "b", "c"):
        cache.offer(key, answer(90))
    assert cache.get("a") is not None  # now the most recently used
    cache.offer("d", answer(101))  # over 800 // 8: never kept
    for key in ("e", "f", "g", "h", "i", "j"):
        cache.offer(key, answer(90))
    assert [key for key in "abcdefghij" if cache.get(key) is not None] == list("acefghij")
    cache.offer("k", httpx.Response(200, content=b"{}"))  # not immutable: not kept
    assert cache.get("k") is None
