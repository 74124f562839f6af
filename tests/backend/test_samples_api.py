"""Dataset samples for the dataset page: a page of annotations as JSON, each sample as PNG with
its masks or landmarks, for builtin and a registered folder; cached with ETags."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from backend.api.routes.samples import SAMPLE_IMAGE_SIZE, _load
from backend.main import create_app
from partlens.config import Settings
from partlens.data import load_dataset
from tests.pascal_part_folder import write_pascal_part_scenes

BUILTIN = "/api/v1/datasets/builtin/samples"


@pytest.fixture
def settings(tmp_path, redis_url):
    return Settings(data_dir=tmp_path / "data", broker_url=redis_url)


@pytest.fixture
def client(settings):
    _load.cache_clear()
    with TestClient(create_app(settings)) as test_client:
        yield test_client
    _load.cache_clear()


def _png(response) -> np.ndarray:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))


def test_a_page_of_builtin_samples_lists_their_annotations(client):
    page = client.get(BUILTIN, params={"split": "test", "offset": 2, "limit": 3})
    assert page.status_code == 200, page.text
    body = page.json()
    expected = load_dataset("builtin", "test", SAMPLE_IMAGE_SIZE, task="multi")
    assert body["total"] == len(expected)
    assert [item["index"] for item in body["items"]] == [2, 3, 4]
    for item in body["items"]:
        sample = expected[item["index"]]
        assert item["category"] == sample.category
        assert item["bbox"] == (None if sample.bbox is None else [float(v) for v in sample.bbox])
        masks = sample.part_masks or {}
        assert item["parts"] == [p for p in expected.part_names if p in masks and masks[p].any()]
        assert [lm["name"] for lm in item["landmarks"]] == list(sample.landmarks)
        got = [[lm["x"], lm["y"]] for lm in item["landmarks"]]
        assert np.allclose(got, list(sample.landmarks.values()))
    assert any(item["parts"] for item in body["items"])
    last = client.get(BUILTIN, params={"split": "test", "offset": body["total"] - 1}).json()
    assert len(last["items"]) == 1


def test_a_builtin_sample_png_with_each_overlay(client):
    expected = load_dataset("builtin", "train", SAMPLE_IMAGE_SIZE, task="multi")[5]
    plain = _png(client.get(f"{BUILTIN}/5.png"))
    assert np.array_equal(plain, expected.image), "the image itself, pixel for pixel"
    masks = _png(client.get(f"{BUILTIN}/5.png", params={"overlay": "masks"}))
    dots = _png(client.get(f"{BUILTIN}/5.png", params={"overlay": "landmarks"}))
    assert masks.shape == dots.shape == plain.shape
    union = np.zeros(plain.shape[:2], dtype=bool)
    for mask in (expected.part_masks or {}).values():
        union |= mask
    assert union.any()
    assert not np.array_equal(masks[union], plain[union]), "masks are tinted"
    red = (dots[..., 0] == 255) & (dots[..., 1] == 0) & (dots[..., 2] == 0)
    assert red.any() and not ((masks[..., 0] == 255) & (masks[..., 1] == 0)).all()


def test_sample_pngs_are_cached_with_etags(client, settings):
    first = client.get(f"{BUILTIN}/1.png", params={"overlay": "masks"})
    etag = first.headers["etag"]
    assert first.headers["cache-control"].endswith("immutable")
    again = client.get(f"{BUILTIN}/1.png", params={"overlay": "masks"})
    assert again.content == first.content and again.headers["etag"] == etag
    assert client.get(f"{BUILTIN}/1.png", params={"overlay": "none"}).headers["etag"] != etag
    cached = client.get(f"{BUILTIN}/1.png?overlay=masks", headers={"If-None-Match": etag})
    assert cached.status_code == 304 and cached.content == b""
    on_disk = list((settings.data_dir / "sample-cache" / "builtin").rglob("*.png"))
    assert [path.read_bytes() for path in on_disk].count(first.content) == 1


@pytest.mark.parametrize(
    ("path", "status", "parameter"),
    [
        ("/api/v1/datasets/nope/samples", 404, None),
        ("/api/v1/datasets/nope/samples/0.png", 404, None),
        (f"{BUILTIN}/1200.png", 404, None),
        (f"{BUILTIN}/400.png?split=test", 404, None),
        (f"{BUILTIN}?split=val", 422, "split"),
        (f"{BUILTIN}/0.png?split=val", 422, "split"),
        (f"{BUILTIN}/0.png?overlay=both", 422, "overlay"),
        (f"{BUILTIN}?limit=0", 422, "limit"),
        (f"{BUILTIN}?limit=101", 422, "limit"),
        (f"{BUILTIN}?offset=-1", 422, "offset"),
        (f"{BUILTIN}/-1.png", 422, "index"),
    ],
)
def test_bad_requests(client, path, status, parameter):
    response = client.get(path)
    assert response.status_code == status, response.text
    if parameter is None:
        assert "etag" not in response.headers
    else:
        assert [error["loc"][-1] for error in response.json()["detail"]] == [parameter]


def test_a_registered_datasets_samples_follow_its_files(client, settings):
    root = write_pascal_part_scenes(settings.data_dir / "datasets" / "pp", train=4, val=2)
    body = {"name": "pp", "format": "pascal-part", "root": str(root)}
    assert client.post("/api/v1/datasets", json=body).status_code == 201
    page = client.get("/api/v1/datasets/pp/samples", params={"split": "test"}).json()
    assert page["total"] == 2 and len(page["items"]) == 2
    assert page["items"][0]["parts"], "pascal-part samples carry masks"
    url = "/api/v1/datasets/pp/samples/0.png"
    before = client.get(url, params={"split": "test"})
    expected = _load("pascal-part", str(root), "test")
    assert np.array_equal(_png(before), expected[0].image)
    image_path = expected.records[0].image_path
    Image.new("RGB", Image.open(image_path).size, (0, 200, 0)).save(image_path)
    os.utime(image_path, ns=(1, 1))  # a replaced file: new mtime (and size)
    after = client.get(
        url, params={"split": "test"}, headers={"If-None-Match": before.headers["etag"]}
    )
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert (_png(after)[..., 1] > 150).mean() > 0.9, "the new file is drawn"
