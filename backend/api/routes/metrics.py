"""Evaluation results of a run: metric tables, the twin comparison, Fig. 6 heat maps.

Every route reads ``metrics.json`` through :func:`partlens.evaluation.schema.load_run_metrics`:
409 while the run is not evaluated, 409 with the re-evaluate instruction when its metrics are
of an older schema. A parsed file is kept per file identity, and responses carry immutable
ETags (``backend.core.caching``).
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from backend.api.deps import ArtifactsDep, PublishedRunDep, SessionDep, SettingsDep
from backend.core.caching import NOT_MODIFIED, cached_response, identity, json_body
from backend.schemas import Comparison, ComparisonSide, LayerSummary, RunMetrics
from partlens.evaluation.schema import StaleMetricsError, load_run_metrics
from partlens.reporting.comparison import (
    METRIC_DIRECTIONS,
    difference_points,
    layer_means,
    layer_ratios,
)
from partlens.store import Run, RunArtifacts

router = APIRouter(prefix="/runs/{run_id}", tags=["metrics"])

STALE_RESPONSE: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown run (or twin, or heat-map category)."},
    409: {"description": "The run is not evaluated yet, or its metrics.json is stale."},
    **NOT_MODIFIED,
}
JSON = "application/json"
CSV_COLUMNS = [
    "run_id",
    "name",
    "arch",
    "kind",
    "task",
    "category",
    "layer",
    "top_layer",
    "part_interpretability",
    "part_interpretability_oracle",
    "location_instability",
    "location_instability_random",
    "location_instability_oracle",
    "accuracy_percent",
]


def load_metrics(artifacts: RunArtifacts, run_id: str) -> RunMetrics:
    """A run's ``metrics.json`` as RunMetrics; 409 while not evaluated or when stale."""
    path = artifacts.metrics_path
    try:
        return _parsed_metrics(str(path), identity(path))
    except FileNotFoundError:
        raise HTTPException(
            status_code=409, detail=f"run {run_id!r} is not evaluated yet"
        ) from None
    except StaleMetricsError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc


@lru_cache(maxsize=32)
def _parsed_metrics(path: str, file_identity: str) -> RunMetrics:
    # Keyed by the file's identity: a re-evaluated run (a new inode) is parsed again.
    return load_run_metrics(FilePath(path))


def _require_evaluated(artifacts: RunArtifacts, run_id: str) -> None:
    # A cheap check on the event loop; parsing (and the stale-file 409) happens in the render.
    if not artifacts.metrics_path.is_file():
        load_metrics(artifacts, run_id)


def run_metrics(artifacts: RunArtifacts, run_id: str) -> dict[str, Any]:
    """`load_metrics` as the JSON object metrics.json holds (for dict-based readers)."""
    return load_metrics(artifacts, run_id).model_dump(mode="json")


def summary(run: Run, metrics: RunMetrics) -> ComparisonSide:
    """The headline numbers of one run: accuracy and each layer's metric means."""
    return ComparisonSide(
        run_id=run.id,
        name=run.name,
        accuracy=metrics.accuracy,
        top_layer=metrics.top_layer,
        layers={
            name: LayerSummary(
                **layer_means(layer),
                random_reference=layer.location_instability.random_reference,
                oracle_reference=layer.location_instability.oracle_reference,
            )
            for name, layer in metrics.layers.items()
        },
    )


@router.get("/metrics", response_model=RunMetrics, responses=STALE_RESPONSE)
async def get_metrics(run: PublishedRunDep, artifacts: ArtifactsDep, request: Request) -> Response:
    """Every metric of the run's interpretable layers (schema: docs/interfaces.md); on a
    dataset without part masks each layer's ``part_interpretability`` is null and
    ``part_interpretability_absent`` says why."""
    _require_evaluated(artifacts, run.id)
    return await cached_response(
        request,
        artifacts,
        [artifacts.metrics_path],
        lambda: json_body(load_metrics(artifacts, run.id)),  # stale: 409, nothing cached
        media_type=JSON,
    )


