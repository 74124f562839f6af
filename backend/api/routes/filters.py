"""Feature maps of a run's interpretable layers: per-filter activations and overlays.

Everything is served from the published ``features/`` folder: a filter's maps are one
contiguous memory-mapped read, summaries and top images come from the per-filter statistics,
and images are the stored PNG crops the model saw. Only runs published without images (before
they were stored) regenerate them from their dataset spec. Every successful response carries
an immutable ETag (``backend.core.caching``); rendered overlays are cached on disk.
"""

from __future__ import annotations

import json
import pathlib
from functools import lru_cache
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response

from backend.api.deps import ArtifactsDep, PublishedRunDep
from backend.api.routes.metrics import run_metrics
from backend.core.caching import NOT_MODIFIED, cached_response, json_body
from backend.rendering import load_png, overlay, png_bytes, rf_region_overlay
from backend.schemas import (
    FeaturesPublic,
    FilterActivation,
    LayerPublic,
    TopImages,
)
from partlens.models.checkpoint import read_checkpoint_meta
from partlens.nn import template_shapes
from partlens.store import RunArtifacts
from partlens.store.artifacts import MissingImagesError
from partlens.store.features_manifest import FeaturesManifest, UnsupportedFeaturesError

router = APIRouter(prefix="/runs/{run_id}", tags=["filters"])

MAX_INDEX = 2**31 - 1  # bounds every index, so no huge value reaches numpy or the DB
ImageIndex = Annotated[int, Query(ge=0, le=MAX_INDEX, description="Index of the evaluation image")]
FilterIndex = Annotated[int, Path(ge=0, le=MAX_INDEX, description="Filter index within the layer")]
PNG: dict[str, Any] = {"content": {"image/png": {}}}
JSON = "application/json"
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown run, layer, filter or image."},
    409: {"description": "The run's feature maps are not published yet, or unsupported."},
    **NOT_MODIFIED,
}
PNG_ERRORS: dict[int | str, dict[str, Any]] = {200: PNG, **ERRORS}


def published_manifest(artifacts: RunArtifacts, run_id: str) -> FeaturesManifest:
    try:
        return artifacts.features_manifest()
    except FileNotFoundError:
        raise HTTPException(
            status_code=409, detail=f"run {run_id!r} has no feature maps yet (not finished)"
        ) from None
    except UnsupportedFeaturesError as error:
        raise HTTPException(status_code=409, detail=f"run {run_id!r}: {error}") from None


def check_layer(manifest: FeaturesManifest, layer: str) -> None:
    if layer not in manifest.layers:
        known = ", ".join(manifest.layers)
        raise HTTPException(status_code=404, detail=f"unknown layer {layer!r}; layers: {known}")


def check_filter(manifest: FeaturesManifest, layer: str, filter_index: int) -> None:
    check_layer(manifest, layer)
    filters = manifest.layers[layer].shape[0]
    if filter_index >= filters:
        raise HTTPException(
            status_code=404,
            detail=f"filter {filter_index} out of range: layer {layer!r} has {filters}",
        )


def check_image(manifest: FeaturesManifest, index: int) -> None:
    if index >= manifest.num_images:
        raise HTTPException(
            status_code=404,
            detail=f"image {index} out of range: the run has {manifest.num_images} images",
        )


def _stored_png(artifacts: RunArtifacts, manifest: FeaturesManifest, index: int) -> bytes | None:
    """The stored PNG of image ``index`` (404 when out of range), None when the run has none."""
    check_image(manifest, index)
    try:
        return artifacts.image_path(index).read_bytes()
    except MissingImagesError:
        return None


def eval_image(artifacts: RunArtifacts, manifest: FeaturesManifest, index: int) -> np.ndarray:
    """Evaluation image ``index`` of a run, uint8 HxWx3; 404 when out of range."""
    stored = _stored_png(artifacts, manifest, index)
    return load_png(stored) if stored is not None else _regenerated(artifacts, manifest, index)


def _regenerated(artifacts: RunArtifacts, manifest: FeaturesManifest, index: int) -> np.ndarray:
    # Only runs published before images were stored; 409 when not even a spec is left.
    if manifest.dataset is None:
        raise HTTPException(
            status_code=409,
            detail=f"run {artifacts.root.name!r} was published before images were stored; "
            "re-run it",
        )
    return _legacy_dataset(json.dumps(manifest.dataset, sort_keys=True))[index].image


