"""Where a filter places its part: p(mu_hat) on every evaluation image it fires on, in the frame
of that image's object box, next to the landmarks' mean positions in the same frame.

Served from published artifacts only: the per-filter statistics (each image's max and its
argmax unit), metrics.json (the units' RF centres p(mu) and, multi-category, c_hat) and the
evaluated images' boxes and landmarks that the evaluation stores as ``annotations.npz``
(``partlens.evaluation.annotations``). The frame is the Fig. 6 heat maps'
(:func:`partlens.metrics.heatmaps.box_frame`), mirrored per image so that every object's head
lies on the left (:func:`partlens.metrics.heatmaps.facing_mirror`).
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Any

import numpy as np
from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from backend.api.deps import ArtifactsDep, PublishedRunDep
from backend.api.routes.filters import (
    ERRORS,
    FilterIndex,
    check_filter,
    manifest_path,
    published_manifest,
)
from backend.api.routes.metrics import load_metrics
from backend.core.caching import cached_response, json_body
from backend.schemas import FilterPositionsPublic, LandmarkPosition, PositionPoint
from partlens.evaluation.schema import LayerMetrics, RunMetrics
from partlens.metrics.heatmaps import box_frame, facing_mirror
from partlens.store import RunArtifacts

router = APIRouter(prefix="/runs/{run_id}", tags=["filters"])

FRAME = (
    "object box: x and y from 0 (left/top) to 1 (right/bottom), mirrored where needed so that "
    "the object's head is on the left"
)


def unit_positions(layer: LayerMetrics, units: np.ndarray) -> np.ndarray:
    """p(mu) (x, y in image pixels) of each flat unit index ``units`` (row * w + col) of the
    layer's maps: for each image's argmax unit, the inferred part p(mu_hat)."""
    centers = np.asarray(layer.geometry.unit_centers, dtype=np.float64)
    return centers.reshape(-1, 2)[np.asarray(units, dtype=np.int64)]


def annotations_file(artifacts: RunArtifacts, metrics: RunMetrics) -> FilePath:
    """The stored ``annotations.npz``; 409 when the run was evaluated before it was stored."""
    run_id = artifacts.root.name
    if metrics.annotation_arrays is None:
        raise HTTPException(
            status_code=409,
            detail=f"run {run_id!r} was evaluated before part positions were stored; "
            f"re-evaluate it with `partlens evaluate {run_id}`",
        )
    root = artifacts.root.resolve()
    path = (root / metrics.annotation_arrays).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise HTTPException(status_code=409, detail=f"{metrics.annotation_arrays} is missing")
    return path


def evaluated_layer(metrics: RunMetrics, layer: str, filters: int) -> LayerMetrics:
    """``layer``'s metrics; 409 when metrics.json lacks it or counts other filters."""
    evaluated = metrics.layers.get(layer)
    if evaluated is None or evaluated.num_filters != filters:
        raise HTTPException(
            status_code=409,
            detail=f"the evaluation of run {metrics.run_id!r} does not match its layer {layer!r}; "
            f"re-evaluate it with `partlens evaluate {metrics.run_id}`",
        )
    return evaluated


def filter_positions(
    artifacts: RunArtifacts, metrics: RunMetrics, layer: str, filter_index: int, path: FilePath
) -> FilterPositionsPublic:
    """The positions body of one filter (see :class:`FilterPositionsPublic`)."""
    stats = artifacts.filter_stats(layer)
    evaluated = evaluated_layer(metrics, layer, len(stats.peak))
    with np.load(path) as stored:
        arrays: dict[str, Any] = {name: stored[name] for name in stored.files}
    rows = _firing_rows(arrays, stats.image_max[filter_index], evaluated, filter_index)
    if not len(rows):  # a filter that never fires places no part
        return FilterPositionsPublic(frame=FRAME, points=[], landmarks=[])
    indices = arrays["indices"][rows]
    boxes = arrays["bboxes"][rows]
    names = [str(name) for name in arrays["landmark_names"]]
    mirror = facing_mirror(arrays["landmarks"][rows], boxes, names)
    units = stats.image_argmax[filter_index, indices]
    points = box_frame(unit_positions(evaluated, units), boxes, mirror)
    scores = stats.image_max[filter_index, indices]
    placed = np.isfinite(points).all(axis=1)
    landmarks = box_frame(arrays["landmarks"][rows], boxes, mirror)[placed]
    means: list[LandmarkPosition] = []
    for k, name in enumerate(names):
        present = np.isfinite(landmarks[:, k]).all(axis=1)
        # CUB lists head, back and tail twice (paper names and raw points): keep the first.
        if present.any() and name not in names[:k]:
            x, y = landmarks[present, k].mean(axis=0)
            means.append(LandmarkPosition(name=name, x=float(x), y=float(y)))
    return FilterPositionsPublic(
        frame=FRAME,
        points=[
            PositionPoint(image=int(i), x=float(p[0]), y=float(p[1]), score=float(s))
            for i, p, s in zip(indices[placed], points[placed], scores[placed], strict=True)
        ],
        landmarks=means,
    )


def _firing_rows(
    arrays: dict[str, Any], image_max: np.ndarray, layer: LayerMetrics, filter_index: int
) -> np.ndarray:
    """Rows of the evaluated images the filter fires on (max of x > 0), and multi-category
    only those of its target category c_hat: the images its inferred part is scored on."""
    fires = np.asarray(image_max, dtype=np.float64)[arrays["indices"]] > 0
    if layer.target_category is not None:
        names = [str(name) for name in arrays["category_names"]]
        target = layer.target_category[filter_index]
        own = names.index(target) if target in names else -1
        fires &= arrays["categories"] == own
    return np.flatnonzero(fires)


@router.get(
    "/layers/{layer}/filters/{filter_index}/positions",
    response_model=FilterPositionsPublic,
    responses={
        **ERRORS,
        409: {"description": "Not published or not evaluated yet, or evaluated before positions."},
    },
)
async def positions(
    run: PublishedRunDep,
    artifacts: ArtifactsDep,
    request: Request,
    layer: str,
    filter_index: FilterIndex,
) -> Response:
    """The filter's inferred part p(mu_hat) (its max's unit RF centre) on every evaluation
    image it fires on (max of x > 0; multi-category runs: images of its target category), each
    in the frame of its image's object box with the filter's max as score, and each
    landmark's mean position over those images in the same frame. 409 until the run is
    evaluated (and for runs evaluated before the boxes and landmarks were stored)."""
    check_filter(published_manifest(artifacts, run.id), layer, filter_index)
    metrics = await run_in_threadpool(load_metrics, artifacts, run.id)
    path = annotations_file(artifacts, metrics)

    def render() -> bytes:
        return json_body(filter_positions(artifacts, metrics, layer, filter_index, path))

    sources = [manifest_path(artifacts), artifacts.metrics_path, path]
    return await cached_response(request, artifacts, sources, render, media_type="application/json")
