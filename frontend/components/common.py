"""Small pieces of layout shared by several pages."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dash import dcc, html

from frontend import urls

NO_VALUE = "\N{EN DASH}"


def fmt(value: float | None, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals; a dash when there is no value."""
    return NO_VALUE if value is None else f"{value:.{digits}f}"


def fmt_duration(seconds: float | None) -> str:
    """``seconds`` as ``1 h 02 min``, ``3 min 05 s`` or ``12.3 s``; a dash when none."""
    if seconds is None:
        return NO_VALUE
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def fmt_or_blank(value: float | None, digits: int) -> str:
    """``value`` with ``digits`` decimals; empty when there is no value."""
    return "" if value is None else f"{value:.{digits}f}"


def run_kind(run: dict[str, Any]) -> str:
    """``interpretable`` or ``ordinary``: the kind of network a run trains."""
    return "interpretable" if run["config"]["interpretable"] else "ordinary"


def error_box(message: str, id: str | None = None) -> html.Div:
    """A message saying what went wrong, styled as an error."""
    if id is None:
        return html.Div(message, className="error")
    return html.Div(message, className="error", id=id)


def progress_bar(run: dict[str, Any]) -> html.Div:
    """A bar with the run's training progress and its current stage."""
    share = 1.0 if run["status"] == "succeeded" else float(run["progress"] or 0.0)
    return html.Div(
        [
            html.Div(className="bar-fill", style={"width": f"{100 * share:.0f}%"}),
            html.Span(f"{run['stage']} {100 * share:.0f}%", className="bar-label"),
        ],
        className="bar",
    )


def not_found(message: str) -> html.Div:
    """The page for an address that names nothing: why, and the way back to the runs."""
    return html.Div(
        [
            html.H2("Not found"),
            html.P(message, className="error"),
            dcc.Link("\N{LEFTWARDS ARROW} back to the runs", href=urls.RunsPage().url()),
        ],
        id="not-found",
        className="not-found",
    )


def option_pills(
    page: urls.RunsPage | urls.RunPage | urls.DatasetPage,
    label: str,
    options: dict[Any, str],
    current: Any,
    name: str,
    id_prefix: str,
) -> html.Div:
    """A row of links, each the page with ``name`` set to one option (offset back to 0); the
    current option is marked active. Link ids: ``<id_prefix>-<name>-<value or "any">``."""

    def choose(value: Any) -> str:
        change: dict[str, Any] = {name: value, "offset": 0}
        return replace(page, **change).url()

    links = [
        dcc.Link(
            text,
            href=choose(value),
            className="pill active" if value == current else "pill",
            id=f"{id_prefix}-{name}-{value if value is not None else 'any'}",
        )
        for value, text in options.items()
    ]
    return html.Div([html.Span(label, className="muted"), *links], className="pills")


def offset_pager(
    page: urls.RunsPage | urls.RunPage | urls.DatasetPage,
    shown: int,
    total: int,
    *,
    size: int,
    noun: str,
    id_prefix: str,
) -> html.Div:
    """Where this page (``shown`` of ``total`` items from ``page.offset``) lies, with links to
    the pages of ``size`` around it. Ids: ``<id_prefix>-prev``, ``-count``, ``-next``."""
    first, last = page.offset + 1, page.offset + shown
    links: list[Any] = []
    if page.offset > 0:
        back = replace(page, offset=max(0, page.offset - size)).url()
        links.append(dcc.Link("< previous", href=back, className="pill", id=f"{id_prefix}-prev"))
    label = f"{noun} {first} to {last} of {total}" if shown else f"no {noun} of {total}"
    links.append(html.Span(label, className="muted", id=f"{id_prefix}-count"))
    if last < total:
        ahead = replace(page, offset=page.offset + size).url()
        links.append(dcc.Link("next >", href=ahead, className="pill", id=f"{id_prefix}-next"))
    return html.Div(links, className="pills pager")


def part_metrics(metrics: dict[str, Any], layer: str) -> dict[str, Any] | None:
    """``layer``'s part interpretability in ``metrics``; None when the run has none (a dataset
    without part masks: :func:`absent_reason` says why) or no such layer."""
    entry = metrics.get("layers", {}).get(layer) or {}
    return entry.get("part_interpretability") or None


def absent_reason(metrics: dict[str, Any]) -> str:
    """Why ``metrics`` has no part interpretability, as the API says (a fallback otherwise)."""
    return str(metrics.get("part_interpretability_absent") or "not measured for this run")


def absent_note(metrics: dict[str, Any], what: str, id: str | None = None) -> html.P:
    """In place of ``what`` (a chart or figure of part interpretability): a dash and why."""
    note = f"{what}: {NO_VALUE} ({absent_reason(metrics)})"
    return (
        html.P(note, className="muted absent")
        if id is None
        else html.P(note, className="muted absent", id=id)
    )


def lazy_section(id: str, placeholder: str, min_height_px: int) -> list[Any]:
    """A section drawn when it scrolls into view (``assets/lazy.js``): until then, the muted
    ``placeholder`` in a box of its final height (the page does not jump). ``<id>-seen`` turns
    true then; a callback on it fills ``id``'s children."""
    watched: dict[str, Any] = {"data-lazy-store": f"{id}-seen"}  # what lazy.js looks for
    # The placeholder holds the height: what replaces it takes its own.
    waiting = html.P(
        placeholder,
        className="muted lazy-placeholder",
        style={"minHeight": f"{min_height_px}px"},
    )
    box = html.Div(waiting, id=id, className="lazy", **watched)
    return [box, dcc.Store(id=f"{id}-seen", data=False)]
