"""The run page on a fake API: status, training curves, log, evaluation charts, filter grid."""

from __future__ import annotations

from dash import html, no_update

from frontend import urls
from frontend.api_client import ApiError
from frontend.components.charts import CURVES, flat_range, training_figure
from tests.frontend.fakes import (
    by_id,
    features_answer,
    filters_answer,
    history_answer,
    image_sources,
    links,
    metrics_answer,
    of_type,
    run_answer,
    sheet_answer,
    text,
    with_class,
)

DOWN = ApiError("the API at http://api.invalid/api/v1 does not answer (connection refused)")
STATE = {
    "run_id": "abc",
    "layer": None,
    "sort": "filter",
    "desc": False,
    "min_peak": None,
    "part": None,
    "category": None,
    "offset": 0,
}


def _evaluated_run(fake_api) -> None:
    top, added = filters_answer(6), filters_answer(4)
    fake_api.answers.update(
        {
            "/runs/abc": run_answer(),
            "/runs/abc/history": history_answer(),
            "/runs/abc/log": {"run_id": "abc", "text": "attempt 1\ndone\n"},
            "/runs/abc/metrics": metrics_answer(),
            "/runs/abc/features": features_answer(),
            "/runs/abc/layers/conv_top/filters": top,
            "/runs/abc/layers/conv_added/filters": added,
            "/runs/abc/layers/conv_top/sheet.json": sheet_answer(top),
            "/runs/abc/layers/conv_added/sheet.json": sheet_answer(added),
        }
    )


def _sections(page, **state):
    return page("run_view").refresh(1, STATE | state)


def _charts(page, **state):
    """The evaluation's charts, drawn as when scrolled into view."""
    return html.Div(page("run_view").draw_charts(True, STATE | state))


def test_run_layout_arrives_whole_and_refreshes_only_an_unfinished_run(fake_api, page):
    _evaluated_run(fake_api)
    layout = page("run_view").layout(run_id="abc", layer="conv_added", sort="peak", desc="1")
    assert by_id(layout, "run-view-id").data == STATE | {
        "layer": "conv_added",
        "sort": "peak",
        "desc": True,
    }
    # A finished run: everything in the layout, no timer.
    assert by_id(layout, "run-view-refresh").disabled is True
    assert text(by_id(layout, "run-view-status").children.children[0]) == "Run abc succeeded"
    assert len(by_id(layout, "run-view-curves").figure.data) == 2 * len(CURVES)
    assert by_id(layout, "run-view-log").children == "attempt 1\ndone\n"
    assert text(by_id(layout, "run-view-filters").children.children[0]) == "Filters of conv_added"
    assert by_id(layout, "run-view-body").hidden is False
    fake_api.answers["/runs/abc"] = run_answer(status="queued", stage="queued", progress=0.0)
    queued = page("run_view").layout(run_id="abc")
    assert by_id(queued, "run-view-refresh").disabled is False
    assert by_id(queued, "run-view-refresh").interval == 2000


def test_bad_run_address_is_not_found(fake_api, page):
    for query in ({}, {"run_id": "abc", "sort": "size"}, {"run_id": "abc", "min_peak": "x"}):
        view = page("run_view").layout(**query)
        assert view.id == "not-found"
        assert text(view).startswith("Not foundBad run address")
        assert links(view) == {"← back to the runs": "/"}


def test_running_run_shows_status_curves_and_log_and_keeps_refreshing(fake_api, page):
    _evaluated_run(fake_api)
    fake_api.answers["/runs/abc"] = run_answer(
        status="running", stage="train", progress=0.25, epoch=1, task_loss=None, twin_id=None
    )
    status, curves, log, evaluation, filters, stop, hidden = _sections(page)
    assert (evaluation, filters, stop, hidden) == (None, None, False, False)
    assert text(by_id(status, "run-status")) == "running"
    assert text(status.children[0]) == "Run abc running"
    assert text(with_class(status, "bar-label")[0]) == "train 25%"
    keys, values = of_type(status, html.Dt), of_type(status, html.Dd)
    facts = dict(zip(map(text, keys), map(text, values), strict=True))
    assert [facts[k] for k in ("architecture", "kind", "task", "category", "epochs")] == [
        "tiny",
        "interpretable",
        "single",
        "bird",
        "1 / 2",
    ]
    assert facts["task loss"] == "" and facts["filter loss"] == "0.5000"
    assert facts["ETA"] == "1 min 01 s"  # the last history point's eta_s
    assert (facts["worker"], facts["attempts"], facts["queue"]) == ("w1@host", "1", "partlens")
    assert (facts["training time"], facts["evaluation time"]) == ("1 min 16 s", "4.2 s")
    assert links(status) == {}  # no twin
    # One step line and the epoch markers per panel, each with the history's values.
    assert len(curves.data) == 2 * len(CURVES)
    assert list(curves.data[0].x) == [1, 2, 3, 4] and curves.data[0].y[0] == 1.0
    assert list(curves.data[1].x) == [4]
    assert log == "attempt 1\ndone\n"
    assert ("GET", "/runs/abc/log", {"max_bytes": 16_000}) in fake_api.calls


