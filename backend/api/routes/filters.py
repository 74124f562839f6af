"""Feature maps of a run's interpretable layers: per-filter activations and overlays.

Everything is served from the published ``features/`` folder: a filter's maps are one
contiguous memory-mapped read, summaries and top images come from the per-filter statistics,
and images are the stored PNG crops the model saw. Only runs published without images (before
they were stored) regenerate them from their dataset spec.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, Path, Query, Response

from backend.api.deps import ArtifactsDep, RunDep
from backend.api.routes.metrics import run_metrics
from backend.rendering import load_png, overlay, png_bytes, rf_region_overlay
from backend.schemas import (
    FeaturesPublic,
    FilterActivation,
    FilterSummary,
    LayerPublic,
    TopImages,
)
from partlens.store import RunArtifacts
from partlens.store.artifacts import MissingImagesError
from partlens.store.features_manifest import FeaturesManifest, UnsupportedFeaturesError

router = APIRouter(prefix="/runs/{run_id}", tags=["filters"])

ImageIndex = Annotated[int, Query(ge=0, description="Index of the evaluation image")]
FilterIndex = Annotated[int, Path(ge=0, description="Filter index within the layer")]
PNG: dict[str, Any] = {"content": {"image/png": {}}}


def _manifest(artifacts: RunArtifacts, run_id: str) -> FeaturesManifest:
    try:
        return artifacts.features_manifest()
    except FileNotFoundError:
        raise HTTPException(
            status_code=409, detail=f"run {run_id!r} has no feature maps yet (not finished)"
        ) from None
    except UnsupportedFeaturesError as error:
        raise HTTPException(status_code=409, detail=f"run {run_id!r}: {error}") from None


def _check_layer(manifest: FeaturesManifest, layer: str) -> None:
    if layer not in manifest.layers:
        known = ", ".join(manifest.layers)
        raise HTTPException(status_code=404, detail=f"unknown layer {layer!r}; layers: {known}")


def _check_filter(manifest: FeaturesManifest, layer: str, filter_index: int) -> None:
    _check_layer(manifest, layer)
    filters = manifest.layers[layer].shape[0]
    if filter_index >= filters:
        raise HTTPException(
            status_code=404,
            detail=f"filter {filter_index} out of range: layer {layer!r} has {filters}",
        )


def _check_image(manifest: FeaturesManifest, index: int) -> None:
    if index >= manifest.num_images:
        raise HTTPException(
            status_code=404,
            detail=f"image {index} out of range: the run has {manifest.num_images} images",
        )


def _stored_png(artifacts: RunArtifacts, manifest: FeaturesManifest, index: int) -> bytes | None:
    """The stored PNG of image ``index`` (404 when out of range), None when the run has none."""
    _check_image(manifest, index)
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


@router.get("/features", response_model=FeaturesPublic)
def features(run: RunDep, artifacts: ArtifactsDep) -> FeaturesPublic:
    """The layers whose feature maps were precomputed, with their shapes."""
    manifest = _manifest(artifacts, run.id)
    layers = [
        LayerPublic(name=name, filters=info.shape[0], height=info.shape[1], width=info.shape[2])
        for name, info in manifest.layers.items()
    ]
    return FeaturesPublic(
        run_id=run.id,
        num_images=manifest.num_images,
        image_size=manifest.image_size,
        categories=manifest.categories,
        layers=layers,
    )


@router.get("/images/{image}.png", response_class=Response, responses={200: PNG})
def image_png(run: RunDep, artifacts: ArtifactsDep, image: Annotated[int, Path(ge=0)]) -> Response:
    """Evaluation image ``image`` as PNG: the stored file, byte for byte."""
    manifest = _manifest(artifacts, run.id)
    stored = _stored_png(artifacts, manifest, image)
    if stored is None:
        stored = png_bytes(_regenerated(artifacts, manifest, image))
    return Response(stored, media_type="image/png")


@router.get("/layers/{layer}/filters/{filter_index}/activation", response_model=FilterActivation)
def activation(
    run: RunDep,
    artifacts: ArtifactsDep,
    layer: str,
    filter_index: FilterIndex,
    image: ImageIndex = 0,
) -> FilterActivation:
    """Filter ``filter_index``'s map on one image, its argmax unit (mu_hat) and global max."""
    manifest = _manifest(artifacts, run.id)
    _check_filter(manifest, layer, filter_index)
    _check_image(manifest, image)
    fmap = np.asarray(artifacts.filter_maps(layer, filter_index)[image], dtype=np.float32)
    row, col = np.unravel_index(int(fmap.argmax()), fmap.shape)
    return FilterActivation(
        run_id=run.id,
        layer=layer,
        filter=filter_index,
        image=image,
        map=fmap.round(5).tolist(),
        argmax=(int(row), int(col)),
        max=float(fmap.max()),
        filter_max=float(artifacts.filter_stats(layer).peak[filter_index]),
    )