@router.get("/comparison", response_model=Comparison, responses=STALE_RESPONSE)
async def comparison(
    run: PublishedRunDep,
    artifacts: ArtifactsDep,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
) -> Response:
    """The run next to its twin: headline metrics of both and interpretable/ordinary ratios."""
    if run.twin_id is None:
        raise HTTPException(status_code=404, detail=f"run {run.id!r} has no twin")
    twin = await run_in_threadpool(session.get, Run, run.twin_id)
    if twin is None:
        raise HTTPException(status_code=404, detail=f"twin {run.twin_id!r} not found")
    twin_artifacts = RunArtifacts(settings.runs_dir, twin.id)
    _require_evaluated(artifacts, run.id)
    _require_evaluated(twin_artifacts, twin.id)
    pair = {
        ("interpretable" if r.config["interpretable"] else "ordinary"): (r, a)
        for r, a in ((run, artifacts), (twin, twin_artifacts))
    }
    if len(pair) != 2:
        raise HTTPException(status_code=409, detail="a run and its twin must differ in kind")
    (interp_run, interp_artifacts), (ordinary_run, ordinary_artifacts) = (
        pair["interpretable"],
        pair["ordinary"],
    )

    def render() -> bytes:
        interp = load_metrics(interp_artifacts, interp_run.id)
        ordinary = load_metrics(ordinary_artifacts, ordinary_run.id)
        return json_body(
            Comparison(
                interpretable=summary(interp_run, interp),
                ordinary=summary(ordinary_run, ordinary),
                ratios=layer_ratios(interp, ordinary),
                accuracy_difference_points=difference_points(interp.accuracy, ordinary.accuracy),
                directions=METRIC_DIRECTIONS,
            )
        )

    sources = [artifacts.metrics_path, twin_artifacts.metrics_path]
    return await cached_response(request, artifacts, sources, render, media_type=JSON)


@router.get(
    "/heatmaps/{category}.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **STALE_RESPONSE},
)
async def heatmap_png(
    run: PublishedRunDep,
    artifacts: ArtifactsDep,
    request: Request,
    category: Annotated[str, Path(min_length=1, max_length=200)],
) -> Response:
    """The Fig. 6 part heat map of ``category`` for the run's top interpretable layer."""
    heatmaps = (await run_in_threadpool(load_metrics, artifacts, run.id)).heatmaps
    if category not in heatmaps:
        known = ", ".join(heatmaps) or "none"
        raise HTTPException(
            status_code=404, detail=f"no heat map for category {category!r}; available: {known}"
        )
    path = artifacts.root / heatmaps[category]
    if not path.is_file():
        raise HTTPException(status_code=409, detail=f"heat map {heatmaps[category]} is missing")
    return await cached_response(
        request, artifacts, [artifacts.metrics_path, path], path.read_bytes, media_type="image/png"
    )


def table_rows(run: Run, metrics: RunMetrics) -> list[list[object]]:
    """One row per interpretable layer of a run: mean_f P_f, mean_f mean_k D_fk with their
    references and the accuracy (in %), as the paper's tables report them; the P_f cells are
    None for a run on a dataset without part masks."""
    accuracy = None if metrics.accuracy is None else round(100.0 * metrics.accuracy, 4)
    kind = "interpretable" if metrics.interpretable else "ordinary"
    category = metrics.category if metrics.task == "single" else f"multi ({metrics.multi_loss})"
    rows: list[list[object]] = []
    for name, layer in metrics.layers.items():
        parts, location = layer.part_interpretability, layer.location_instability
        rows.append(
            [
                run.id,
                run.name,
                metrics.arch,
                kind,
                metrics.task,
                category,
                name,
                name == metrics.top_layer,
                None if parts is None else parts.mean,
                None if parts is None else parts.oracle_reference,
                location.mean,
                location.random_reference,
                location.oracle_reference,
                accuracy,
            ]
        )
    return rows


def metrics_csv_body(pairs: list[tuple[Run, RunArtifacts]]) -> bytes:
    """The CSV of ``table_rows`` of each (run, artifacts) in order; undefined values are empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for run, artifacts in pairs:
        for row in table_rows(run, load_metrics(artifacts, run.id)):
            writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue().encode()


@router.get(
    "/metrics.csv",
    response_class=Response,
    responses={
        200: {
            "content": {"text/csv": {}},
            "headers": {"Content-Disposition": {"schema": {"type": "string"}}},
        },
        **STALE_RESPONSE,
    },
)
async def metrics_csv(
    run: PublishedRunDep,
    artifacts: ArtifactsDep,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
) -> Response:
    """The paper-style table rows of the run (and of its twin once evaluated) as a CSV
    download: one row per run and interpretable layer, columns ``CSV_COLUMNS``."""
    _require_evaluated(artifacts, run.id)
    pairs = [(run, artifacts)]
    if run.twin_id is not None:
        twin = await run_in_threadpool(session.get, Run, run.twin_id)
        twin_artifacts = RunArtifacts(settings.runs_dir, run.twin_id)
        if twin is not None and twin_artifacts.metrics_path.is_file():
            pairs.append((twin, twin_artifacts))
    response = await cached_response(
        request,
        artifacts,
        [a.metrics_path for _, a in pairs],
        lambda: metrics_csv_body(pairs),
        media_type="text/csv",
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{run.id}-metrics.csv"'
    return response
