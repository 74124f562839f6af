"""The run page's filter grid: paging a large layer, sorting and filtering on the server."""

from __future__ import annotations

from frontend import urls
from frontend.components.grid import SHEET_LIMIT, TILE_LIMIT, list_params
from tests.frontend.fakes import (
    Paged,
    by_id,
    features_answer,
    filters_answer,
    image_sources,
    metrics_answer,
    sheet_answer,
    text,
    with_class,
)

WIDE = 600  # more filters than one sheet shows


def _wide_layer(fake_api) -> list[dict]:
    filters = filters_answer(WIDE)
    features = features_answer()
    features["layers"][-1]["filters"] = WIDE

    def sheet(params):
        answer = sheet_answer(filters)(
            params | {"limit": params["limit"] + params.get("offset", 0)}
        )
        start = params.get("offset", 0)
        chosen = answer["filters"][start:]
        return answer | {
            "filters": chosen,
            "rows": -(-len(chosen) // params["columns"]),
            "offset": start,
        }

    fake_api.answers.update(
        {
            "/runs/abc/features": features,
            "/runs/abc/layers/conv_top/filters": lambda p: Paged(
                filters[p["offset"] : p["offset"] + p["limit"]], WIDE
            ),
            "/runs/abc/layers/conv_top/sheet.json": sheet,
        }
    )
    return filters


def test_a_wide_layer_pages_through_its_contact_sheet(fake_api, page):
    _wide_layer(fake_api)
    first = page("run_view").filters_section(urls.RunPage("abc"))
    assert text(by_id(first, "grid-count")) == f"filters 1 to {SHEET_LIMIT} of {WIDE}"
    assert by_id(first, "grid-next").href == f"/runs/abc?offset={SHEET_LIMIT}"
    assert len(with_class(first, "cell")) == SHEET_LIMIT
    second = page("run_view").filters_section(urls.RunPage("abc", offset=SHEET_LIMIT))
    rest = WIDE - SHEET_LIMIT
    assert text(by_id(second, "grid-count")) == f"filters {SHEET_LIMIT + 1} to {WIDE} of {WIDE}"
    assert by_id(second, "grid-prev").href == "/runs/abc"
    assert image_sources(second) == [
        f"/media/runs/abc/layers/conv_top/sheet.png?limit={rest}&columns=10&tile=96"
        f"&sort=filter&offset={SHEET_LIMIT}"
    ]
    cells = with_class(second, "cell")
    assert len(cells) == rest and text(cells[0]) == f"#{SHEET_LIMIT}"
    list_call = [c for c in fake_api.calls if c[1].endswith("/filters")][-1]
    assert list_call[2] == {"sort": "filter", "offset": SHEET_LIMIT, "limit": SHEET_LIMIT}


def test_a_new_order_or_filter_goes_back_to_the_first_page(fake_api, page):
    _wide_layer(fake_api)
    grid = page("run_view").filters_section(urls.RunPage("abc", offset=SHEET_LIMIT))
    assert by_id(grid, "grid-sort-peak").href == "/runs/abc?sort=peak&desc=1"
    assert by_id(grid, "grid-direction").href == "/runs/abc?desc=1"


def test_server_side_order_and_filter_draw_one_image_per_tile(fake_api, page):
    items = [
        {
            "filter": 5,
            "top_image": 2,
            "peak": 3.0,
            "part_score": 0.9,
            "best_part": "head",
            "instability": 0.1,
            "target_category": "bird",
        },
        {
            "filter": 1,
            "top_image": 7,
            "peak": 1.0,
            "part_score": 0.4,
            "best_part": "head",
            "instability": 0.3,
            "target_category": "bird",
        },
    ]
    metrics = metrics_answer()
    metrics["layers"]["conv_top"]["target_category"] = ["bird"] * 6
    metrics["categories"] = ["bird", "cat"]
    fake_api.answers.update(
        {
            "/runs/abc/features": features_answer(),
            "/runs/abc/layers/conv_top/filters": Paged(items, 2),
        }
    )
    view = urls.RunPage("abc", sort="part_score", desc=True, part="head", category="bird")
    grid = page("run_view").filters_section(view, metrics)
    assert fake_api.calls[-1][2] == {
        "sort": "part_score",
        "desc": 1,
        "offset": 0,
        "limit": TILE_LIMIT,
        "part": "head",
        "category": "bird",
    }
    assert "/runs/abc/layers/conv_top/sheet.json" not in fake_api.paths()
    assert image_sources(grid) == [
        "/media/runs/abc/layers/conv_top/filters/5/overlay.png?image=2&mode=heat",
        "/media/runs/abc/layers/conv_top/filters/1/overlay.png?image=7&mode=heat",
    ]
    cells = with_class(grid, "cell")
    assert [c.href for c in cells] == [
        "/runs/abc/layers/conv_top/filters/5?image=2",
        "/runs/abc/layers/conv_top/filters/1?image=7",
    ]
    assert cells[0].title == "filter 5 · peak 3.000 · P_f 0.900 (head) · D_f 0.100"
    assert [text(c) for c in cells] == ["#5 · P_f 0.90", "#1 · P_f 0.40"]
    parts = {
        text(p): p.href for p in with_class(grid, "pill") if p.id and p.id.startswith("grid-part")
    }
    assert parts["any"] == "/runs/abc?sort=part_score&desc=1&category=bird"
    assert parts["torso"] == "/runs/abc?sort=part_score&desc=1&part=torso&category=bird"
    assert by_id(grid, "grid-category-cat").className == "pill"
    assert by_id(grid, "grid-category-bird").className == "pill active"


def test_list_params_send_only_what_the_view_sets():
    assert list_params(urls.RunPage("abc")) == {"sort": "filter", "offset": 0, "limit": SHEET_LIMIT}


def test_grid_addresses_round_trip():
    view = urls.RunPage("abc", "conv_top", "instability", True, 0.5, "head", "bird", 128)
    assert view.url() == (
        "/runs/abc?layer=conv_top&sort=instability&desc=1&min_peak=0.5&part=head"
        "&category=bird&offset=128"
    )
    assert urls.parse(view.url()) == view
    assert urls.parse("/runs/abc?offset=-1") is None
    assert urls.parse("/runs/abc?part=a&part=b") is None
