"""The probe pages and the dataset page on a fake API."""

from __future__ import annotations

import base64

from frontend import urls
from frontend.api_client import ApiError
from tests.frontend.fakes import by_id, image_sources, links, run_answer, text, with_class

PNG = b"\x89PNG\r\n\x1a\nfake"


def _probe(probe_id: str, run_id: str) -> dict:
    return {
        "id": probe_id,
        "run_id": run_id,
        "image_size": 64,
        "layers": [{"name": "conv_added", "filters": 4}, {"name": "conv_top", "filters": 6}],
    }


def _sheet(params: dict) -> dict:
    chosen = list(range(6))[: params["limit"]]
    return {
        "filters": chosen,
        "columns": params["columns"],
        "tile": params["tile"],
        "rows": 1,
        "total": 6,
        "offset": 0,
    }


def _probes(fake_api) -> None:
    activation = {"argmax": [1, 2], "max": 0.75, "filter_max": 1.5}
    fake_api.answers.update(
        {
            "/runs/abc": run_answer(),
            "/runs/xyz": run_answer("xyz", twin_id="abc"),
            "/probes/p1": _probe("p1", "abc"),
            "/probes/p2": _probe("p2", "xyz"),
            "/probes/p1/layers/conv_top/sheet.json": _sheet,
            "/probes/p2/layers/conv_top/sheet.json": _sheet,
            "/probes/p1/layers/conv_top/filters/3/activation": activation,
            "/probes/p2/layers/conv_top/filters/3/activation": activation,
        }
    )


def test_an_upload_probes_the_run_and_its_twin(fake_api, page):
    fake_api.answers["/runs/abc/probes"] = {"id": "p1"}
    fake_api.answers["/runs/xyz/probes"] = {"id": "p2"}
    contents = "data:image/png;base64," + base64.b64encode(PNG).decode()
    href, message = page("probe_upload").upload(
        contents, "cat.png", {"run_id": "abc", "twin_id": "xyz"}
    )
    assert (href, message) == ("/probes/p1?twin=p2", "")
    assert fake_api.calls[0] == ("POST", "/runs/abc/probes", {"image": ("cat.png", PNG)})


def test_a_twin_that_cannot_be_probed_is_left_out(fake_api, page):
    fake_api.answers["/runs/abc/probes"] = {"id": "p1"}
    fake_api.answers["/runs/xyz/probes"] = ApiError("run 'xyz' has not succeeded", 409)
    contents = "data:image/png;base64," + base64.b64encode(PNG).decode()
    href, _ = page("probe_upload").upload(contents, "cat.png", {"run_id": "abc", "twin_id": "xyz"})
    assert href == "/probes/p1"


def test_bad_uploads_say_what_is_wrong(fake_api, page):
    upload = page("probe_upload").upload
    state = {"run_id": "abc", "twin_id": None}
    fake_api.answers["/runs/abc/probes"] = ApiError("not an image: cannot identify", 415)
    contents = "data:text/plain;base64," + base64.b64encode(b"hello").decode()
    _, message = upload(contents, "notes.txt", state)
    assert text(message) == "That file is not a PNG or JPEG image. (not an image: cannot identify)"
    assert message.className == "error"
    fake_api.answers["/runs/abc/probes"] = ApiError("image of 11 MB exceeds 10 MB", 413)
    assert text(upload(contents, "x.png", state)[1]).startswith("The image is too large")
    fake_api.answers["/runs/abc/probes"] = ApiError("run is running", 409)
    assert text(upload(contents, "x.png", state)[1]).startswith("The run has not succeeded yet")
    assert text(upload("data:image/png;base64,@@@", "x.png", state)[1]).startswith(
        "That file could not be read as an image."
    )
    assert len([c for c in fake_api.calls if c[0] == "POST"]) == 3  # the bad base64 never left


def test_the_upload_page_names_the_run_and_its_twin(fake_api, page):
    fake_api.answers["/runs/abc"] = run_answer()
    view = page("probe_upload").layout(run_id="abc")
    assert by_id(view, "probe-upload").accept == "image/png,image/jpeg"
    assert "run abc and its twin xyz" in text(view)
    fake_api.answers["/runs/abc"] = ApiError("run 'abc' not found", 404)
    assert page("probe_upload").layout(run_id="abc").id == "not-found"