@router.get("/layers/{layer}/filters", response_model=list[FilterSummary])
def layer_filters(run: RunDep, artifacts: ArtifactsDep, layer: str) -> list[FilterSummary]:
    """Every filter of ``layer`` with the image it fires most on, that peak and where."""
    _check_layer(_manifest(artifacts, run.id), layer)
    stats = artifacts.filter_stats(layer)
    return [
        FilterSummary(
            filter=f,
            top_image=int(stats.argmax_image[f]),
            peak=float(stats.peak[f]),
            argmax=(int(stats.argmax_unit[f, 0]), int(stats.argmax_unit[f, 1])),
            mean=float(stats.mean[f]),
            mean_max=float(stats.mean_max[f]),
        )
        for f in range(len(stats.peak))
    ]


@router.get("/layers/{layer}/filters/{filter_index}/top", response_model=TopImages)
def top_images(
    run: RunDep,
    artifacts: ArtifactsDep,
    layer: str,
    filter_index: FilterIndex,
    k: Annotated[int, Query(ge=1, le=100)] = 8,
) -> TopImages:
    """The ``k`` evaluation images on which the filter fires most, with their peak values."""
    _check_filter(_manifest(artifacts, run.id), layer, filter_index)
    images, peaks, units = artifacts.filter_stats(layer).top(filter_index, k)
    return TopImages(
        images=[int(i) for i in images],
        peaks=[float(p) for p in peaks],
        argmax=[(int(r), int(c)) for r, c in units],
    )


@router.get(
    "/layers/{layer}/filters/{filter_index}/overlay.png",
    response_class=Response,
    responses={200: PNG},
)
def overlay_png(
    run: RunDep,
    artifacts: ArtifactsDep,
    layer: str,
    filter_index: FilterIndex,
    image: ImageIndex = 0,
    mode: Annotated[Literal["heat", "rf"], Query()] = "heat",
) -> Response:
    """The filter on image ``image``, same size as the image.

    ``mode=heat`` blends the activation map over the image; ``mode=rf`` marks the receptive
    fields of the units above the filter's threshold T_f (the region the part-interpretability
    metric scores), which needs the run to be evaluated.
    """
    manifest = _manifest(artifacts, run.id)
    _check_filter(manifest, layer, filter_index)
    picture = eval_image(artifacts, manifest, image)
    fmap = np.asarray(artifacts.filter_maps(layer, filter_index)[image], dtype=np.float32)
    if mode == "heat":
        blended = overlay(picture, fmap, float(artifacts.filter_stats(layer).peak[filter_index]))
    else:
        geometry = run_metrics(artifacts, run.id)["layers"][layer]["geometry"]
        blended = rf_region_overlay(
            picture,
            fmap,
            np.asarray(geometry["unit_centers"], dtype=np.float32),
            float(geometry["rf_radius"]),
            float(geometry["thresholds"][filter_index]),
        )
    return Response(png_bytes(blended), media_type="image/png")
