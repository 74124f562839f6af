"""The per-filter table of a layer, sorted, filtered and paged on the server.

A row joins the published per-filter statistics (peak, mean, top image) with what
``metrics.json`` stores per filter once the run is evaluated (``partlens.evaluation.schema``):
the target category c_hat, P_f with its best part and D_f (``location_instability.per_filter``,
mean_k D_fk). Before evaluation those fields are None. The ETag covers the manifest and, when
present, metrics.json, so an evaluation or a republication gives new rows.

Runs on a dataset without part masks (CUB-200, ILSVRC Animal-Part) have no P_f: ``part_score``
and ``best_part`` are None in every row, and asking to sort by ``part_score`` or filter by
``part`` is a 422 whose message gives the reason (an order or filter that cannot mean
anything), rather than a silent filter order.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from backend.api.deps import ArtifactsDep, PublishedRunDep
from backend.api.routes.filters import (
    ERRORS,
    MAX_INDEX,
    check_layer,
    manifest_path,
    published_manifest,
)
from backend.api.routes.metrics import load_metrics
from backend.core.caching import cached_response, identity, json_body
from backend.schemas import ErrorMessage, FilterSummary
from partlens.evaluation.schema import RunMetrics
from partlens.store import RunArtifacts

router = APIRouter(prefix="/runs/{run_id}", tags=["filters"])

SortKey = Literal["filter", "peak", "mean", "part_score", "instability"]
TABLE_ERRORS = {
    **ERRORS,
    422: {"model": ErrorMessage, "description": "A bad parameter (named in the message)."},
}


@dataclass(frozen=True)
class TableQuery:
    """How to order, filter and page a layer's filters."""

    sort: SortKey
    desc: bool
    part: str | None
    category: str | None
    min_peak: float | None
    offset: int
    limit: int | None


def table_query(
    sort: Annotated[
        SortKey, Query(description="Order of the rows (ties: filter order).")
    ] = "filter",
    desc: Annotated[bool, Query(description="Descending order.")] = False,
    part: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="Only filters whose best part is this."),
    ] = None,
    category: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="Only filters of this target category."),
    ] = None,
    min_peak: Annotated[
        float | None,
        Query(ge=-1e30, le=1e30, description="Only filters whose peak is at least this."),
    ] = None,
    offset: Annotated[
        int, Query(ge=0, le=MAX_INDEX, description="First row (after filtering).")
    ] = 0,
    limit: Annotated[
        int | None, Query(ge=1, le=100_000, description="Rows (default: all).")
    ] = None,
) -> TableQuery:
    """The validated table parameters (422 naming the one at fault)."""
    return TableQuery(sort, desc, part, category, min_peak, offset, limit)


TableDep = Annotated[TableQuery, Depends(table_query)]


def filter_rows(
    artifacts: RunArtifacts, layer: str, metrics: RunMetrics | None
) -> list[FilterSummary]:
    """Every filter of ``layer`` in filter order, with its evaluation fields when evaluated."""
    stats = artifacts.filter_stats(layer)
    count = len(stats.peak)
    evaluated = metrics.layers.get(layer) if metrics is not None else None
    if evaluated is not None and evaluated.num_filters != count:
        evaluated = None  # metrics of another publication: its rows would be misaligned
    # Single-category runs have one c_hat for every filter: the run's category.
    targets: list[str | None] | None = None
    if evaluated is not None and metrics is not None:
        if evaluated.target_category is not None:
            targets = list(evaluated.target_category)
        else:
            targets = [metrics.category] * count
    rows = []
    for f in range(count):
        row = FilterSummary(
            filter=f,
            top_image=int(stats.argmax_image[f]),
            peak=float(stats.peak[f]),
            argmax=[int(stats.argmax_unit[f, 0]), int(stats.argmax_unit[f, 1])],
            mean=float(stats.mean[f]),
            mean_max=float(stats.mean_max[f]),
        )
        if evaluated is not None and targets is not None:
            row.target_category = targets[f]
            parts = evaluated.part_interpretability
            if parts is not None:
                row.part_score = parts.per_filter[f]
                row.best_part = parts.best_part[f]
            row.instability = evaluated.location_instability.per_filter[f]
        rows.append(row)
    return rows


