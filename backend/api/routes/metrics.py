"""Evaluation results of a run: metric tables, the twin comparison, Fig. 6 heat maps."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Response

from backend.api.deps import ArtifactsDep, RunDep, SessionDep, SettingsDep
from partlens.store import Run, RunArtifacts

router = APIRouter(prefix="/runs/{run_id}", tags=["metrics"])

SUMMARY_METRICS = (
    ("location_instability", "lower is better"),
    ("part_interpretability", "higher is better"),
)


def run_metrics(artifacts: RunArtifacts, run_id: str) -> dict[str, Any]:
    """A run's ``metrics.json``; 409 while the run has not been evaluated."""
    metrics = artifacts.metrics()
    if metrics is None:
        raise HTTPException(status_code=409, detail=f"run {run_id!r} is not evaluated yet")
    return metrics


def summary(metrics: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of one run: accuracy and each layer's metric means."""
    layers = {
        name: {
            key: layer[key]["mean"]
            for key, _ in SUMMARY_METRICS
            if key in layer and layer[key].get("mean") is not None
        }
        | {
            "random_reference": layer.get("location_instability", {}).get("random_reference"),
            "oracle_reference": layer.get("location_instability", {}).get("oracle_reference"),
        }
        for name, layer in metrics["layers"].items()
    }
    return {
        "accuracy": metrics.get("accuracy"),
        "top_layer": metrics.get("top_layer"),
        "layers": layers,
    }


@router.get("/metrics")
def get_metrics(run: RunDep, artifacts: ArtifactsDep) -> dict[str, Any]:
    """Every metric of the run's interpretable layers (schema: docs/interfaces.md)."""
    return run_metrics(artifacts, run.id)


@router.get("/comparison")
def comparison(
    run: RunDep, artifacts: ArtifactsDep, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    """The run next to its twin: headline metrics of both and interpretable/ordinary ratios."""
    if run.twin_id is None:
        raise HTTPException(status_code=404, detail=f"run {run.id!r} has no twin")
    twin = session.get(Run, run.twin_id)
    if twin is None:
        raise HTTPException(status_code=404, detail=f"twin {run.twin_id!r} not found")
    mine = summary(run_metrics(artifacts, run.id))
    theirs = summary(run_metrics(RunArtifacts(settings.runs_dir, twin.id), twin.id))
    pair = {
        ("interpretable" if r.config["interpretable"] else "ordinary"): (r, s)
        for r, s in ((run, mine), (twin, theirs))
    }
    if len(pair) != 2:
        raise HTTPException(status_code=409, detail="a run and its twin must differ in kind")
    ratios: dict[str, dict[str, float | None]] = {}
    interp, ordinary = pair["interpretable"][1], pair["ordinary"][1]
    for layer, values in interp["layers"].items():
        ratios[layer] = {}
        for key, _ in SUMMARY_METRICS:
            a, b = values.get(key), ordinary["layers"].get(layer, {}).get(key)
            ratios[layer][key] = a / b if a is not None and b else None
    return {kind: {"run_id": r.id, "name": r.name, **s} for kind, (r, s) in pair.items()} | {
        "ratios": ratios,
        "directions": dict(SUMMARY_METRICS),
    }


@router.get(
    "/heatmaps/{category}.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def heatmap_png(
    run: RunDep, artifacts: ArtifactsDep, category: Annotated[str, Path(min_length=1)]
) -> Response:
    """The Fig. 6 part heat map of ``category`` for the run's top interpretable layer."""
    heatmaps = run_metrics(artifacts, run.id).get("heatmaps", {})
    if category not in heatmaps:
        known = ", ".join(heatmaps) or "none"
        raise HTTPException(
            status_code=404, detail=f"no heat map for category {category!r}; available: {known}"
        )
    return Response((artifacts.root / heatmaps[category]).read_bytes(), media_type="image/png")
