"""Encoding and decoding of the values URLs carry: path segments, queries, indices, flags."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode

MEDIA_PREFIX = "/media"


def seg(value: str | int) -> str:
    """``value`` as one percent-encoded path segment (a ``/`` inside it is encoded too)."""
    return quote(str(value), safe="")


def with_query(path: str, query: dict[str, Any]) -> str:
    """``path`` with the query of the values of ``query`` that are not None."""
    given = {key: value for key, value in query.items() if value is not None}
    return f"{path}?{urlencode(given)}" if given else path


def index(value: Any, default: int | None = None) -> int | None:
    """``value`` as an index >= 0 (``default`` when it is None), None when it is no such number."""
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def flag(value: Any) -> bool | None:
    """A query flag: absent or ``0`` is False, ``1`` True; None for anything else."""
    if value is None or value == "0":
        return False
    return True if value == "1" else None


def threshold(value: Any) -> float | None:
    """A finite number from the query; None when it is no such number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def optional_threshold(value: Any) -> tuple[bool, float | None]:
    """(valid, number) of an optional numeric query value: absent or empty is (True, None)."""
    if value in (None, ""):
        return True, None
    number = threshold(value)
    return number is not None, number


def optional_name(value: Any) -> tuple[bool, str | None]:
    """(valid, name) of an optional text query value: absent or empty is (True, None); a
    repeated one (a list) is invalid."""
    if value in (None, ""):
        return True, None
    return isinstance(value, str), value if isinstance(value, str) else None


def segment(value: str | None) -> str | None:
    """A path value as Dash hands it over, decoded; None when empty or when it spans segments.

    Dash's template wildcard also matches ``/``: ``/runs/a/b`` gives the run page ``a/b``,
    an address of no view (a slash inside a value comes encoded, ``%2F``).
    """
    return unquote(value) if value and "/" not in value else None


def query_of(query_string: str) -> dict[str, Any]:
    """Query values as Dash passes them to a layout: one string, or a list when repeated."""
    parsed = parse_qs(query_string, keep_blank_values=True)
    return {key: values[0] if len(values) == 1 else values for key, values in parsed.items()}


def png_stem(name: str) -> str | None:
    """``name`` without its ``.png`` suffix; None when it names no PNG file."""
    stem = name.removesuffix(".png")
    return stem if stem and stem != name else None


def run_path(run_id: str) -> str:
    """The path of a run, in the UI and in the API alike."""
    return f"/runs/{seg(run_id)}"


def layer_path(run_id: str, layer: str) -> str:
    """The path of one layer of a run."""
    return f"{run_path(run_id)}/layers/{seg(layer)}"


def filter_path(run_id: str, layer: str, filter_index: int) -> str:
    """The path of one filter of a run's layer."""
    return f"{layer_path(run_id, layer)}/filters/{seg(filter_index)}"


def probe_path(probe_id: str) -> str:
    """The path of a probe (an uploaded image run through a run's model)."""
    return f"/probes/{seg(probe_id)}"


def dataset_path(name: str) -> str:
    """The path of a dataset."""
    return f"/datasets/{seg(name)}"
