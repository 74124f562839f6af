"""Figures of a probe: per filter the heat or region-S_f overlay and the paper's Fig. 4 panel,
per layer a contact sheet (one tile per filter, the run contact sheet's JSON shape). Rendered
once, then served from ``probes/<id>/cache/`` or memory (``backend.core.caching``)."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from backend.api.routes.figures import MAX_SHEET_FILTERS
from backend.api.routes.probes import (
    ERRORS,
    MAX_INDEX,
    PNG,
    FilterIndex,
    ProbeDep,
    assigned_mask,
    region_args,
)
from backend.core.caching import cached_response, json_body
from backend.rendering import (
    contact_sheet,
    fig4_panel,
    overlay,
    png_bytes,
    resized,
    rf_region_overlay,
    scaled_rf_overlay,
)
from backend.schemas import ContactSheet

router = APIRouter(prefix="/probes/{probe_id}", tags=["probes"])


@router.get(
    "/layers/{layer}/filters/{filter_index}/overlay.png",
    response_class=Response,
    responses={**PNG, **ERRORS},
)
async def probe_overlay(
    probe: ProbeDep,
    request: Request,
    layer: str,
    filter_index: FilterIndex,
    mode: Annotated[Literal["heat", "rf"], Query(description="Heat map or region S_f")] = "heat",
) -> Response:
    """The filter on the probe image: its heat (scaled by the run's max) or the region S_f
    (the receptive fields of the units above the run's T_f; 409 without metrics)."""
    record = probe.filter(layer, filter_index)
    region = region_args(record, filter_index) if mode == "rf" else None

    def render() -> bytes:
        picture = probe.image()
        fmap = np.asarray(probe.maps(layer)[filter_index], dtype=np.float32)
        if region is None:
            return png_bytes(overlay(picture, fmap, record.scale[filter_index]))
        return png_bytes(rf_region_overlay(picture, fmap, *region))

    return await cached_response(
        request, probe.artifacts, probe.sources, render, media_type="image/png", disk=True
    )


@router.get(
    "/layers/{layer}/filters/{filter_index}/panel.png",
    response_class=Response,
    responses={**PNG, **ERRORS},
)
async def probe_panel(
    probe: ProbeDep,
    request: Request,
    layer: str,
    filter_index: FilterIndex,
    size: Annotated[int, Query(ge=32, le=512, description="Side of each panel")] = 224,
) -> Response:
    """The paper's Fig. 4 on the probe image: the image, T_mu_hat (-1..1), relu(x * T_mu_hat)
    (0..the run's max) and the region S_f (409 when the run was not evaluated)."""
    record = probe.filter(layer, filter_index)
    region = region_args(record, filter_index)

    def render() -> bytes:
        picture = probe.image()
        fmap = np.asarray(probe.maps(layer)[filter_index], dtype=np.float32)
        mask, unit = assigned_mask(probe, fmap)
        peak = record.scale[filter_index]
        return png_bytes(fig4_panel("probe", picture, fmap, mask, unit, peak, region, size))

    return await cached_response(
        request, probe.artifacts, probe.sources, render, media_type="image/png", disk=True
    )


class ProbeSheetParams:
    """A page of the probe's filters for its contact sheet (422 naming a bad parameter)."""

    def __init__(
        self,
        offset: Annotated[int, Query(ge=0, le=MAX_INDEX, description="First filter")] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_SHEET_FILTERS, description="Filters")] = 128,
        columns: Annotated[int, Query(ge=1, le=64, description="Tiles per row")] = 8,
        tile: Annotated[int, Query(ge=32, le=256, description="Tile side in pixels")] = 96,
        overlay: Annotated[Literal["heat", "rf"], Query(description="Overlay of a tile")] = "heat",
        sort: Annotated[Literal["filter", "peak", "mean"], Query(description="Order")] = "filter",
        desc: Annotated[bool, Query(description="Descending order")] = False,
    ) -> None:
        self.offset, self.limit, self.columns, self.tile = offset, limit, columns, tile
        self.overlay, self.sort, self.desc = overlay, sort, desc

    def filters(self, maps: np.ndarray) -> list[int]:
        """The page's filters in sheet order (ties in filter order), by the probe's maps."""
        total = len(maps)
        if self.sort == "filter":
            order = np.arange(total)[::-1] if self.desc else np.arange(total)
        else:
            flat = np.asarray(maps, dtype=np.float64).reshape(total, -1)
            key = flat.max(axis=1) if self.sort == "peak" else flat.mean(axis=1)
            order = np.argsort(-key if self.desc else key, kind="stable")
        return [int(f) for f in order[self.offset : self.offset + self.limit]]


SheetDep = Annotated[ProbeSheetParams, Depends()]


@router.get("/layers/{layer}/sheet.png", response_class=Response, responses={**PNG, **ERRORS})
async def probe_sheet_png(
    probe: ProbeDep, request: Request, layer: str, params: SheetDep
) -> Response:
    """One tile per filter of the page: the probe image with that filter's overlay; the tile
    at pixel (x, y) is ``sheet.json``'s ``filters[(y // tile) * columns + x // tile]``."""
    record = probe.layer(layer)
    if params.offset >= record.filters:
        raise HTTPException(
            status_code=404, detail=f"offset {params.offset}: layer {layer!r} has {record.filters}"
        )
    if params.overlay == "rf":
        region_args(record, 0)

    def render() -> bytes:
        maps = probe.maps(layer)
        picture = probe.image()
        small = resized(picture, (params.tile, params.tile))
        tiles = []
        for f in params.filters(maps):
            fmap = np.asarray(maps[f], dtype=np.float32)
            if params.overlay == "heat":
                tiles.append(overlay(small, fmap, record.scale[f]))
            else:
                tiles.append(scaled_rf_overlay(picture, fmap, *region_args(record, f), params.tile))
        return png_bytes(contact_sheet(tiles, params.columns, params.tile))

    return await cached_response(
        request, probe.artifacts, probe.sources, render, media_type="image/png", disk=True
    )


@router.get("/layers/{layer}/sheet.json", response_model=ContactSheet, responses=ERRORS)
async def probe_sheet_json(
    probe: ProbeDep, request: Request, layer: str, params: SheetDep
) -> Response:
    """The filters of ``sheet.png``'s tiles in row-major order and its geometry."""
    record = probe.layer(layer)

    def render() -> bytes:
        filters = params.filters(probe.maps(layer))
        return json_body(
            ContactSheet(
                filters=filters,
                columns=params.columns,
                tile=params.tile,
                rows=-(-len(filters) // params.columns),
                total=record.filters,
                offset=params.offset,
            )
        )

    return await cached_response(
        request, probe.artifacts, probe.sources, render, media_type="application/json"
    )
