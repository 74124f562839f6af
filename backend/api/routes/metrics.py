"""Evaluation results of a run: metric tables, the twin comparison, Fig. 6 heat maps.

Every route reads ``metrics.json`` through :func:`partlens.evaluation.schema.load_run_metrics`:
409 while the run is not evaluated, 409 with the re-evaluate instruction when its metrics are
of an older schema.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Response

from backend.api.deps import ArtifactsDep, RunDep, SessionDep, SettingsDep
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
    409: {"description": "The run is not evaluated yet, or its metrics.json is stale."}
}


def load_metrics(artifacts: RunArtifacts, run_id: str) -> RunMetrics:
    """A run's ``metrics.json`` as RunMetrics; 409 while not evaluated or when stale."""
    try:
        return load_run_metrics(artifacts.metrics_path)
    except FileNotFoundError:
        raise HTTPException(
            status_code=409, detail=f"run {run_id!r} is not evaluated yet"
        ) from None
    except StaleMetricsError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc


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
def get_metrics(run: RunDep, artifacts: ArtifactsDep) -> RunMetrics:
    """Every metric of the run's interpretable layers (schema: docs/interfaces.md)."""
    return load_metrics(artifacts, run.id)


@router.get("/comparison", response_model=Comparison, responses=STALE_RESPONSE)
def comparison(
    run: RunDep, artifacts: ArtifactsDep, session: SessionDep, settings: SettingsDep
) -> Comparison:
    """The run next to its twin: headline metrics of both and interpretable/ordinary ratios."""
    if run.twin_id is None:
        raise HTTPException(status_code=404, detail=f"run {run.id!r} has no twin")
    twin = session.get(Run, run.twin_id)
    if twin is None:
        raise HTTPException(status_code=404, detail=f"twin {run.twin_id!r} not found")
    pair = {
        ("interpretable" if r.config["interpretable"] else "ordinary"): (r, m)
        for r, m in (
            (run, load_metrics(artifacts, run.id)),
            (twin, load_metrics(RunArtifacts(settings.runs_dir, twin.id), twin.id)),
        )
    }
    if len(pair) != 2:
        raise HTTPException(status_code=409, detail="a run and its twin must differ in kind")
    (interp_run, interp), (ordinary_run, ordinary) = pair["interpretable"], pair["ordinary"]
    return Comparison(
        interpretable=summary(interp_run, interp),
        ordinary=summary(ordinary_run, ordinary),
        ratios=layer_ratios(interp, ordinary),
        accuracy_difference_points=difference_points(interp.accuracy, ordinary.accuracy),
        directions=METRIC_DIRECTIONS,
    )


@router.get(
    "/heatmaps/{category}.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **STALE_RESPONSE},
)
def heatmap_png(
    run: RunDep, artifacts: ArtifactsDep, category: Annotated[str, Path(min_length=1)]
) -> Response:
    """The Fig. 6 part heat map of ``category`` for the run's top interpretable layer."""
    heatmaps = load_metrics(artifacts, run.id).heatmaps
    if category not in heatmaps:
        known = ", ".join(heatmaps) or "none"
        raise HTTPException(
            status_code=404, detail=f"no heat map for category {category!r}; available: {known}"
        )
    return Response((artifacts.root / heatmaps[category]).read_bytes(), media_type="image/png")