@lru_cache(maxsize=4)
def _legacy_dataset(dataset_json: str) -> Any:
    from partlens.runs.config import build_eval_dataset

    return build_eval_dataset({"dataset": json.loads(dataset_json)})


def manifest_path(artifacts: RunArtifacts) -> pathlib.Path:
    """The published manifest: its identity stands for the whole ``features/`` folder, which
    is replaced in one rename (stats, maps and images with it)."""
    return artifacts.features_dir / "manifest.json"


@router.get("/features", response_model=FeaturesPublic, responses=ERRORS)
async def features(run: PublishedRunDep, artifacts: ArtifactsDep, request: Request) -> Response:
    """The layers whose feature maps were precomputed, with their shapes."""
    manifest = published_manifest(artifacts, run.id)

    def render() -> bytes:
        layers = [
            LayerPublic(name=name, filters=info.shape[0], height=info.shape[1], width=info.shape[2])
            for name, info in manifest.layers.items()
        ]
        return json_body(
            FeaturesPublic(
                run_id=run.id,
                num_images=manifest.num_images,
                image_size=manifest.image_size,
                categories=manifest.categories,
                layers=layers,
            )
        )

    return await cached_response(
        request, artifacts, [manifest_path(artifacts)], render, media_type=JSON
    )


@router.get("/images/{image}.png", response_class=Response, responses=PNG_ERRORS)
async def image_png(
    run: PublishedRunDep,
    artifacts: ArtifactsDep,
    request: Request,
    image: Annotated[int, Path(ge=0, le=MAX_INDEX)],
) -> Response:
    """Evaluation image ``image`` as PNG: the stored file, byte for byte."""
    manifest = published_manifest(artifacts, run.id)
    check_image(manifest, image)

    def render() -> bytes:
        stored = _stored_png(artifacts, manifest, image)
        return stored if stored is not None else png_bytes(_regenerated(artifacts, manifest, image))

    return await cached_response(
        request, artifacts, [manifest_path(artifacts)], render, media_type="image/png"
    )


def filter_map(artifacts: RunArtifacts, layer: str, filter_index: int, image: int) -> np.ndarray:
    """Filter ``filter_index``'s map [h, w] on ``image`` as float32 (one contiguous read)."""
    return np.asarray(artifacts.filter_maps(layer, filter_index)[image], dtype=np.float32)