def _check_evaluated(query: TableQuery, metrics: RunMetrics | None, layer: str) -> None:
    """409 when a part or category filter is asked of a run that is not evaluated yet; 422
    when a part filter or the P_f order is asked of a run without part interpretability."""
    reason = metrics.part_interpretability_absent if metrics is not None else None
    if reason is not None:
        asked = [("part", query.part is not None), ("sort", query.sort == "part_score")]
        problems = [
            {"loc": ["query", name], "msg": f"no part scores: {reason}", "type": "value_error"}
            for name, given in asked
            if given
        ]
        if problems:
            raise HTTPException(status_code=422, detail=problems)
    if query.part is None and query.category is None:
        return
    if metrics is None or layer not in metrics.layers:
        raise HTTPException(
            status_code=409, detail="part and category filters need the run to be evaluated"
        )


def ordered(rows: list[FilterSummary], query: TableQuery) -> list[FilterSummary]:
    """The rows that pass the filters, in the order of ``query.sort`` (undefined values last,
    in either direction). A part or category the run does not have matches no filter."""
    kept = [
        row
        for row in rows
        if (query.part is None or row.best_part == query.part)
        and (query.category is None or row.target_category == query.category)
        and (query.min_peak is None or row.peak >= query.min_peak)
    ]
    if query.sort == "filter":
        return kept[::-1] if query.desc else kept
    defined = [row for row in kept if getattr(row, query.sort) is not None]
    undefined = [row for row in kept if getattr(row, query.sort) is None]
    # Stable sorts: ties keep filter order in both directions.
    defined.sort(
        key=lambda row: -getattr(row, query.sort) if query.desc else getattr(row, query.sort)
    )
    return defined + undefined


def _metrics_or_none(artifacts: RunArtifacts, run_id: str) -> RunMetrics | None:
    return load_metrics(artifacts, run_id) if artifacts.metrics_path.is_file() else None


@router.get(
    "/layers/{layer}/filters",
    response_model=list[FilterSummary],
    responses={
        200: {
            "headers": {
                "X-Total-Count": {
                    "description": "Rows after filtering, before paging.",
                    "schema": {"type": "integer"},
                }
            }
        },
        **TABLE_ERRORS,
    },
)
async def layer_filters(
    run: PublishedRunDep, artifacts: ArtifactsDep, request: Request, layer: str, query: TableDep
) -> Response:
    """Every filter of ``layer``: its top image, peak and mean, and once the run is evaluated
    its target category, P_f with the best part and D_f; sorted by ``sort``, filtered by
    ``part``, ``category`` and ``min_peak``, paged by ``offset`` / ``limit``. The number of
    rows before paging is in ``X-Total-Count``."""
    check_layer(published_manifest(artifacts, run.id), layer)
    sources = [manifest_path(artifacts)]
    if artifacts.metrics_path.is_file():
        sources.append(artifacts.metrics_path)
    try:
        key = (str(artifacts.root), layer, query, *(identity(path) for path in sources))
    except FileNotFoundError:  # republished or deleted between the two stats: ask again
        raise HTTPException(status_code=409, detail="the run changed; retry") from None
    page = _PAGES.get(key)
    if page is None:
        page = await run_in_threadpool(_page, artifacts, run.id, layer, query)
        _PAGES.put(key, page)
    body, total = page
    response = await cached_response(
        request, artifacts, sources, lambda: body, media_type="application/json"
    )
    response.headers["X-Total-Count"] = str(total)
    return response


def _page(artifacts: RunArtifacts, run_id: str, layer: str, query: TableQuery) -> tuple[bytes, int]:
    """The JSON body of one page of the table and the number of rows before paging."""
    metrics = _metrics_or_none(artifacts, run_id)
    _check_evaluated(query, metrics, layer)
    rows = ordered(filter_rows(artifacts, layer, metrics), query)
    end = None if query.limit is None else query.offset + query.limit
    return json_body(rows[query.offset : end]), len(rows)


class _PageCache:
    """Pages by (run folder, layer, query, identities of the files they derive from): a
    repeated request neither joins nor sorts again, and the total comes with the body."""

    def __init__(self, max_pages: int = 256) -> None:
        self.max_pages = max_pages
        self._pages: OrderedDict[tuple, tuple[bytes, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> tuple[bytes, int] | None:
        with self._lock:
            return self._pages.get(key)

    def put(self, key: tuple, page: tuple[bytes, int]) -> None:
        with self._lock:
            self._pages[key] = page
            while len(self._pages) > self.max_pages:
                self._pages.popitem(last=False)


_PAGES = _PageCache()
