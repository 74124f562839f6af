"""frontend.urls: the exact URLs the UI builds, and parse() turning each back into its view."""

from __future__ import annotations

import ast
from dataclasses import fields, replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from dash._pages import _parse_path_variables, _parse_query_string

from frontend import urls
from frontend.urls import (
    ComparePage,
    DatasetImage,
    FilterPage,
    HeatmapImage,
    OverlayImage,
    PanelImage,
    RunPage,
    RunsPage,
    SheetImage,
)

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"

# Each route next to the URL it must keep (the browser tests and shared links rely on them).
BUILT = [
    (RunsPage(), "/"),
    (RunsPage("accuracy", False, "running"), "/?sort=accuracy&desc=0&status=running"),
    (
        RunsPage(arch="vgg16", dataset="cub", kind="ordinary", q="bird", offset=25),
        "/?arch=vgg16&dataset=cub&kind=ordinary&q=bird&offset=25",
    ),
    (RunPage("abc"), "/runs/abc"),
    (RunPage("abc", "conv_top"), "/runs/abc?layer=conv_top"),
    (ComparePage("abc"), "/runs/abc/compare"),
    (FilterPage("abc", "conv_top", 2, 5), "/runs/abc/layers/conv_top/filters/2?image=5"),
    (
        FilterPage("abc", "conv_added", 1, 2, "rf"),
        "/runs/abc/layers/conv_added/filters/1?image=2&overlay=rf",
    ),
    (
        OverlayImage("abc", "conv_top", 2, 5, "heat"),
        "/media/runs/abc/layers/conv_top/filters/2/overlay.png?image=5&mode=heat",
    ),
    (
        OverlayImage("abc", "conv_top", 3, 7),
        "/media/runs/abc/layers/conv_top/filters/3/overlay.png?image=7",
    ),
    (DatasetImage("abc", 5), "/media/runs/abc/images/5.png"),
    (HeatmapImage("abc", "bird"), "/media/runs/abc/heatmaps/bird.png"),
    (RunPage("abc", "conv_top", "peak", True), "/runs/abc?layer=conv_top&sort=peak&desc=1"),
    (RunPage("abc", None, "filter", True, 0.5), "/runs/abc?desc=1&min_peak=0.5"),
    (RunPage("abc", None, "mean"), "/runs/abc?sort=mean"),
    (
        SheetImage("abc", "conv_top", "peak", True, 128, 10, 96),
        "/media/runs/abc/layers/conv_top/sheet.png?limit=128&columns=10&tile=96&sort=peak&desc=1",
    ),
    (
        SheetImage("abc", "conv_top"),
        "/media/runs/abc/layers/conv_top/sheet.png?limit=64&columns=8&tile=96&sort=filter",
    ),
    (
        PanelImage("abc", "conv_top", 2, 5),
        "/media/runs/abc/layers/conv_top/filters/2/panel.png?image=5&size=224",
    ),
]

# Values that need percent-encoding still round-trip.
ODD = [
    RunsPage("name", True, q="a&b=c #1/2", dataset="ü x"),
    RunPage("a b", "layer/1"),
    RunPage("ü%", "x&y=z"),
    ComparePage("a/b?c"),
    FilterPage("run#1", "conv top/2", 0, 0, "rf"),
    FilterPage("r", "l", 10_000, 999),
    OverlayImage("a b", "c/d", 4, 0, "rf"),
    DatasetImage("a/b", 0),
    HeatmapImage("r", "house finch/2"),
    RunPage("a b", "l/1", "mean", True, 1e-05),
    SheetImage("a/b", "c d", "mean"),
    PanelImage("a?b", "l#1", 3, 4, 64),
]


@pytest.mark.parametrize(("route", "url"), BUILT, ids=[url for _, url in BUILT])
def test_builds_the_same_urls_as_before(route, url):
    assert route.url() == url


@pytest.mark.parametrize(("route", "url"), BUILT, ids=[url for _, url in BUILT])
def test_parse_inverts_url(route, url):
    assert urls.parse(url) == route


@pytest.mark.parametrize("route", ODD, ids=repr)
def test_round_trip_of_values_needing_encoding(route):
    url = route.url()
    assert urls.parse(url) == route
    # Each value stays inside its own path segment: as many as with plain values.
    plain = replace(route, **{f.name: "x" for f in fields(route) if f.type == "str"})
    assert urlsplit(url).path.count("/") == urlsplit(plain.url()).path.count("/")
    assert " " not in url


def test_parse_accepts_a_whole_url_and_defaults():
    assert urls.parse("http://127.0.0.1:8050/runs/abc/layers/conv_top/filters/3") == FilterPage(
        "abc", "conv_top", 3, 0, "heat"
    )
    assert urls.parse("/runs/abc/") == RunPage("abc")
    assert urls.parse("/media/runs/abc/layers/l/filters/3/overlay.png") == OverlayImage(
        "abc", "l", 3, 0, None
    )


