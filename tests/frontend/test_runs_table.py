"""The runs page's table on a fake API: its columns, the order and filters of its address (sent
to the API, kept by the live refresh), the header and pill links, paging."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from dash import dcc, html, no_update

from frontend import urls
from frontend.api_client import ApiError
from frontend.components.common import NO_VALUE
from frontend.components.runs import PAGE_SIZE, fmt_eta
from tests.frontend.fakes import Paged, by_id, links, of_type, run_answer, text, with_class

DOWN = ApiError("the API at http://api.invalid/api/v1 does not answer (connection refused)")
HEADERS = [
    "run",
    "name",
    "arch",
    "dataset",
    "task",
    "kind",
    "status",
    "test acc.",
    "D ↓",
    "P ↑",
    "twin",
]


def _runs() -> list[dict]:
    ordinary = {**run_answer()["config"], "interpretable": False}
    cub = {
        **run_answer()["config"],
        "arch": "vgg16",
        "dataset": {"name": "cub", "task": "multi", "category": None},
    }
    return [
        run_answer("abc"),
        run_answer("xyz", config=ordinary, twin_id="abc", summary=None, accuracy=None)
        | {"status": "running", "progress": 0.4, "stage": "train", "eta_s": 200.4},
        run_answer(
            "c1",
            config=cub,
            twin_id=None,
            summary={
                "layer": "conv_top",
                "test_accuracy": 0.75,
                "location_instability": 0.2,
                "part_interpretability": None,
            },
        ),
    ]


def _cells(table) -> list[list[str]]:
    return [[text(td) for td in row.children] for row in of_type(table, html.Tr)[1:]]


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, ""),
        (0.4, "0 s left"),
        (45.2, "45 s left"),
        (200.4, "3 m 20 s left"),
        (3600, "1 h 0 m left"),
        (3 * 3600 + 5 * 60 + 9, "3 h 5 m left"),
    ],
)
def test_eta_reads_as_time_left(seconds, shown):
    assert fmt_eta(seconds) == shown


def test_each_run_shows_its_dataset_status_summary_and_twin(fake_api, page):
    fake_api.answers["/runs"] = Paged(_runs(), 3)
    table = page("runs").runs_table(urls.RunsPage())
    assert [text(th) for th in of_type(table, html.Th)] == ["run ▼", *HEADERS[1:]]
    first, running, cub = _cells(table)
    assert first == [
        "abc",
        "tiny interpretable abc",
        "tiny",
        "builtin",
        "single · bird",
        "interpretable",
        "succeeded",  # a finished run: no bar
        "0.900",
        "0.123",
        "0.500",
        "xyzcompare",  # two links, one a line
    ]
    # A running run: its bar and time left; not evaluated yet: dashes.
    assert running[6] == "runningtrain 40%3 m 20 s left"
    assert running[7:10] == [NO_VALUE] * 3
    # Two datasets named alike are told apart; a landmark-only one has no P.
    assert cub[2:5] == ["vgg16", "cub", "multi"] and cub[7:] == [
        "0.750",
        "0.200",
        NO_VALUE,
        NO_VALUE,
    ]
    shown = {(text(link), link.href) for link in of_type(table, dcc.Link)}
    assert {("abc", "/runs/abc"), ("xyz", "/runs/xyz"), ("c1", "/runs/c1")} <= shown
    assert {("compare", "/runs/abc/compare"), ("compare", "/runs/xyz/compare")} <= shown
    assert ("abc", "/runs/abc") in shown  # xyz's twin
    assert len(with_class(table, "bar")) == 1
    assert text(by_id(table, "runs-count")) == "runs 1 to 3 of 3"


def test_the_address_orders_and_filters_the_runs_the_api_lists(fake_api, page):
    fake_api.answers["/runs"] = Paged(_runs()[:1], 1)
    view = page("runs").layout(sort="accuracy", desc="0", status="succeeded", q="tiny", arch="tiny")
    sent = [params for _, path, params in fake_api.calls if path == "/runs"]
    expected = {"sort": "accuracy", "desc": False, "status": "succeeded", "arch": "tiny"}
    assert sent == [expected | {"q": "tiny", "limit": PAGE_SIZE, "offset": 0}]
    assert by_id(view, "runs-filter-q").value == "tiny"
    assert by_id(view, "runs-filter-arch").value == "tiny"
    # The live refresh lists the same runs, in the same order.
    state = by_id(view, "runs-query").data
    assert (
        urls.RunsPage(**state).url() == "/?sort=accuracy&desc=0&status=succeeded&arch=tiny&q=tiny"
    )
    fake_api.calls.clear()
    refreshed = page("runs").refresh_runs(4, state)
    assert [params for _, _, params in fake_api.calls] == sent
    assert _cells(refreshed)[0][0] == "abc"
    assert page("runs").layout(sort="size").id == "not-found"
    assert page("runs").layout(kind="both").id == "not-found"


def test_headers_and_pills_link_to_the_table_sorted_or_filtered(fake_api, page):
    fake_api.answers["/runs"] = Paged(_runs(), 3)
    current = urls.RunsPage("accuracy", True, kind="ordinary", offset=25)
    view = page("runs").layout(**{"sort": "accuracy", "kind": "ordinary", "offset": "25"})
    headers = {text(link): link.href for link in with_class(view, "sort")}
    # The current order flips; another starts from its best (or newest) first.
    assert headers["test acc. ▼"] == "/?sort=accuracy&desc=0&kind=ordinary"
    assert headers["run"] == "/?kind=ordinary"
    assert headers["name"] == "/?sort=name&desc=0&kind=ordinary"
    assert headers["D ↓"] == "/?sort=location_instability&desc=0&kind=ordinary"
    assert headers["P ↑"] == "/?sort=part_interpretability&kind=ordinary"
    assert by_id(view, "runs-status-running").href == (
        "/?sort=accuracy&status=running&kind=ordinary"
    )
    assert by_id(view, "runs-kind-any").href == "/?sort=accuracy"
    assert by_id(view, "runs-kind-ordinary").className == "pill active"
    assert asdict(current) == by_id(view, "runs-query").data


def test_a_long_list_pages(fake_api, page):
    runs = [run_answer(f"r{n}") for n in range(60)]
    fake_api.answers["/runs"] = lambda p: Paged(runs[p["offset"] : p["offset"] + p["limit"]], 60)
    first = page("runs").runs_table(urls.RunsPage(status="succeeded"))
    assert len(_cells(first)) == PAGE_SIZE
    assert text(by_id(first, "runs-count")) == f"runs 1 to {PAGE_SIZE} of 60"
    assert by_id(first, "runs-next").href == f"/?status=succeeded&offset={PAGE_SIZE}"
    last = page("runs").runs_table(urls.RunsPage(offset=50))
    assert text(by_id(last, "runs-count")) == "runs 51 to 60 of 60"
    assert by_id(last, "runs-prev").href == "/?offset=25"
    assert "runs-next" not in {getattr(c, "id", None) for c in of_type(last, dcc.Link)}
    # An API that sends no total listed them all: the page is cut from the list.
    fake_api.answers["/runs"] = runs
    cut = page("runs").runs_table(urls.RunsPage(offset=50))
    assert [row[0] for row in _cells(cut)] == [f"r{n}" for n in range(50, 60)]


def test_dropdowns_and_search_put_the_filter_in_the_address(page):
    apply = page("runs").apply_filters
    state = asdict(urls.RunsPage("name", False, status="failed", offset=25))
    assert apply("vgg16", None, "", state) == "/?sort=name&desc=0&status=failed&arch=vgg16"
    assert apply(None, "cub", "  bird ", state) == (
        "/?sort=name&desc=0&status=failed&dataset=cub&q=bird"
    )
    assert apply(None, None, "", state) is no_update  # the table shown now


def test_no_runs_no_match_and_api_errors(fake_api, page):
    fake_api.answers["/runs"] = Paged([], 0)
    assert text(page("runs").runs_table(urls.RunsPage())) == "No runs yet: launch one above."
    none = page("runs").runs_table(urls.RunsPage("name", False, q="nothing"))
    assert text(none) == "No runs match these filters: show all runs"
    assert links(none) == {"show all runs": "/?sort=name&desc=0"}
    fake_api.answers["/runs"] = DOWN
    shown = page("runs").runs_table(urls.RunsPage())
    assert (shown.className, text(shown)) == ("error", DOWN.message)
