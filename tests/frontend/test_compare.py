"""The compare page on a fake API: any two runs, Fig. 6 on one scale, the same filter in both."""

from __future__ import annotations

from dash import html, no_update

from frontend import urls
from frontend.api_client import ApiError
from frontend.components.heatmaps import shared_range
from tests.frontend.fakes import (
    by_id,
    features_answer,
    image_sources,
    links,
    metrics_answer,
    of_type,
    run_answer,
    text,
)


def heat_answer(peak: float) -> dict:
    """``GET /runs/<id>/heatmaps/bird.json``: a 4 x 4 grid peaking at ``peak``."""
    heat = [[0.0] * 4 for _ in range(4)]
    heat[1][2] = peak
    return {"category": "bird", "grid": 4, "heat": heat, "points": 12, "images": 6}


def _pair(fake_api) -> None:
    ordinary = metrics_answer()
    ordinary["accuracy"] = 0.92
    ordinary["layers"]["conv_top"]["location_instability"]["mean"] = 0.25
    ordinary["layers"]["conv_top"]["part_interpretability"]["best_part_histogram"] = {"legs": 6}
    fake_api.answers.update(
        {
            "/runs/abc": run_answer(),
            "/runs/xyz": run_answer(
                "xyz", config={**run_answer()["config"], "interpretable": False}
            ),
            "/runs/other": run_answer("other", twin_id=None),
            "/runs/abc/metrics": metrics_answer(),
            "/runs/xyz/metrics": ordinary,
            "/runs/other/metrics": metrics_answer(),
            "/runs/abc/heatmaps/bird.json": heat_answer(2.0),
            "/runs/xyz/heatmaps/bird.json": heat_answer(0.5),
            "/runs/abc/features": features_answer(),
            "/runs": [run_answer(), run_answer("xyz"), run_answer("other")],
        }
    )


def test_the_twin_is_the_default_and_the_table_has_ratios(fake_api, page):
    _pair(fake_api)
    view = page("compare").layout(run_id="abc")
    assert view.id == "compare-view"
    assert text(view.children[0]) == "Compare abc with xyz"
    rows = [
        [text(td) for td in tr.children] for tr in of_type(by_id(view, "compare-table"), html.Tr)
    ]
    assert rows[0] == ["layer", "metric", "abc (interpretable)", "xyz (ordinary)", "ratio"]
    assert rows[1] == ["all", "accuracy ↑", "0.900", "0.920", ""]
    assert ["conv_top", "location instability ↓", "0.123", "0.250", "0.49"] in rows
    assert ["conv_top", "part interpretability ↑", "0.500", "0.500", "1.00"] in rows
    assert by_id(view, "compare-right").value == "xyz"
    assert [o["value"] for o in by_id(view, "compare-left").options] == ["abc", "xyz", "other"]


def test_heat_maps_share_one_colour_scale_over_the_mean_object(fake_api, page):
    _pair(fake_api)
    view = page("compare").layout(run_id="abc")
    fig = by_id(view, "heatmap-bird").figure
    # Both runs in one figure, on one colour axis with one colorbar.
    assert [trace.coloraxis for trace in fig.data] == ["coloraxis", "coloraxis"]
    assert [(t.xaxis, t.yaxis) for t in fig.data] == [("x", "y"), ("x2", "y2")]
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (0.0, 2.0)
    assert fig.layout.coloraxis.colorbar.title.text == "part density"
    assert list(fig.layout.yaxis.range) == list(fig.layout.yaxis2.range) == [1, 0]  # rows run down
    assert [(i.source, i.xref) for i in fig.layout.images] == [
        ("/media/runs/abc/heatmaps/bird/mean.png", "x"),
        ("/media/runs/xyz/heatmaps/bird/mean.png", "x2"),
    ]
    assert [a.text for a in fig.layout.annotations] == ["bird, abc", "bird, xyz"]
    assert "abc: 12 part positions on 6 images" in text(view)
    assert shared_range([None, {"heat": [[0.0]]}]) == (0.0, 1.0)


def test_an_api_without_heat_numbers_shows_the_rendered_maps(fake_api, page):
    _pair(fake_api)
    fake_api.answers["/runs/xyz/heatmaps/bird.json"] = ApiError("not found", 404)
    view = page("compare").layout(run_id="abc")
    assert image_sources(view)[-2:] == [
        "/media/runs/abc/heatmaps/bird.png",
        "/media/runs/xyz/heatmaps/bird.png",
    ]


