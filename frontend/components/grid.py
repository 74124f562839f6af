"""A layer's filter grid on the run page: one contact sheet (or one tile per filter when the
order or filter is one the sheet does not draw), with sort, filter and paging links.

Every control is a link to the same view with one value changed, so the address bar holds the
grid's whole state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, NamedTuple

from dash import dcc, html

from frontend import urls
from frontend.components.common import NO_VALUE, fmt, offset_pager, option_pills

SORT_LABELS: dict[urls.Sort, str] = {
    "filter": "filter index",
    "peak": "peak",
    "mean": "mean activation",
    "part_score": "P_f",
    "instability": "D_f",
}
# The value each order shows on a tile (none for the filter index), and the direction a
# first click on it asks for: the best first (a lower D_f is better).
SORT_VALUES: dict[urls.Sort, tuple[str, str]] = {
    "peak": ("peak", "peak"),
    "mean": ("mean", "mean"),
    "part_score": ("part_score", "P_f"),
    "instability": ("instability", "D_f"),
}
FIRST_DESCENDING: dict[urls.Sort, bool] = {
    "filter": False,
    "peak": True,
    "mean": True,
    "part_score": True,
    "instability": False,
}
SHEET_COLUMNS = 10  # 10 tiles of 96 px fit the page's content width at 1200 px
SHEET_TILE = 96
SHEET_LIMIT = 512  # the API's largest sheet: a 512-filter layer appears at once
TILE_LIMIT = 128  # one image per tile: a page stays quick to load


class LayerPage(NamedTuple):
    """A page of a layer's filters as the API lists them (in the page's order and filter)."""

    items: list[dict[str, Any]]
    total: int


def shown_layer(layers: list[str], wanted: str | None) -> str:
    """The layer the grid shows: ``wanted`` if the run has it, else the top one."""
    # The top interpretable layer is the one the paper evaluates.
    return wanted if wanted in layers else layers[-1]


def uses_sheet(page: urls.RunPage) -> bool:
    """Whether the contact sheet draws the page's grid: an order it knows and no filter."""
    return page.sort in urls.SHEET_SORTS and page.part is None and page.category is None


def page_size(page: urls.RunPage) -> int:
    """How many filters one page of the grid shows."""
    return SHEET_LIMIT if uses_sheet(page) else TILE_LIMIT


def list_params(page: urls.RunPage) -> dict[str, Any]:
    """The query of ``GET .../filters`` for the page's order, filter and page."""
    query: dict[str, Any] = {"sort": page.sort, "offset": page.offset, "limit": page_size(page)}
    query |= {"desc": 1} if page.desc else {}
    return query | {
        key: value for key, value in (("part", page.part), ("category", page.category)) if value
    }


def sheet_of(page: urls.RunPage, layer: str, total: int) -> urls.SheetImage:
    """The contact sheet of the page's filters of ``layer``, in the page's order."""
    limit = max(1, min(total - page.offset, SHEET_LIMIT))
    sort = page.sort if page.sort in urls.SHEET_SORTS else "filter"
    return urls.SheetImage(
        page.run_id, layer, sort, page.desc, limit, SHEET_COLUMNS, SHEET_TILE, page.offset
    )


def layer_tabs(page: urls.RunPage, layers: list[str], active: str) -> html.Div:
    """One link per layer of the run (keeping the sort); the shown one marked active."""
    return option_pills(page, "layer", {name: name for name in layers}, active, "layer", "grid")


def _sort_link(page: urls.RunPage, key: urls.Sort, absent: str | None) -> Any:
    """The link ordering the grid by ``key``; by P_f when the run has none: a dash and why."""
    label = SORT_LABELS[key]
    if key == "part_score" and absent is not None:
        return html.Span(
            f"{label} {NO_VALUE}", className="pill absent", title=absent, id=f"grid-sort-{key}"
        )
    desc = page.desc if key == page.sort else FIRST_DESCENDING[key]
    return dcc.Link(
        label,
        href=replace(page, sort=key, desc=desc, offset=0).url(),
        className="pill active" if key == page.sort else "pill",
        id=f"grid-sort-{key}",
    )


def sort_controls(page: urls.RunPage, absent: str | None = None) -> html.Div:
    """Links choosing the grid's order and direction, and its min-peak threshold; ``absent``:
    why the run has no P_f to order by (None: it has)."""
    order = [_sort_link(page, key, absent) for key in SORT_LABELS]
    direction = "descending" if page.desc else "ascending"
    flip = replace(page, desc=not page.desc, offset=0).url()
    return html.Div(
        [
            html.Span("sort by", className="muted"),
            *order,
            dcc.Link(f"{direction} (flip)", href=flip, className="pill", id="grid-direction"),
            html.Label(
                [
                    "grey out peak below ",
                    dcc.Input(
                        id="grid-min-peak",
                        type="number",
                        value=page.min_peak,
                        debounce=True,
                        step="any",
                        placeholder="none",
                    ),
                ],
                className="threshold",
            ),
        ],
        className="pills sort",
    )


def filter_controls(page: urls.RunPage, parts: list[str], categories: list[str]) -> list[html.Div]:
    """Links keeping only the filters whose best part (and target category) is one value."""
    rows = []
    if parts:
        options: dict[Any, str] = {None: "any"} | {part: part for part in parts}
        rows.append(option_pills(page, "best part", options, page.part, "part", "grid"))
    if len(categories) > 1:
        options = {None: "any"} | {category: category for category in categories}
        rows.append(
            option_pills(page, "target category", options, page.category, "category", "grid")
        )
    return rows


