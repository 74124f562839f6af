"""The Fig. 6 heat maps of a run as data: the categories that have one, each map's arrays (JSON)
and its average object image (PNG), from the ``heatmaps/<stem>.npz`` that
``partlens.evaluation.run`` publishes with metrics.json. ``heatmaps/{category}.png`` (the
rendered figure) is in ``backend.api.routes.metrics``.
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

import numpy as np
from fastapi import APIRouter, HTTPException, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from backend.api.deps import ArtifactsDep, PublishedRunDep
from backend.api.routes.metrics import STALE_RESPONSE, load_metrics
from backend.core.caching import cached_response, json_body
from backend.rendering import png_bytes
from backend.schemas import HeatmapArrays, HeatmapIndex
from partlens.store import RunArtifacts

router = APIRouter(prefix="/runs/{run_id}/heatmaps", tags=["metrics"])
Category = Annotated[str, Path(min_length=1, max_length=200, description="A heat-map category")]


def heatmap_file(artifacts: RunArtifacts, run_id: str, category: str) -> FilePath:
    """The stored ``.npz`` of ``category``: 404 when the run has no heat map of it, 409 when
    metrics.json names a file that is missing (or lies outside the run)."""
    arrays = load_metrics(artifacts, run_id).heatmap_arrays
    if category not in arrays:
        known = ", ".join(arrays) or "none"
        raise HTTPException(
            status_code=404, detail=f"no heat map for category {category!r}; available: {known}"
        )
    root = artifacts.root.resolve()
    path = (root / arrays[category]).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise HTTPException(status_code=409, detail=f"heat map {arrays[category]} is missing")
    return path


def read_arrays(path: FilePath) -> dict[str, np.ndarray]:
    """heat [G, G] (row = y), mean_image [G, G, 3] uint8, points and images of one heat map."""
    with np.load(path) as stored:
        return {name: stored[name] for name in ("heat", "mean_image", "points", "images")}


@router.get("", response_model=HeatmapIndex, responses=STALE_RESPONSE)
async def heatmaps(run: PublishedRunDep, artifacts: ArtifactsDep, request: Request) -> Response:
    """The categories with a Fig. 6 heat map (``{category}.png``, ``.json``, ``/mean.png``)."""
    metrics = await run_in_threadpool(load_metrics, artifacts, run.id)

    def render() -> bytes:
        return json_body(
            HeatmapIndex(
                run_id=run.id, layer=metrics.top_layer, categories=list(metrics.heatmap_arrays)
            )
        )

    return await cached_response(
        request, artifacts, [artifacts.metrics_path], render, media_type="application/json"
    )


@router.get("/{category}.json", response_model=HeatmapArrays, responses=STALE_RESPONSE)
async def heatmap_json(
    run: PublishedRunDep, artifacts: ArtifactsDep, request: Request, category: Category
) -> Response:
    """The Fig. 6 heat map of ``category`` as numbers: the density of inferred part positions
    p(mu_hat) over the object box on a ``grid`` x ``grid`` raster (row = y), with how many
    positions and images it counts."""
    path = await run_in_threadpool(heatmap_file, artifacts, run.id, category)

    def render() -> bytes:
        arrays = read_arrays(path)
        heat = np.asarray(arrays["heat"], dtype=np.float64)
        return json_body(
            HeatmapArrays(
                category=category,
                grid=int(heat.shape[0]),
                heat=heat.round(6).tolist(),
                points=int(arrays["points"]),
                images=int(arrays["images"]),
            )
        )

    return await cached_response(
        request, artifacts, [artifacts.metrics_path, path], render, media_type="application/json"
    )


@router.get(
    "/{category}/mean.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **STALE_RESPONSE},
)
async def heatmap_mean_png(
    run: PublishedRunDep, artifacts: ArtifactsDep, request: Request, category: Category
) -> Response:
    """The average object image of ``category`` (the heat map's background), grid x grid."""
    path = await run_in_threadpool(heatmap_file, artifacts, run.id, category)

    def render() -> bytes:
        mean_image = np.asarray(read_arrays(path)["mean_image"])
        return png_bytes(np.clip(mean_image, 0, 255).astype(np.uint8))

    return await cached_response(
        request, artifacts, [artifacts.metrics_path, path], render, media_type="image/png"
    )