def test_the_same_filter_and_image_of_both_runs_with_steps(fake_api, page):
    _pair(fake_api)
    view = page("compare").layout(run_id="abc", **{"with": "other", "filter": "5", "image": "3"})
    assert text(view.children[0]) == "Compare abc with other"
    assert by_id(view, "compare-overlay-0").src == (
        "/media/runs/abc/layers/conv_top/filters/5/overlay.png?image=3&mode=heat"
    )
    assert by_id(view, "compare-overlay-1").src == (
        "/media/runs/other/layers/conv_top/filters/5/overlay.png?image=3&mode=heat"
    )
    # conv_top has 6 filters and the run 12 images: the steps wrap around; another filter
    # opens on its own top image (no image in its address).
    assert by_id(view, "filter-next").href == "/runs/abc/compare?with=other"
    assert by_id(view, "filter-prev").href == "/runs/abc/compare?with=other&filter=4"
    assert by_id(view, "image-prev").href == "/runs/abc/compare?with=other&filter=5&image=2"
    assert links(view)["abc"] == "/runs/abc"


def test_without_an_image_the_left_runs_top_image_of_the_filter_is_shown(fake_api, page):
    _pair(fake_api)
    fake_api.answers["/runs/abc/layers/conv_top/filters/5/top"] = {"images": [7, 2]}
    view = page("compare").layout(run_id="abc", filter="5")
    assert ("GET", "/runs/abc/layers/conv_top/filters/5/top", {"k": 1}) in fake_api.calls
    for n, run_id in enumerate(("abc", "xyz")):
        assert by_id(view, f"compare-overlay-{n}").src == (
            f"/media/runs/{run_id}/layers/conv_top/filters/5/overlay.png?image=7&mode=heat"
        )
    assert by_id(view, "image-next").href == "/runs/abc/compare?filter=5&image=8"
    # An image in the address is kept, 0 included.
    zero = page("compare").layout(run_id="abc", filter="5", image="0")
    assert "image=0&" in by_id(zero, "compare-overlay-0").src
    # No top images (or the API cannot say): image 0.
    fake_api.answers["/runs/abc/layers/conv_top/filters/5/top"] = {"images": []}
    empty = page("compare").layout(run_id="abc", filter="5")
    assert "image=0&" in by_id(empty, "compare-overlay-0").src
    assert page("compare").layout(run_id="abc", image="x").id == "not-found"


def test_the_pickers_open_the_chosen_pair(page):
    choose = page("compare").choose_runs
    state = {"run_id": "abc", "other": "xyz"}
    assert choose("abc", "other", state) == "/runs/abc/compare?with=other"
    assert choose("other", "xyz", state) == "/runs/other/compare?with=xyz"
    assert choose("abc", "xyz", state) is no_update  # the pair shown now
    assert choose("abc", None, state) is no_update


def test_a_run_without_twin_asks_for_the_other_run(fake_api, page):
    _pair(fake_api)
    view = page("compare").layout(run_id="other")
    assert text(view.children[1]) == "Run other has no twin: choose the run to compare it with."
    assert "compare-right" in {c.id for c in of_type(view, type(by_id(view, "compare-right")))}


def test_unknown_runs_and_api_errors(fake_api, page):
    _pair(fake_api)
    missing = page("compare").layout(run_id="abc", **{"with": "nosuch"})
    assert missing.id == "not-found"
    fake_api.answers["/runs/abc/metrics"] = ApiError("run 'abc' is not evaluated yet", 409)
    busy = page("compare").layout(run_id="abc")
    assert (busy.id, text(busy)) == ("compare-error", "run 'abc' is not evaluated yet")
    assert page("compare").layout(run_id="abc", filter="x").id == "not-found"
    assert urls.parse("/runs/abc/compare?with=b&layer=l&filter=2&image=1") == urls.ComparePage(
        "abc", "b", "l", 2, 1
    )
    assert urls.parse("/runs/abc/compare?image=0") == urls.ComparePage("abc", image=0)
    assert urls.ComparePage("abc", image=0).url() == "/runs/abc/compare?image=0"


def test_best_parts_of_both_runs_are_grouped_bars(fake_api, page):
    _pair(fake_api)
    view = page("compare").layout(run_id="abc")
    # Below the fold, the histograms come when scrolled to.
    assert text(by_id(view, "compare-charts")) == "best-matching parts: scroll here"
    state = by_id(view, "compare-view-state").data
    assert page("compare").draw_charts(False, state) is no_update
    fig = by_id(page("compare").draw_charts(True, state), "part-histograms").figure
    assert [trace.name for trace in fig.data] == ["abc (interpretable)", "xyz (ordinary)"]
    assert list(fig.data[0].x) == ["legs", "torso", "head"]  # by the count of both runs
    assert [list(trace.y) for trace in fig.data] == [[0, 3, 1], [6, 0, 0]]
    assert fig.layout.barmode == "group"