def test_training_figure_draws_each_attempt_and_says_when_empty():
    points = history_answer()["points"]
    resumed = [p | {"attempt": 2, "step": p["step"] + 2} for p in points[1:3]]
    fig = training_figure(points + resumed)
    assert [trace.name for trace in fig.data[:3]] == [
        "steps, attempt 1",
        "steps, attempt 2",
        "epoch mean",
    ]
    assert list(fig.data[1].x) == [4, 5]
    assert [a.text for a in fig.layout.annotations][: len(CURVES)] == [t for _, t in CURVES]
    empty = training_figure([])
    assert empty.data == () and empty.layout.annotations[0].text == "no training history yet"


def test_training_figure_reads_a_constant_curve_and_keeps_its_legend_off_the_titles():
    fig = training_figure(history_answer()["points"])
    lr_axis = f"yaxis{[key for key, _ in CURVES].index('lr') + 1}"
    assert tuple(fig.layout[lr_axis].range) == (0.0, 0.02)  # lr 0.01 throughout
    assert fig.layout.yaxis.range is None  # task loss varies: plotly's own range
    assert flat_range([0.0, 0.0]) == [-1.0, 1.0] and flat_range([-2.0]) == [-4.0, 0.0]
    # The legend sits at the figure's top edge, inside the top margin above the panel titles.
    assert (fig.layout.legend.yref, fig.layout.legend.y, fig.layout.legend.yanchor) == (
        "container",
        1.0,
        "top",
    )
    assert fig.layout.margin.t >= 70


def test_failed_run_shows_its_error_and_stops(fake_api, page):
    fake_api.answers["/runs/abc"] = run_answer(status="failed", error="Traceback: boom")
    status, curves, log, evaluation, _, stop, _ = _sections(page)
    assert stop is True and evaluation is None
    assert [text(p) for p in of_type(status, html.Pre)] == ["Traceback: boom"]
    assert links(status) == {"xyz": "/runs/xyz"}
    assert curves.data == ()  # no history answer: the figure says so
    assert log == "(no log: no fake answer for GET /runs/abc/log)"


def test_succeeded_run_shows_evaluation_charts(fake_api, page):
    _evaluated_run(fake_api)
    status, _, _, evaluation, _, stop, _ = _sections(page)
    assert stop is True
    assert text(status.children[0]) == "Run abc succeeded"
    assert text(by_id(evaluation, "test-accuracy")) == (
        "Test accuracy 0.900 on the evaluation images."
    )
    assert links(evaluation) == {
        "Compare with its twin": "/runs/abc/compare",
        "Probe your own image": "/runs/abc/probe",
    }
    metric_rows = [[text(td) for td in tr.children] for tr in of_type(evaluation, html.Tr)]
    assert metric_rows[1] == ["conv_added", "0.123", "0.250", "0.050", "0.500", "12.5"]
    # The charts below the fold come when scrolled to, not with the page.
    assert text(by_id(evaluation, "run-view-charts")) == (
        "best parts, RF radius and Fig. 6: scroll here"
    )
    assert by_id(evaluation, "run-view-charts-seen").data is False
    assert "/runs/abc/heatmaps/bird.json" not in fake_api.paths()
    assert page("run_view").draw_charts(False, STATE) is no_update
    charts = _charts(page)
    assert image_sources(charts) == ["/media/runs/abc/heatmaps/bird.png"]
    histogram = by_id(charts, "part-histogram").figure
    assert (list(histogram.data[0].x), list(histogram.data[0].y)) == (["torso", "head"], [3, 1])
    radius = by_id(charts, "radius-sensitivity").figure
    assert (list(radius.data[0].x), list(radius.data[0].y)) == ([8, 16], [0.4, 0.6])
    assert radius.layout.shapes[0].x0 == 12.5  # the radius the metric uses


def test_filter_grid_is_one_contact_sheet_with_a_link_per_tile(fake_api, page):
    _evaluated_run(fake_api)
    filters = _sections(page)[4]
    # The grid defaults to the top layer; each tile links to its filter on its best image.
    assert text(filters.children[0]) == "Filters of conv_top"
    assert image_sources(filters) == [
        "/media/runs/abc/layers/conv_top/sheet.png?limit=6&columns=10&tile=96&sort=filter"
    ]
    cells = with_class(filters, "cell")
    assert [cell.href for cell in cells[:2]] == [
        "/runs/abc/layers/conv_top/filters/0?image=11",
        "/runs/abc/layers/conv_top/filters/1?image=10",
    ]
    assert [text(cell) for cell in cells] == [f"#{f}" for f in range(6)]
    assert (cells[3].style["left"], cells[3].style["top"]) == ("288px", "0px")
    tabs = {text(tab): (tab.href, tab.className) for tab in with_class(filters, "pill")}
    assert tabs["conv_added"] == ("/runs/abc?layer=conv_added", "pill")
    assert tabs["conv_top"] == ("/runs/abc?layer=conv_top", "pill active")
    # A first click orders by the best first: peak and P_f descending, D_f ascending.
    assert tabs["peak"] == ("/runs/abc?sort=peak&desc=1", "pill")
    assert tabs["P_f"] == ("/runs/abc?sort=part_score&desc=1", "pill")
    assert tabs["D_f"] == ("/runs/abc?sort=instability", "pill")
    assert tabs["ascending (flip)"] == ("/runs/abc?desc=1", "pill")
    assert text(by_id(filters, "grid-count")) == "filters 1 to 6 of 6"
    assert "grid-next" not in {getattr(c, "id", None) for c in with_class(filters, "pill")}