def absent_line(reason: str) -> html.P:
    """Why the grid offers no order by P_f and no best-part filter."""
    return html.P(
        f"P_f and best part: {NO_VALUE} ({reason})", className="muted absent", id="grid-absent"
    )


def pager(page: urls.RunPage, shown: int, total: int) -> html.Div:
    """Where this page lies among the layer's filters, with links to the pages around it."""
    return offset_pager(page, shown, total, size=page_size(page), noun="filters", id_prefix="grid")


def _title(item: dict[str, Any] | None, f: int) -> str:
    """A tile's tooltip: the filter's figures the API lists."""
    if item is None:
        return f"filter {f}"
    facts = [f"filter {f}", f"peak {fmt(item.get('peak'))}"]
    if item.get("part_score") is not None:
        facts.append(f"P_f {fmt(item['part_score'])} ({item.get('best_part') or 'no part'})")
    if item.get("instability") is not None:
        facts.append(f"D_f {fmt(item['instability'])}")
    return " · ".join(facts)


def tile_label(page: urls.RunPage, item: dict[str, Any] | None, f: int) -> str:
    """A tile's label: ``#f``, and the value the grid is sorted by (``#12 · P_f 0.62``)."""
    shown = SORT_VALUES.get(page.sort)
    if shown is None or item is None or item.get(shown[0]) is None:
        return f"#{f}"
    key, label = shown
    return f"#{f} · {label} {item[key]:.2f}"


def _dimmed(page: urls.RunPage, item: dict[str, Any] | None) -> bool:
    return page.min_peak is not None and item is not None and item["peak"] < page.min_peak


class Tile(NamedTuple):
    """What a contact sheet's tile links to and says."""

    href: str
    title: str  # its tooltip
    dimmed: bool
    label: str


def contact_sheet(
    image_url: str,
    sheet: dict[str, Any],
    link: Callable[[int], Tile],
    alt: str,
) -> html.Div:
    """A contact-sheet image with a transparent link over each tile: ``sheet`` is its
    sheet.json, ``link(f)`` gives the :class:`Tile` of filter ``f``."""
    side, columns = sheet["tile"], sheet["columns"]
    links = []
    for position, f in enumerate(sheet["filters"]):
        row, col = divmod(position, columns)
        href, title, dimmed, label = link(f)
        style = {"left": f"{col * side}px", "top": f"{row * side}px"}
        links.append(
            dcc.Link(
                html.Span(label, className="tile-label"),
                href=href,
                className="cell dimmed" if dimmed else "cell",
                style=style | {"width": f"{side}px", "height": f"{side}px"},
                title=title,
            )
        )
    size = {"width": f"{columns * side}px", "height": f"{sheet['rows'] * side}px"}
    picture = html.Img(src=image_url, className="sheet-image", alt=alt)
    return html.Div([picture, *links], className="grid sheet", style=size)


def sheet_tiles(
    page: urls.RunPage, layer: str, listed: LayerPage, sheet: dict[str, Any]
) -> html.Div:
    """The layer's contact sheet, each tile linking to its filter on its best image."""
    summary = {item["filter"]: item for item in listed.items}

    def link(f: int) -> Tile:
        item = summary.get(f)
        view = urls.FilterPage(page.run_id, layer, f, item["top_image"] if item else 0)
        return Tile(view.url(), _title(item, f), _dimmed(page, item), tile_label(page, item, f))

    image = sheet_of(page, layer, listed.total)
    return contact_sheet(image.url(), sheet, link, f"filters of {layer}")


def image_tiles(page: urls.RunPage, layer: str, items: list[dict[str, Any]]) -> html.Div:
    """One overlay image per filter of the page, each linking to its filter view."""
    cells = []
    for item in items:
        f = item["filter"]
        view = urls.FilterPage(page.run_id, layer, f, item["top_image"])
        cells.append(
            dcc.Link(
                [
                    html.Img(src=view.overlay_image().url(), alt=f"filter {f}"),
                    html.Span(tile_label(page, item, f), className="tile-label"),
                ],
                href=view.url(),
                className="cell tile dimmed" if _dimmed(page, item) else "cell tile",
                title=_title(item, f),
            )
        )
    return html.Div(cells, className="grid tiles")


def filter_grid(
    page: urls.RunPage,
    layers: list[str],
    layer: str,
    listed: LayerPage,
    sheet: dict[str, Any] | None,
    choices: tuple[list[str], list[str]] = ([], []),
    absent: str | None = None,
) -> html.Div:
    """The layer's grid: tabs, order and filter links, the pager and the tiles.

    ``listed`` is the API's page of the layer's filters; ``sheet`` the sheet.json of the
    contact sheet (None: the tiles are images of their own); ``choices`` the (parts,
    categories) the filter links offer; ``absent`` why the run has no P_f and best parts
    (None: it has them).
    """
    shown = len(sheet["filters"]) if sheet is not None else len(listed.items)
    children: list[Any] = [
        html.H3(f"Filters of {layer}"),
        layer_tabs(page, layers, layer),
        sort_controls(page, absent),
        *filter_controls(page, *choices),
        *([] if absent is None else [absent_line(absent)]),
        pager(page, shown, listed.total),
    ]
    if page.min_peak is not None:
        kept = sum(1 for item in listed.items if item["peak"] >= page.min_peak)
        children.append(
            html.P(
                f"{kept} of these with peak ≥ {page.min_peak:g}", className="muted", id="grid-kept"
            )
        )
    tiles = (
        sheet_tiles(page, layer, listed, sheet)
        if sheet is not None
        else image_tiles(page, layer, listed.items)
    )
    return html.Div([*children, tiles])
