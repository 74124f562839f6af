"""Feature maps of a run's interpretable layers: per-filter activations and overlays."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, Path, Query, Response

from backend.api.deps import ArtifactsDep, RunDep
from backend.api.routes.metrics import run_metrics
from backend.rendering import overlay, png_bytes, rf_region_overlay
from backend.schemas import FeaturesPublic, FilterActivation, LayerPublic
from partlens.runs.config import build_eval_dataset
from partlens.store import RunArtifacts

router = APIRouter(prefix="/runs/{run_id}", tags=["filters"])

ImageIndex = Annotated[int, Query(ge=0, description="Index of the evaluation image")]
FilterIndex = Annotated[int, Path(ge=0, description="Filter index within the layer")]
PNG: dict[str, Any] = {"content": {"image/png": {}}}


@lru_cache(maxsize=16)
def _eval_dataset(dataset_json: str) -> Any:
    # Evaluation images are regenerated on demand (deterministic), one dataset per spec.
    return build_eval_dataset({"dataset": json.loads(dataset_json)})


def eval_image(manifest: dict[str, Any], index: int) -> np.ndarray:
    """Evaluation image ``index`` of a run, uint8 HxWx3; 404 when out of range."""
    if index >= manifest["num_images"]:
        raise HTTPException(
            status_code=404,
            detail=f"image {index} out of range: the run has {manifest['num_images']} images",
        )
    dataset = _eval_dataset(json.dumps(manifest["dataset"], sort_keys=True))
    return dataset[index].image


def _manifest(artifacts: RunArtifacts, run_id: str) -> dict[str, Any]:
    manifest = artifacts.manifest()
    if manifest is None:
        raise HTTPException(
            status_code=409, detail=f"run {run_id!r} has no feature maps yet (not finished)"
        )
    return manifest


def _layer_maps(
    artifacts: RunArtifacts, run_id: str, layer: str
) -> tuple[dict[str, Any], np.ndarray]:
    manifest = _manifest(artifacts, run_id)
    if layer not in manifest["layers"]:
        known = ", ".join(manifest["layers"])
        raise HTTPException(status_code=404, detail=f"unknown layer {layer!r}; layers: {known}")
    return manifest, artifacts.feature_maps(layer)


def _filter_maps(
    artifacts: RunArtifacts, run_id: str, layer: str, filter_index: int
) -> tuple[dict[str, Any], np.ndarray]:
    manifest, maps = _layer_maps(artifacts, run_id, layer)
    if filter_index >= maps.shape[1]:
        raise HTTPException(
            status_code=404,
            detail=f"filter {filter_index} out of range: layer {layer!r} has {maps.shape[1]}",
        )
    return manifest, maps[:, filter_index]


@router.get("/features", response_model=FeaturesPublic)
def features(run: RunDep, artifacts: ArtifactsDep) -> FeaturesPublic:
    """The layers whose feature maps were precomputed, with their shapes."""
    manifest = _manifest(artifacts, run.id)
    layers = [
        LayerPublic(
            name=name, filters=info["shape"][0], height=info["shape"][1], width=info["shape"][2]
        )
        for name, info in manifest["layers"].items()
    ]
    return FeaturesPublic(
        run_id=run.id,
        num_images=manifest["num_images"],
        image_size=manifest["image_size"],
        categories=manifest["categories"],
        layers=layers,
    )


@router.get("/images/{image}.png", response_class=Response, responses={200: PNG})
def image_png(run: RunDep, artifacts: ArtifactsDep, image: Annotated[int, Path(ge=0)]) -> Response:
    """Evaluation image ``image`` as PNG."""
    manifest = _manifest(artifacts, run.id)
    return Response(png_bytes(eval_image(manifest, image)), media_type="image/png")


@router.get("/layers/{layer}/filters/{filter_index}/activation", response_model=FilterActivation)
def activation(
    run: RunDep,
    artifacts: ArtifactsDep,
    layer: str,
    filter_index: FilterIndex,
    image: ImageIndex = 0,
) -> FilterActivation:
    """Filter ``filter_index``'s map on one image, its argmax unit (mu_hat) and global max."""
    manifest, maps = _filter_maps(artifacts, run.id, layer, filter_index)
    eval_image(manifest, image)
    fmap = np.asarray(maps[image], dtype=np.float32)
    row, col = np.unravel_index(int(fmap.argmax()), fmap.shape)
    return FilterActivation(
        run_id=run.id,
        layer=layer,
        filter=filter_index,
        image=image,
        map=fmap.round(5).tolist(),
        argmax=(int(row), int(col)),
        max=float(fmap.max()),
        filter_max=float(np.max(maps)),
    )


@router.get("/layers/{layer}/filters")
def layer_filters(run: RunDep, artifacts: ArtifactsDep, layer: str) -> list[dict[str, Any]]:
    """Every filter of ``layer`` with the image it fires most on and that peak value."""
    _, maps = _layer_maps(artifacts, run.id, layer)
    peaks = np.asarray(maps, dtype=np.float32).reshape(maps.shape[0], maps.shape[1], -1).max(-1)
    best = peaks.argmax(axis=0)
    return [
        {"filter": f, "top_image": int(best[f]), "peak": float(peaks[best[f], f])}
        for f in range(maps.shape[1])
    ]


@router.get("/layers/{layer}/filters/{filter_index}/top")
def top_images(
    run: RunDep,
    artifacts: ArtifactsDep,
    layer: str,
    filter_index: FilterIndex,
    k: Annotated[int, Query(ge=1, le=100)] = 8,
) -> dict[str, Any]:
    """The ``k`` evaluation images on which the filter fires most, with their peak values."""
    _, maps = _filter_maps(artifacts, run.id, layer, filter_index)
    peaks = np.asarray(maps, dtype=np.float32).reshape(maps.shape[0], -1).max(axis=1)
    order = np.argsort(-peaks, kind="stable")[:k]
    return {"images": [int(i) for i in order], "peaks": [float(peaks[i]) for i in order]}


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
    manifest, maps = _filter_maps(artifacts, run.id, layer, filter_index)
    picture = eval_image(manifest, image)
    fmap = np.asarray(maps[image], dtype=np.float32)
    if mode == "heat":
        blended = overlay(picture, fmap, float(np.max(maps)))
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
