"""The filter view's charts on a fake API: P_fk per part, the part positions, and the notes
shown where the API has no data for them."""

from __future__ import annotations

from dash import dcc, html, no_update

from frontend.api_client import ApiError
from frontend.components.filter_charts import association_axis_title, association_figure
from tests.frontend.fakes import (
    by_id,
    features_answer,
    ids,
    metrics_answer,
    positions_answer,
    run_answer,
    text,
)

BASE = "/runs/abc/layers/conv_top/filters/2"


def _answers(fake_api, **changes) -> None:
    fake_api.answers.update(
        {
            "/runs/abc": run_answer(),
            "/runs/abc/features": features_answer(),
            "/runs/abc/metrics": metrics_answer(),
            f"{BASE}/activation": {"argmax": [3, 4], "max": 1.5, "filter_max": 2.5},
            f"{BASE}/top": {"images": [5, 0, 9]},
            f"{BASE}/positions": positions_answer(),
        }
        | changes
    )


def _view(page, filter_index: str = "2"):
    """The filter view with its charts, drawn as when scrolled into view."""
    module = page("filter_view")
    view = module.layout("abc", "conv_top", filter_index, "5")
    placeholder = by_id(view, "filter-charts")
    assert placeholder.className == "lazy" and text(placeholder) == (
        "part association and positions: scroll here"
    )
    assert by_id(view, "filter-charts-seen").data is False
    placeholder.children = module.draw_charts(True, by_id(view, "filter-view-state").data)
    return view


def test_the_charts_wait_until_scrolled_to(fake_api, page):
    _answers(fake_api)
    module = page("filter_view")
    view = module.layout("abc", "conv_top", "2", "5")
    assert "filter-parts" not in ids(view)
    assert f"{BASE}/positions" not in fake_api.paths()
    # lazy.js finds the section by the store it names.
    assert getattr(by_id(view, "filter-charts"), "data-lazy-store") == "filter-charts-seen"
    assert module.draw_charts(False, by_id(view, "filter-view-state").data) is no_update


def test_the_association_with_each_part_is_a_bar_chart_with_the_best_part_highlighted(
    fake_api, page
):
    _answers(fake_api)
    chart = by_id(_view(page), "filter-parts")
    assert isinstance(chart, dcc.Graph)
    assert chart.figure.layout.title.text == "Association with each part (best part highlighted)"
    bars = chart.figure.data[0]
    assert bars.orientation == "h"
    assert (list(bars.y), list(bars.x)) == (["head", "torso"], [0.5, 0.0])
    # Filter 2's best part is "torso" (the metrics' argmax), in its own colour; no image has a
    # head for it, which its label says.
    assert list(bars.text) == ["0.50", "no image has it"]
    colours = list(bars.marker.color)
    assert colours[0] != colours[1]
    xaxis = chart.figure.layout.xaxis
    assert tuple(xaxis.range) == (0, 1)
    assert xaxis.title.text == (
        "P_fk: share of the images with part k where IoU(S_f, part k) > 0.2"
    )


def test_a_filter_matching_no_part_says_so_in_the_title():
    figure = association_figure(["head", "tail"], [0.0, None], None, "P_fk")
    assert figure.layout.title.text == "Association with each part (none matched)"
    assert list(figure.data[0].text) == ["0.00", "no image has it"]


def test_the_axis_title_names_the_runs_iou_threshold():
    assert association_axis_title({"evaluation": {"iou_threshold": 0.5}}).endswith("> 0.5")
    assert association_axis_title({}).endswith("> the IoU threshold")


def test_metrics_without_per_part_scores_show_a_note(fake_api, page):
    metrics = metrics_answer()
    del metrics["layers"]["conv_top"]["part_interpretability"]["per_filter_part"]
    _answers(fake_api, **{"/runs/abc/metrics": metrics})
    note = by_id(_view(page), "filter-parts")
    assert isinstance(note, html.P)
    assert text(note) == (
        "Association with each part: this run's metrics predate P_fk "
        "(re-evaluate it to see the chart)."
    )


def test_part_positions_are_a_square_scatter_in_the_object_box(fake_api, page):
    _answers(fake_api)
    figure = by_id(_view(page), "filter-positions").figure
    points, landmarks = figure.data
    assert list(points.customdata) == [5, 0, 9]  # a click opens that image
    assert (list(points.x), list(points.y)) == ([0.25, 0.3, 0.8], [0.2, 0.25, 0.9])
    assert list(points.marker.color) == [2.0, 1.0, 0.5]
    assert list(points.marker.size) == [18.0, 12.0, 9.0]
    assert points.marker.colorbar.title.text == "score: the filter's max on the image"
    assert list(landmarks.text) == ["beak", "tail"]
    # Labelled on a light box, top to bottom on alternating sides.
    labels = [(a.text, a.xanchor, a.x, a.y) for a in figure.layout.annotations]
    assert labels == [("beak", "right", 0.2, 0.2), ("tail", "left", 0.9, 0.7)]
    layout = figure.layout
    assert tuple(layout.yaxis.range) == (1.05, -0.05)  # y runs down, as in the image
    assert layout.yaxis.scaleanchor == "x"
    assert (layout.shapes[0].x0, layout.shapes[0].y1) == (0, 1)  # the box: the unit square
    assert layout.xaxis.title.text == "x / box width"


def test_clicking_a_part_position_opens_its_image(fake_api, page):
    _answers(fake_api)
    state = by_id(_view(page), "filter-view-state").data
    open_image = page("filter_view").open_clicked_image
    click = {"points": [{"x": 0.8, "y": 0.9, "customdata": 9}]}
    assert open_image(click, state) == "/runs/abc/layers/conv_top/filters/2?image=9"
    assert open_image({"points": [{"x": 0.2, "y": 0.2}]}, state) is no_update  # a landmark
    assert open_image(None, state) is no_update


def test_an_api_without_positions_or_an_unevaluated_run_shows_a_note(fake_api, page):
    _answers(fake_api, **{f"{BASE}/positions": ApiError("Not Found", 404)})
    view = _view(page)
    assert "filter-positions" not in ids(view)
    assert text(by_id(view, "filter-positions-note")) == (
        "Inferred part positions: none for this filter (Not Found)."
    )
    _answers(fake_api, **{"/runs/abc/metrics": ApiError("run 'abc' is not evaluated yet", 409)})
    fake_api.calls.clear()
    view = _view(page)
    assert text(by_id(view, "filter-positions-note")) == (
        "Inferred part positions: not evaluated yet."
    )
    assert text(by_id(view, "filter-parts")) == "Association with each part: not evaluated yet."
    assert f"{BASE}/positions" not in fake_api.paths()  # nothing to ask before the evaluation


def test_a_filter_firing_nowhere_has_no_positions_to_draw(fake_api, page):
    _answers(fake_api, **{f"{BASE}/positions": positions_answer() | {"points": []}})
    assert text(by_id(_view(page), "filter-positions-note")) == (
        "Inferred part positions: no image where this filter fires."
    )
