"""Figures of a layer or a filter: the filter-grid contact sheet, the paper's Fig. 4 panel, the
raw map as ``.npy``.

Like every route derived from published artifacts they carry immutable ETags; the PNGs are
rendered once and then served from the run's disk cache (``backend.core.caching``).
"""

from __future__ import annotations

import io
import pathlib
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from backend.api.deps import ArtifactsDep, PublishedRunDep
from backend.api.routes.filters import (
    ERRORS,
    MAX_INDEX,
    PNG_ERRORS,
    FilterIndex,
    ImageIndex,
    assigned_mask,
    check_filter,
    check_image,
    check_layer,
    eval_image,
    filter_map,
    manifest_path,
    published_manifest,
    region_threshold,
)
from backend.api.routes.metrics import run_metrics
from backend.core.caching import cached_response, json_body
from backend.rendering import (
    contact_sheet,
    fig4_panel,
    overlay,
    png_bytes,
    resized,
    scaled_rf_overlay,
)
from backend.schemas import ContactSheet
from partlens.store import RunArtifacts
from partlens.store.features_manifest import FeaturesManifest

router = APIRouter(prefix="/runs/{run_id}/layers/{layer}", tags=["figures"])

MAX_SHEET_FILTERS = 512
NPY: dict[int | str, dict[str, dict[str, dict[str, str]]]] = {
    200: {"content": {"application/octet-stream": {}}}
}


@dataclass(frozen=True)
class SheetParams:
    """A page of a layer's filters, ordered, and how its tiles are drawn."""

    offset: int
    limit: int
    columns: int
    tile: int
    overlay: str
    sort: str
    desc: bool


def sheet_params(
    offset: Annotated[int, Query(ge=0, le=MAX_INDEX, description="First filter (in order)")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_SHEET_FILTERS, description="Filters")] = 64,
    columns: Annotated[int, Query(ge=1, le=64, description="Tiles per row")] = 8,
    tile: Annotated[int, Query(ge=32, le=256, description="Tile side in pixels")] = 96,
    overlay: Annotated[Literal["heat", "rf"], Query(description="Overlay of each tile")] = "heat",
    sort: Annotated[Literal["filter", "peak", "mean"], Query(description="Order")] = "filter",
    desc: Annotated[bool, Query(description="Descending order")] = False,
) -> SheetParams:
    """The validated sheet parameters (422 naming the one at fault)."""
    return SheetParams(offset, limit, columns, tile, overlay, sort, desc)


SheetDep = Annotated[SheetParams, Depends(sheet_params)]


def sheet_filters(
    artifacts: RunArtifacts, layer: str, params: SheetParams
) -> tuple[list[int], int]:
    """The filters of the page in sheet order (ties in filter order) and the layer's total."""
    stats = artifacts.filter_stats(layer)
    total = len(stats.peak)
    if params.sort == "filter":
        order = np.arange(total)[::-1] if params.desc else np.arange(total)
    else:
        key = np.asarray(stats.peak if params.sort == "peak" else stats.mean, dtype=np.float64)
        order = np.argsort(-key if params.desc else key, kind="stable")
    page = order[params.offset : params.offset + params.limit]
    return [int(f) for f in page], total


def _sources(artifacts: RunArtifacts, run_id: str, overlay_mode: str) -> list[pathlib.Path]:
    # The maps, and metrics.json where the RF region is drawn (409 while not evaluated).
    sources = [manifest_path(artifacts)]
    if overlay_mode == "rf":
        if not artifacts.metrics_path.is_file():
            run_metrics(artifacts, run_id)  # 409: not evaluated
        sources.append(artifacts.metrics_path)
    return sources


def render_sheet(
    artifacts: RunArtifacts,
    manifest: FeaturesManifest,
    layer: str,
    params: SheetParams,
) -> bytes:
    """One tile per filter of the page: its top image with its overlay, at tile size."""
    filters, _ = sheet_filters(artifacts, layer, params)
    stats = artifacts.filter_stats(layer)
    maps = artifacts.layer_maps(layer)
    geometry = None
    if params.overlay == "rf":
        geometry = run_metrics(artifacts, artifacts.root.name)["layers"][layer]["geometry"]
        centers = np.asarray(geometry["unit_centers"], dtype=np.float32)
    images: dict[int, np.ndarray] = {}  # filters often share their top image
    tiles = []
    side = params.tile
    for f in filters:
        index = int(stats.argmax_image[f])
        if index not in images:
            images[index] = eval_image(artifacts, manifest, index)
        fmap = np.asarray(maps[f, index], dtype=np.float32)
        if geometry is None:
            small = resized(images[index], (side, side))
            tiles.append(overlay(small, fmap, float(stats.peak[f])))
        else:
            radius, threshold = float(geometry["rf_radius"]), region_threshold(geometry, f)
            tiles.append(scaled_rf_overlay(images[index], fmap, centers, radius, threshold, side))
    return png_bytes(contact_sheet(tiles, params.columns, side))