def test_the_probe_page_shows_both_runs_sheets_and_the_chosen_filter(fake_api, page):
    _probes(fake_api)
    view = page("probe_view").layout(probe_id="p1", twin="p2", filter="3", overlay="rf")
    sources = image_sources(view)
    assert "/media/probes/p1/layers/conv_top/filters/3/overlay.png?mode=rf" in sources
    assert "/media/probes/p2/layers/conv_top/filters/3/panel.png" in sources
    assert "/media/probes/p1/image.png" in sources
    assert (
        "/media/probes/p2/layers/conv_top/sheet.png?offset=0&limit=6&columns=16&tile=64" in sources
    )
    tiles = with_class(view, "cell")
    assert len(tiles) == 12 and tiles[1].href == "/probes/p1?twin=p2&filter=1&overlay=rf"
    assert by_id(view, "filter-next").href == "/probes/p1?twin=p2&filter=4&overlay=rf"
    assert links(view)["conv_added"] == "/probes/p1?twin=p2&layer=conv_added&overlay=rf"
    assert links(view)["probe another image"] == "/runs/abc/probe"
    assert "peak 0.750 at unit (row 1, col 2)" in text(view)


def test_an_unknown_probe_is_not_found(fake_api, page):
    assert page("probe_view").layout(probe_id="nope").id == "not-found"
    assert page("probe_view").layout(probe_id="p1", filter="-1").id == "not-found"
    view = urls.ProbePage("p1", "p2", "conv_top", 3, "rf")
    assert urls.parse(view.url()) == view


def _dataset(fake_api) -> None:
    fake_api.answers.update(
        {
            "/datasets": [{"name": "builtin"}, {"name": "pascal"}],
            "/datasets/pascal": {
                "name": "pascal",
                "format": "pascal-part",
                "categories": ["cow", "horse"],
                "summary": {
                    "parts": ["head", "leg"],
                    "landmarks": ["eye"],
                    "splits": {"train": {"objects": 30}, "test": {"objects": 20}},
                },
            },
            "/datasets/pascal/samples": lambda p: {
                "total": 30,
                "items": [
                    {
                        "index": i,
                        "category": "cow",
                        "bbox": None,
                        "parts": ["head"],
                        "landmarks": [{"name": "eye", "x": 1.0, "y": 2.0}],
                    }
                    for i in range(p["offset"], min(30, p["offset"] + p["limit"]))
                ],
            },
        }
    )


def test_the_dataset_page_pages_through_samples_with_their_overlay(fake_api, page):
    _dataset(fake_api)
    view = page("dataset").layout(name="pascal", overlay="landmarks", offset="24")
    assert fake_api.calls[1][2] == {"split": "train", "offset": 24, "limit": 24}
    assert image_sources(view) == [
        f"/media/datasets/pascal/samples/{i}.png?split=train&overlay=landmarks"
        for i in range(24, 30)
    ]
    assert text(by_id(view, "dataset-count")) == "samples 25 to 30 of 30"
    assert by_id(view, "dataset-prev").href == "/datasets/pascal?overlay=landmarks"
    assert by_id(view, "dataset-split-test").href == "/datasets/pascal?split=test&overlay=landmarks"
    assert by_id(view, "dataset-overlay-masks").href == "/datasets/pascal"
    assert "#24 cowhead · 1 landmarks" in text(view)
    assert "train 30, test 20" in text(view)


def test_a_bad_dataset_address_is_not_found(fake_api, page):
    _dataset(fake_api)
    assert page("dataset").layout(name="pascal", split="val").id == "not-found"
    assert page("dataset").layout(name="nosuch").id == "not-found"
    view = urls.DatasetPage("pascal", "test", "none", 48)
    assert view.url() == "/datasets/pascal?split=test&overlay=none&offset=48"
    assert urls.parse(view.url()) == view


def test_a_landmark_only_dataset_offers_no_part_masks(fake_api, page):
    _dataset(fake_api)
    cub = fake_api.answers["/datasets/pascal"]
    cub["summary"] |= {"has_masks": False, "parts": []}
    fake_api.answers["/datasets/pascal"] = cub
    view = page("dataset").layout(name="pascal")
    # The default (part masks) draws the landmarks instead; the masks choice is disabled.
    assert (
        image_sources(view)[0]
        == "/media/datasets/pascal/samples/0.png?split=train&overlay=landmarks"
    )
    masks = by_id(view, "dataset-overlay-masks")
    assert not hasattr(masks, "href") and "absent" in masks.className
    assert masks.title == "pascal annotates landmarks, not part masks"
    assert text(by_id(view, "dataset-absent")) == "(pascal annotates landmarks, not part masks)"
    assert by_id(view, "dataset-overlay-landmarks").className == "pill active"
    assert by_id(view, "dataset-next").href == "/datasets/pascal?overlay=landmarks&offset=24"
