"""The pages' layouts and callbacks on a fake API: what they show for given API answers."""

from __future__ import annotations

import pytest
from dash import html

from frontend import urls
from frontend.api_client import ApiError
from tests.frontend.fakes import (
    by_id,
    features_answer,
    ids,
    image_sources,
    links,
    metrics_answer,
    of_type,
    run_answer,
    text,
    with_class,
)

DOWN = ApiError("the API at http://api.invalid/api/v1 does not answer (connection refused)")


# --- routing --------------------------------------------------------------------------------


def test_each_view_url_reaches_its_page(fake_api, render):
    fake_api.answers.update(
        {
            "/runs/abc": run_answer(),
            "/runs/abc/features": features_answer(),
            "/runs/abc/layers/conv_top/filters/2/activation": {
                "argmax": [1, 2],
                "max": 3.0,
                "filter_max": 4.0,
            },
            "/runs/abc/layers/conv_top/filters/2/top": {"images": [5]},
            "/runs/abc/metrics": metrics_answer(),
            "/runs/xyz": run_answer("xyz"),
            "/runs/xyz/metrics": metrics_answer(),
            "/architectures": ["tiny"],
        }
    )
    assert "launch-button" in ids(render(urls.RunsPage().url()))
    run_page = render(urls.RunPage("abc", "conv_top").url())
    assert by_id(run_page, "run-view-id").data["layer"] == "conv_top"
    # The run page's template would match these longer URLs too: the page order prevents it.
    assert by_id(render(urls.ComparePage("abc").url()), "compare-view")
    filter_page = render(urls.FilterPage("abc", "conv_top", 2, 5, "rf").url())
    assert text(filter_page.children[0]) == "Filter 2 of conv_top"
    assert by_id(filter_page, "filter-overlay").src.endswith("overlay.png?image=5&mode=rf")


@pytest.mark.parametrize(
    "url", ["/runs/x/layers/y", "/runs/a/compare/more", "/runs/a/layers/l/x/filters/2"]
)
def test_an_address_of_no_view_shows_the_not_found_page(fake_api, render, url):
    """Dash's wildcard also spans "/", so these reach a page: its layout rejects them."""
    view = render(url)
    assert view.id == "not-found"
    assert links(view) == {"← back to the runs": "/"}
    assert fake_api.calls == []


# --- filter view ----------------------------------------------------------------------------


def _filter_answers(fake_api, **run_changes) -> None:
    base = "/runs/abc/layers/conv_top/filters/2"
    fake_api.answers.update(
        {
            "/runs/abc": run_answer(**run_changes),
            "/runs/abc/features": features_answer(),
            "/runs/abc/metrics": metrics_answer(),
            f"{base}/activation": {"argmax": [3, 4], "max": 1.23456, "filter_max": 2.5},
            f"{base}/top": {"images": [5, 0, 9]},
        }
    )


def test_filter_view_shows_the_filter_on_the_image(fake_api, page):
    _filter_answers(fake_api)
    view = page("filter_view").layout(run_id="abc", layer="conv_top", filter_index="2", image="5")
    assert view.id == "filter-view"
    assert text(of_type(view, html.H2)) == "Filter 2 of conv_top"
    assert by_id(view, "filter-overlay").src == (
        "/media/runs/abc/layers/conv_top/filters/2/overlay.png?image=5&mode=heat"
    )
    assert by_id(view, "filter-image").src == "/media/runs/abc/images/5.png"
    assert text(by_id(view, "filter-stats")) == (
        "peak 1.235 at unit (row 3, col 4); filter max over all images 2.500"
    )
    assert text(by_id(view, "filter-metrics")) == (
        "part interpretability P_f 0.500 (best part: torso) · location instability 0.120"
    )
    assert text(with_class(view, "nav")) == (
        "< filter< imagefilter 2 / 6 · image 5 / 12image >filter >"
        "keys: ← → filter, shift + ← → image"
    )
    assert links(view) == {
        "run abc": "/runs/abc?layer=conv_top",
        "xyz": "/runs/xyz/layers/conv_top/filters/2?image=5",
        "< filter": "/runs/abc/layers/conv_top/filters/1?image=5",
        "< image": "/runs/abc/layers/conv_top/filters/2?image=4",
        "image >": "/runs/abc/layers/conv_top/filters/2?image=6",
        "filter >": "/runs/abc/layers/conv_top/filters/3?image=5",
        "activation": "/runs/abc/layers/conv_top/filters/2?image=5",
        "receptive fields": "/runs/abc/layers/conv_top/filters/2?image=5&overlay=rf",
        "": "/runs/abc/layers/conv_top/filters/2?image=9",  # the last top image
    }
    top = with_class(view, "cell")
    assert [cell.href.rsplit("=", 1)[1] for cell in top] == ["5", "0", "9"]
    assert image_sources(top)[1].endswith("/filters/2/overlay.png?image=0&mode=heat")
    assert ("GET", "/runs/abc/layers/conv_top/filters/2/activation", {"image": 5}) in fake_api.calls
    assert ("GET", "/runs/abc/layers/conv_top/filters/2/top", {"k": 8}) in fake_api.calls
    # The Fig. 4 panel of the same filter and image, drawn by the API.
    assert by_id(view, "filter-panel").src == (
        "/media/runs/abc/layers/conv_top/filters/2/panel.png?image=5&size=224"
    )