@router.get("/sheet.png", response_class=Response, responses=PNG_ERRORS)
async def sheet_png(
    run: PublishedRunDep, artifacts: ArtifactsDep, request: Request, layer: str, params: SheetDep
) -> Response:
    """A page of the layer's filters as one PNG, ``columns * tile`` wide and ``rows * tile``
    high, one tile per filter (its top image with its overlay) in the order of ``sort``;
    ``sheet.json`` with the same parameters lists the filters of the tiles."""
    manifest = published_manifest(artifacts, run.id)
    check_layer(manifest, layer)
    total = manifest.layers[layer].shape[0]
    if params.offset >= total:
        raise HTTPException(
            status_code=404, detail=f"offset {params.offset}: layer {layer!r} has {total} filters"
        )
    return await cached_response(
        request,
        artifacts,
        _sources(artifacts, run.id, params.overlay),
        lambda: render_sheet(artifacts, manifest, layer, params),
        media_type="image/png",
        disk=True,
    )


@router.get("/sheet.json", response_model=ContactSheet, responses=ERRORS)
async def sheet_json(
    run: PublishedRunDep, artifacts: ArtifactsDep, request: Request, layer: str, params: SheetDep
) -> Response:
    """The filters of ``sheet.png``'s tiles in row-major order and its geometry: the tile at
    pixel (x, y) shows ``filters[(y // tile) * columns + x // tile]``."""
    check_layer(published_manifest(artifacts, run.id), layer)

    def render() -> bytes:
        filters, total = sheet_filters(artifacts, layer, params)
        return json_body(
            ContactSheet(
                filters=filters,
                columns=params.columns,
                tile=params.tile,
                rows=-(-len(filters) // params.columns),
                total=total,
                offset=params.offset,
            )
        )

    return await cached_response(
        request, artifacts, [manifest_path(artifacts)], render, media_type="application/json"
    )


def render_panel(
    artifacts: RunArtifacts,
    manifest: FeaturesManifest,
    layer: str,
    filter_index: int,
    image: int,
    side: int,
) -> bytes:
    """Fig. 4: the image, the mask T_mu_hat, the masked map relu(x * T) and the region S_f."""
    picture = eval_image(artifacts, manifest, image)
    fmap = filter_map(artifacts, layer, filter_index, image)
    mask, unit = assigned_mask(artifacts, fmap)
    peak = float(artifacts.filter_stats(layer).peak[filter_index])
    geometry = run_metrics(artifacts, artifacts.root.name)["layers"][layer]["geometry"]
    region = (
        np.asarray(geometry["unit_centers"], dtype=np.float32),
        float(geometry["rf_radius"]),
        region_threshold(geometry, filter_index),
    )
    return png_bytes(fig4_panel(f"image {image}", picture, fmap, mask, unit, peak, region, side))


@router.get("/filters/{filter_index}/panel.png", response_class=Response, responses=PNG_ERRORS)
async def panel_png(
    run: PublishedRunDep,
    artifacts: ArtifactsDep,
    request: Request,
    layer: str,
    filter_index: FilterIndex,
    image: ImageIndex = 0,
    size: Annotated[int, Query(ge=32, le=512, description="Side of each panel")] = 224,
) -> Response:
    """The paper's Fig. 4 for one filter on one image, four ``size`` x ``size`` panels side by
    side under their titles: the image, the mask T_mu_hat (upsampled, -1..1), the masked map
    relu(x * T_mu_hat) (0..the filter's peak, as the overlays) and the region S_f; colour
    bars under the two maps. Needs the run to be evaluated (409 before)."""
    manifest = published_manifest(artifacts, run.id)
    check_filter(manifest, layer, filter_index)
    check_image(manifest, image)
    return await cached_response(
        request,
        artifacts,
        _sources(artifacts, run.id, "rf"),
        lambda: render_panel(artifacts, manifest, layer, filter_index, image, size),
        media_type="image/png",
        disk=True,
    )


@router.get("/filters/{filter_index}/map.npy", response_class=Response, responses={**NPY, **ERRORS})
async def map_npy(
    run: PublishedRunDep,
    artifacts: ArtifactsDep,
    request: Request,
    layer: str,
    filter_index: FilterIndex,
    image: ImageIndex = 0,
) -> Response:
    """The filter's raw map on one image, float32 [h, w], as ``numpy.save`` bytes."""
    manifest = published_manifest(artifacts, run.id)
    check_filter(manifest, layer, filter_index)
    check_image(manifest, image)

    def render() -> bytes:
        buffer = io.BytesIO()
        np.save(buffer, filter_map(artifacts, layer, filter_index, image))
        return buffer.getvalue()

    return await cached_response(
        request,
        artifacts,
        [manifest_path(artifacts)],
        render,
        media_type="application/octet-stream",
    )