def test_sort_and_threshold_of_the_url_order_and_grey_the_tiles(fake_api, page):
    _evaluated_run(fake_api)
    filters = _sections(page, layer="conv_top", sort="peak", desc=True, min_peak=4.0)[4]
    peaks = {item["filter"]: item["peak"] for item in filters_answer(6)}
    labels = [text(cell) for cell in with_class(filters, "cell")]
    # Each tile says the value the grid is sorted by.
    assert labels[0] == f"#{max(peaks, key=peaks.get)} · peak {max(peaks.values()):.2f}"
    shown = [int(label.split()[0].lstrip("#")) for label in labels]
    assert shown == sorted(peaks, key=lambda f: -peaks[f])
    dimmed = [int(text(c).split()[0].lstrip("#")) for c in with_class(filters, "dimmed")]
    assert sorted(dimmed) == sorted(f for f, peak in peaks.items() if peak < 4.0)
    assert image_sources(filters)[0].endswith(
        "sheet.png?limit=6&columns=10&tile=96&sort=peak&desc=1"
    )
    # Switching layer or order keeps the rest of the view.
    tabs = {text(tab): tab.href for tab in with_class(filters, "pill")}
    assert tabs["conv_added"] == "/runs/abc?layer=conv_added&sort=peak&desc=1&min_peak=4.0"
    assert tabs["descending (flip)"] == "/runs/abc?layer=conv_top&sort=peak&min_peak=4.0"
    assert tabs["peak"] == "/runs/abc?layer=conv_top&sort=peak&desc=1&min_peak=4.0"  # kept
    assert tabs["filter index"] == "/runs/abc?layer=conv_top&min_peak=4.0"  # ascending
    assert text(by_id(filters, "grid-kept")) == "3 of these with peak ≥ 4"
    assert by_id(filters, "grid-min-peak").value == 4.0


def test_threshold_input_puts_the_threshold_in_the_address(page):
    apply = page("run_view").apply_threshold
    assert apply(2.5, STATE | {"sort": "mean"}) == "/runs/abc?sort=mean&min_peak=2.5"
    assert apply(None, STATE | {"min_peak": 1.0}) == "/runs/abc"


def test_filter_grid_shows_the_layer_of_the_url(fake_api, page):
    _evaluated_run(fake_api)
    grid = page("run_view").filters_section(urls.RunPage("abc", "conv_added"))
    assert len(with_class(grid, "cell")) == 4
    assert with_class(grid, "active")[0].href == "/runs/abc?layer=conv_added"
    unknown = page("run_view").filters_section(urls.RunPage("abc", "no_such_layer"))
    assert text(unknown.children[0]) == "Filters of conv_top"


def test_unknown_run_is_not_found_and_api_errors_are_reported(fake_api, page):
    fake_api.answers["/runs/abc"] = ApiError("run 'abc' not found", 404)
    status, _, log, evaluation, filters, stop, hidden = _sections(page)
    assert (status.id, text(status)) == (
        "not-found",
        "Not foundrun 'abc' not found← back to the runs",
    )
    assert (log, evaluation, filters, stop, hidden) == ("", None, None, True, True)
    fake_api.answers["/runs/abc"] = DOWN
    down = _sections(page)
    assert (down[0].className, down[-1]) == ("error", False)  # the API may come back
    _evaluated_run(fake_api)
    fake_api.answers["/runs/abc/metrics"] = ApiError("run 'abc' is not evaluated yet", 409)
    fake_api.answers["/runs/abc/features"] = DOWN
    _, _, _, evaluation, filters, _, _ = _sections(page)
    assert text(evaluation) == "run 'abc' is not evaluated yet"
    assert text(filters) == DOWN.message


def test_heat_maps_are_plotly_figures_over_the_mean_object(fake_api, page):
    _evaluated_run(fake_api)
    heat = [[0.0, 1.0], [3.0, 0.0]]
    fake_api.answers["/runs/abc/heatmaps/bird.json"] = {
        "category": "bird",
        "grid": 2,
        "heat": heat,
        "points": 4,
        "images": 2,
    }
    evaluation = _charts(page)
    fig = by_id(evaluation, "heatmap-bird").figure
    assert [list(row) for row in fig.data[0].z] == heat
    assert fig.layout.coloraxis.cmax == 3.0
    assert fig.layout.images[0].source == "/media/runs/abc/heatmaps/bird/mean.png"
    assert "4 part positions on 2 images" in text(evaluation)
    assert "/media/runs/abc/heatmaps/bird.png" not in image_sources(evaluation)