@pytest.mark.parametrize(
    "url",
    [
        "/nowhere",
        "/runs",
        "/runs/abc/layers/conv_top",
        "/runs/abc/layers/conv_top/filters/-1",
        "/runs/abc/layers/conv_top/filters/x",
        "/runs/abc/layers/conv_top/filters/2?image=-3",
        "/runs/abc/layers/conv_top/filters/2?image=",
        "/runs/abc/layers/conv_top/filters/2?image=1&image=2",
        "/runs/abc/layers/conv_top/filters/2?overlay=edges",
        "/media",
        "/media/runs/abc/images/x.png",
        "/media/runs/abc/images/5.jpg",
        "/media/runs/abc/heatmaps/.png",
        "/media/runs/abc/layers/l/filters/2/overlay.png?mode=edges",
        "/media/runs/abc/layers/l/filters/-2/overlay.png",
        "/?sort=size",
        "/?desc=yes",
        "/?status=done",
        "/?kind=both",
        "/?offset=-1",
        "/?q=a&q=b",
        "/runs/abc?sort=size",
        "/runs/abc?desc=yes",
        "/runs/abc?min_peak=x",
        "/runs/abc?min_peak=inf",
        "/media/runs/abc/layers/l/sheet.png?limit=8&columns=4&tile=96&sort=size",
        "/media/runs/abc/layers/l/sheet.png?limit=8&columns=4",
        "/media/runs/abc/layers/l/filters/2/panel.png?image=1&size=-4",
    ],
)
def test_parse_rejects_what_names_no_view(url):
    assert urls.parse(url) is None


def test_filter_page_derived_urls():
    view = FilterPage("abc", "conv_top", 2, 5, "rf")
    assert view.overlay_image().url() == (
        "/media/runs/abc/layers/conv_top/filters/2/overlay.png?image=5&mode=rf"
    )
    assert view.overlay_image(7) == OverlayImage("abc", "conv_top", 2, 7, "rf")
    assert view.dataset_image().url() == "/media/runs/abc/images/5.png"
    assert view.run_page().url() == "/runs/abc?layer=conv_top"


@pytest.mark.parametrize(
    "route",
    [
        RunPage("abc", "conv_top"),
        RunPage("a b"),
        RunPage("abc", "conv_top", "peak", True, 2.5),
        ComparePage("a/b"),
        *(r for r, _ in BUILT[4:6]),
        ODD[3],
    ],
    ids=repr,
)
def test_from_dash_reads_what_dashs_router_passes(route):
    """Dash matches the page's template and hands the layout its variables plus the query."""
    parts = urlsplit(route.url())
    variables = _parse_path_variables(parts.path.strip("/"), type(route).TEMPLATE.strip("/"))
    query = _parse_query_string(f"?{parts.query}" if parts.query else "")
    assert type(route).from_dash(**variables, **query) == route


def test_from_dash_without_values():
    assert RunPage.from_dash(None) is None
    assert ComparePage.from_dash(None) is None
    assert FilterPage.from_dash(None, None, None) is None
    assert FilterPage.from_dash("abc", "l", None, None) == FilterPage("abc", "l", 0, 0)
    assert RunPage.from_dash("abc", ["a", "b"]) == RunPage("abc", None)
    # Dash's wildcard spans "/": such a value names no view (an encoded slash is fine).
    assert RunPage.from_dash("x/layers/y") is None
    assert ComparePage.from_dash("a/b") is None
    assert FilterPage.from_dash("a", "l/x", "1") is None
    assert RunPage.from_dash("a%2Fb") == RunPage("a/b")
    # An emptied threshold box leaves no threshold; a 0 flag is the default.
    assert RunPage.from_dash("abc", min_peak="", desc="0") == RunPage("abc")


def test_api_paths():
    assert urls.api_run("abc") == "/runs/abc"
    assert urls.api_features("abc") == "/runs/abc/features"
    assert urls.api_metrics("abc") == "/runs/abc/metrics"
    assert urls.api_layer_filters("abc", "conv_top") == "/runs/abc/layers/conv_top/filters"
    assert urls.api_filter("abc", "conv_top", 3, "top") == "/runs/abc/layers/conv_top/filters/3/top"
    assert urls.api_history("abc") == "/runs/abc/history"
    assert urls.api_log("abc") == "/runs/abc/log"
    assert urls.api_layer("abc", "l/1", "sheet.json") == "/runs/abc/layers/l%2F1/sheet.json"
    assert SheetImage("abc", "l", "mean", True, 4, 2, 32).params() == {
        "limit": 4,
        "columns": 2,
        "tile": 32,
        "sort": "mean",
        "desc": 1,
    }
    assert "desc" not in SheetImage("abc", "l").params()
    assert urls.api_filter("a b", "l/1", 0, "activation") == (
        "/runs/a%20b/layers/l%2F1/filters/0/activation"
    )


def _string_literals(tree: ast.AST) -> list[ast.Constant]:
    """The string constants of a module that are not docstrings."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    ]


def test_no_url_is_built_outside_urls_module():
    offenders = [
        f"{path.relative_to(FRONTEND)}:{node.lineno}: {node.value!r}"
        for path in sorted(FRONTEND.rglob("*.py"))
        if "urls" not in path.relative_to(FRONTEND).parts
        for node in _string_literals(ast.parse(path.read_text()))
        if "/runs" in node.value or "/media" in node.value or "/layers" in node.value
    ]
    assert offenders == []
