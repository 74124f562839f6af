"""A run without part interpretability (a landmark-only dataset such as CUB): every place that
shows it says a dash and why, instead of failing or drawing an empty chart."""

from __future__ import annotations

from dash import dcc, html

from frontend import urls
from frontend.api_client import ApiError
from frontend.components.common import NO_VALUE
from tests.frontend.fakes import (
    LANDMARKS_ONLY,
    by_id,
    features_answer,
    filters_answer,
    history_answer,
    ids,
    landmark_metrics_answer,
    metrics_answer,
    of_type,
    positions_answer,
    run_answer,
    sheet_answer,
    text,
    with_class,
)

ABSENT = f"{NO_VALUE} ({LANDMARKS_ONLY})"
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


def _cub_run(fake_api) -> None:
    top = filters_answer(6)
    fake_api.answers.update(
        {
            "/runs/abc": run_answer(),
            "/runs/abc/history": history_answer(),
            "/runs/abc/log": {"run_id": "abc", "text": "done\n"},
            "/runs/abc/metrics": landmark_metrics_answer(),
            "/runs/abc/features": features_answer(),
            "/runs/abc/layers/conv_top/filters": top,
            "/runs/abc/layers/conv_top/sheet.json": sheet_answer(top),
            "/runs/abc/heatmaps/bird.json": {"grid": 2, "heat": [[0, 1], [1, 0]], "points": 3},
        }
    )


def test_the_run_page_tables_and_charts_say_why(fake_api, page):
    _cub_run(fake_api)
    _, _, _, evaluation, filters, _, _ = page("run_view").refresh(1, STATE)
    by_id(evaluation, "run-view-charts").children = page("run_view").draw_charts(True, STATE)
    rows = [[text(td) for td in tr.children] for tr in of_type(evaluation, html.Tr)]
    assert rows[1] == ["conv_added", "0.123", "0.250", "0.050", NO_VALUE, NO_VALUE]
    assert {td.title for td in with_class(evaluation, "absent") if isinstance(td, html.Td)} == {
        LANDMARKS_ONLY
    }
    notes = [text(p) for p in with_class(evaluation, "absent") if isinstance(p, html.P)]
    assert notes == [
        f"part interpretability: {ABSENT}",
        f"best-matching parts and RF-radius sensitivity: {ABSENT}",
    ]
    assert not [g for g in of_type(evaluation, dcc.Graph) if g.id != "heatmap-bird"]
    # The heat map of part positions needs no part masks: it stays.
    assert by_id(evaluation, "heatmap-bird").figure.data[0].type == "heatmap"
    # The grid offers no order by P_f and no best-part filter, and says why.
    sort = by_id(filters, "grid-sort-part_score")
    assert (text(sort), sort.title) == (f"P_f {NO_VALUE}", LANDMARKS_ONLY)
    assert text(by_id(filters, "grid-absent")) == f"P_f and best part: {ABSENT}"
    assert not any(name.startswith("grid-part-") for name in ids(filters))


def test_the_filter_view_says_why(fake_api, page):
    _cub_run(fake_api)
    base = "/runs/abc/layers/conv_top/filters/2"
    fake_api.answers.update(
        {
            f"{base}/activation": {"argmax": [0, 1], "max": 1.0, "filter_max": 2.0},
            f"{base}/top": {"images": [5]},
            f"{base}/positions": positions_answer(),
        }
    )
    module = page("filter_view")
    view = module.layout("abc", "conv_top", "2", "5")
    assert text(by_id(view, "filter-metrics")) == (
        f"part interpretability P_f {ABSENT} · location instability 0.120"
    )
    charts = module.draw_charts(True, by_id(view, "filter-view-state").data)
    assert text(by_id(charts, "filter-parts")) == f"association with each part: {ABSENT}"
    # Part positions come from landmarks and boxes: a CUB run has them.
    assert isinstance(by_id(charts, "filter-positions"), dcc.Graph)


def _histograms(page, view):
    """The compare view's best-part histograms, drawn as when scrolled into view."""
    return page("compare").draw_charts(True, by_id(view, "compare-view-state").data)


def test_the_compare_view_says_why(fake_api, page):
    _cub_run(fake_api)
    fake_api.answers.update(
        {
            "/runs/xyz": run_answer(
                "xyz", config={**run_answer()["config"], "interpretable": False}
            ),
            "/runs/xyz/metrics": landmark_metrics_answer(),
            "/runs/xyz/heatmaps/bird.json": {"grid": 2, "heat": [[1, 0], [0, 1]], "points": 2},
            "/runs": [run_answer(), run_answer("xyz")],
        }
    )
    view = page("compare").layout(run_id="abc")
    rows = [
        [text(td) for td in tr.children] for tr in of_type(by_id(view, "compare-table"), html.Tr)
    ]
    assert ["conv_top", "part interpretability ↑", NO_VALUE, NO_VALUE, NO_VALUE] in rows
    notes = [text(p) for p in with_class(view, "absent")]
    assert f"part interpretability of abc and xyz: {ABSENT}" in notes
    assert ["conv_top", "location instability ↓", "0.123", "0.123", "1.00"] in rows
    histograms = _histograms(page, view)
    assert "part-histograms" not in ids(histograms)
    assert [text(p) for p in of_type(histograms, html.P)] == [
        f"best-matching parts of abc and xyz: {ABSENT}"
    ]


def test_a_pair_of_one_run_with_and_one_without_shows_the_one_it_has(fake_api, page):
    _cub_run(fake_api)
    fake_api.answers.update(
        {
            "/runs/xyz": run_answer("xyz"),
            "/runs/xyz/metrics": metrics_answer(),
            "/runs/xyz/heatmaps/bird.json": {"grid": 2, "heat": [[1, 0], [0, 1]], "points": 2},
            "/runs": [],
        }
    )
    histograms = _histograms(page, page("compare").layout(run_id="abc"))
    bars = by_id(histograms, "part-histograms").figure.data
    assert [bar.name for bar in bars] == ["xyz (interpretable)"]
    assert text(of_type(histograms, html.P)) == f"best-matching parts of abc: {ABSENT}"


def test_an_order_the_run_has_no_scores_for_says_why_and_leads_back(fake_api, page):
    _cub_run(fake_api)
    message = f"sort: no part scores: {LANDMARKS_ONLY}"
    fake_api.answers["/runs/abc/layers/conv_top/filters"] = ApiError(message, 409)
    by_score = urls.RunPage("abc", "conv_top", sort="part_score", desc=True)
    grid = page("run_view").filters_section(by_score, landmark_metrics_answer())
    assert text(by_id(grid, "grid-error")) == message
    assert by_id(grid, "grid-reset").href == "/runs/abc?layer=conv_top"
    # On the default order already, there is nowhere to lead back to.
    plain = page("run_view").filters_section(urls.RunPage("abc", "conv_top"))
    assert "grid-reset" not in ids(plain)