def assigned_mask(artifacts: RunArtifacts, fmap: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """The template shape T_mu_hat the forward pass masks ``fmap`` with (``partlens.nn``:
    mu_hat = argmax, the model's beta and norm; the defaults when no model is published)."""
    try:
        options = read_checkpoint_meta(artifacts.model_dir).get("options", {})
    except (FileNotFoundError, ValueError):
        options = {}
    h, w = fmap.shape
    shapes = template_shapes(
        h, w, beta=float(options.get("beta", 4.0)), norm=str(options.get("norm", "l1"))
    )
    row, col = divmod(int(fmap.argmax()), w)
    return shapes[row * w + col].numpy(), (row, col)


@router.get(
    "/layers/{layer}/filters/{filter_index}/activation",
    response_model=FilterActivation,
    responses=ERRORS,
)
async def activation(
    run: PublishedRunDep,
    artifacts: ArtifactsDep,
    request: Request,
    layer: str,
    filter_index: FilterIndex,
    image: ImageIndex = 0,
) -> Response:
    """Filter ``filter_index``'s map x on one image, its argmax unit mu_hat, the filter's
    global max, the mask T_mu_hat the forward pass applies and the masked map relu(x * T)."""
    manifest = published_manifest(artifacts, run.id)
    check_filter(manifest, layer, filter_index)
    check_image(manifest, image)

    def render() -> bytes:
        fmap = filter_map(artifacts, layer, filter_index, image)
        mask, (row, col) = assigned_mask(artifacts, fmap)
        return json_body(
            FilterActivation(
                run_id=run.id,
                layer=layer,
                filter=filter_index,
                image=image,
                map=fmap.round(5).tolist(),
                argmax=[int(row), int(col)],
                max=float(fmap.max()),
                filter_max=float(artifacts.filter_stats(layer).peak[filter_index]),
                mask=mask.round(5).tolist(),
                masked=np.maximum(fmap * mask, 0.0).round(5).tolist(),
            )
        )

    return await cached_response(
        request, artifacts, [manifest_path(artifacts)], render, media_type=JSON
    )


@router.get(
    "/layers/{layer}/filters/{filter_index}/top", response_model=TopImages, responses=ERRORS
)
async def top_images(
    run: PublishedRunDep,
    artifacts: ArtifactsDep,
    request: Request,
    layer: str,
    filter_index: FilterIndex,
    k: Annotated[int, Query(ge=1, le=100)] = 8,
) -> Response:
    """The ``k`` evaluation images on which the filter fires most, with their peak values."""
    check_filter(published_manifest(artifacts, run.id), layer, filter_index)

    evaluated = artifacts.metrics_path.is_file()

    def render() -> bytes:
        images, peaks, units = artifacts.filter_stats(layer).top(filter_index, k)
        positions = None
        if evaluated:
            layers = run_metrics(artifacts, run.id)["layers"]
            if layer in layers:
                centers = layers[layer]["geometry"]["unit_centers"]
                positions = [[float(v) for v in centers[int(r)][int(c)]] for r, c in units]
        return json_body(
            TopImages(
                images=[int(i) for i in images],
                peaks=[float(p) for p in peaks],
                argmax=[[int(r), int(c)] for r, c in units],
                positions=positions,
            )
        )

    # The positions come with the evaluation: its file is part of the ETag once it exists.
    sources = [manifest_path(artifacts), *([artifacts.metrics_path] if evaluated else [])]
    return await cached_response(request, artifacts, sources, render, media_type=JSON)


def region_threshold(geometry: dict[str, Any], filter_index: int) -> float:
    """T_f of the filter from metrics.json's geometry; a filter without one (None: it never
    fires on the evaluation images) has an empty region."""
    threshold = geometry["thresholds"][filter_index]
    return float("inf") if threshold is None else float(threshold)


def render_overlay(
    artifacts: RunArtifacts,
    manifest: FeaturesManifest,
    layer: str,
    filter_index: int,
    image: int,
    mode: str,
) -> bytes:
    """The overlay PNG of one filter on one image (``mode`` "heat" or "rf"), image-sized."""
    picture = eval_image(artifacts, manifest, image)
    fmap = filter_map(artifacts, layer, filter_index, image)
    if mode == "heat":
        blended = overlay(picture, fmap, float(artifacts.filter_stats(layer).peak[filter_index]))
    else:
        geometry = run_metrics(artifacts, artifacts.root.name)["layers"][layer]["geometry"]
        blended = rf_region_overlay(
            picture,
            fmap,
            np.asarray(geometry["unit_centers"], dtype=np.float32),
            float(geometry["rf_radius"]),
            region_threshold(geometry, filter_index),
        )
    return png_bytes(blended)


@router.get(
    "/layers/{layer}/filters/{filter_index}/overlay.png",
    response_class=Response,
    responses=PNG_ERRORS,
)
async def overlay_png(
    run: PublishedRunDep,
    artifacts: ArtifactsDep,
    request: Request,
    layer: str,
    filter_index: FilterIndex,
    image: ImageIndex = 0,
    mode: Annotated[Literal["heat", "rf"], Query()] = "heat",
) -> Response:
    """The filter on image ``image``, same size as the image.

    ``mode=heat`` blends the activation map over the image; ``mode=rf`` marks the receptive
    fields of the units above the filter's threshold T_f (the region the part-interpretability
    metric scores), which needs the run to be evaluated (409 before). Rendered once: later
    requests are served from the run's disk cache or memory.
    """
    manifest = published_manifest(artifacts, run.id)
    check_filter(manifest, layer, filter_index)
    check_image(manifest, image)
    sources = [manifest_path(artifacts)]
    if mode == "rf":
        if not artifacts.metrics_path.is_file():
            run_metrics(artifacts, run.id)  # 409: not evaluated (stale ones 409 in render)
        sources.append(artifacts.metrics_path)
    return await cached_response(
        request,
        artifacts,
        sources,
        lambda: render_overlay(artifacts, manifest, layer, filter_index, image, mode),
        media_type="image/png",
        disk=True,
    )