def test_filter_view_in_rf_mode_keeps_the_mode_and_wraps_around(fake_api, page):
    _filter_answers(fake_api, twin_id=None)
    fake_api.answers["/runs/abc/layers/conv_top/filters/2/top"] = {"images": []}
    layout = page("filter_view").layout
    view = layout(run_id="abc", layer="conv_top", filter_index="2", image="11", overlay="rf")
    assert by_id(view, "filter-overlay").src.endswith("overlay.png?image=11&mode=rf")
    shown = links(view)
    assert shown["image >"] == "/runs/abc/layers/conv_top/filters/2?image=0&overlay=rf"
    assert shown["activation"] == "/runs/abc/layers/conv_top/filters/2?image=11"
    assert "xyz" not in shown
    assert "receptive fields · show: " in text(of_type(view, html.Figcaption))


@pytest.mark.parametrize(
    ("filter_index", "image", "overlay"),
    [("x", "0", "heat"), ("2", "-1", "heat"), ("2", "0", "edges"), ("-2", "", "heat")],
)
def test_filter_view_rejects_a_bad_address(fake_api, page, filter_index, image, overlay):
    view = page("filter_view").layout("abc", "conv_top", filter_index, image, overlay)
    assert view.id == "not-found"
    assert text(by_id(view, "not-found").children[1]) == (
        f"Bad filter view address: filter {filter_index!r}, image {image!r}, "
        f"overlay {overlay!r} (heat or rf)"
    )
    assert links(view) == {"← back to the runs": "/"}
    assert fake_api.calls == []


def test_filter_view_before_evaluation_and_on_api_error(fake_api, page):
    _filter_answers(fake_api)
    fake_api.answers["/runs/abc/metrics"] = ApiError("run 'abc' is not evaluated yet", 409)
    view = page("filter_view").layout("abc", "conv_top", "2", "5")
    assert text(by_id(view, "filter-metrics")) == "not evaluated yet"
    assert "filter-panel" not in ids(view)  # its RF region needs the evaluation
    fake_api.answers["/runs/abc/layers/conv_top/filters/2/activation"] = ApiError(
        "filter 2 out of range", 404
    )
    failed = page("filter_view").layout("abc", "conv_top", "2", "5")
    assert (failed.id, text(failed.children[1])) == ("not-found", "filter 2 out of range")
    fake_api.answers["/runs/abc/features"] = DOWN
    down = page("filter_view").layout("abc", "conv_top", "2", "5")
    assert (down.className, text(down)) == ("error", DOWN.message)


def test_filter_metrics_of_a_multi_category_layer(fake_api, page):
    _filter_answers(fake_api)
    metrics = metrics_answer()
    metrics["layers"]["conv_top"]["target_category"] = ["cat", "dog", "bird", "cow", "cat", "dog"]
    metrics["layers"]["conv_top"]["location_instability"]["per_filter"][2] = None
    fake_api.answers["/runs/abc/metrics"] = metrics
    view = page("filter_view").layout("abc", "conv_top", "2", "5")
    assert text(by_id(view, "filter-metrics")).endswith(
        "location instability excluded · target category bird"
    )


def test_layouts_render_without_arguments(fake_api, page):
    """Dash may call a page layout with no arguments (e.g. to validate the app)."""
    fake_api.answers.update({"/architectures": DOWN, "/datasets/builtin": DOWN})
    assert isinstance(page("runs").layout(), html.Div)
    assert text(page("run_view").layout().children[1]).startswith(
        "Bad run address: a run page is /runs/<run id>"
    )
    assert text(page("compare").layout().children[1]).startswith("Bad compare address: run None")
    assert text(page("filter_view").layout().children[1]).startswith("Bad filter view address")
    assert page("not_found_404").layout().id == "not-found"
