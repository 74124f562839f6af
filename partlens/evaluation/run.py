"""Evaluate a trained run with the paper's metrics (Sec. 5.2) and write its ``metrics.json``.

Reads only published artifacts: the feature maps of the evaluation images (after ReLU and
mask), the manifest, and the model (for receptive-field geometry and the measured effective RF
radius). The annotations (part masks, landmarks, boxes) are regenerated from the dataset spec in
the manifest, and checked against the stored images the model saw.

Single-category runs are evaluated on the test images of their category (the positives), as the
paper does. Multi-category runs are evaluated on all test images; each filter's target category
c_hat comes from the stored evaluation maps by a pure computation, so no training statistic of
the model is touched.

Datasets that annotate landmarks but no part masks (CUB-200, ILSVRC Animal-Part) get location
instability with its references, the thresholds T_f and the Fig. 6 heat maps (which need only
p(mu_hat) and the boxes); part interpretability is None and ``part_interpretability_absent``
says why. The evaluated images' boxes and landmarks are stored as ``annotations.npz``, so the
API can place a filter's parts in the object box without the dataset.
"""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np
import torch
from PIL import Image

from partlens.data import image_to_tensor
from partlens.evaluation.annotations import (
    ANNOTATIONS_FILE,
    EvalAnnotations,
    evaluated_images,
    landmarks_per_category,
    save_annotation_arrays,
)
from partlens.evaluation.interpretability import (
    IOU_THRESHOLD,
    QUANTILE,
    filter_thresholds,
    json_float,
    json_list,
    layer_part_interpretability,
)
from partlens.evaluation.schema import (
    SCHEMA_VERSION,
    EvaluationSettings,
    LayerGeometry,
    LayerMetrics,
    LocationInstabilityMetrics,
    RunMetrics,
)
from partlens.metrics import (
    LocationInstability,
    MultiCategoryInstability,
    facing_mirror,
    filter_target_categories,
    inferred_part_positions,
    location_instability,
    measured_rf_radius,
    multi_category_accuracy,
    multi_category_location_instability,
    part_heatmaps,
    part_locked_oracle_reference,
    per_category_accuracy,
    random_position_reference,
    render_part_heatmap,
    single_category_accuracy,
    trace_receptive_field,
)
from partlens.models import load_model
from partlens.models.checkpoint import read_checkpoint_meta
from partlens.runs.config import build_eval_dataset
from partlens.store import RunArtifacts
from partlens.store.artifacts import MissingImagesError
from partlens.store.atomic_io import atomic_write_json, publish_dir

TOP_K = 100
RF_MASS = 0.8  # share of the input-gradient mass inside the effective RF radius
RF_PROBE_IMAGES = 8
HEATMAP_GRID = 64
HEATMAP_SIZE = 256
_NOT_REPRODUCED = "the dataset spec no longer reproduces the run's images"


def evaluate_run(artifacts: RunArtifacts, *, device: str = "cpu") -> RunMetrics:
    """Every metric of paper Sec. 5.2 for each interpretable layer of a run, written atomically
    to ``metrics.json`` (plus the Fig. 6 heat maps of the top layer under ``heatmaps/``).

    Per layer: RF geometry (unit centres p(mu), RF size, the effective radius used, thresholds
    T_f), location instability mean_f mean_k D_fk with its random-position and part-locked
    oracle references, and part interpretability mean_f P_f with P_fk, the best part of each
    filter and its sensitivity to the RF radius (None, with the reason, when the dataset has no
    part masks). Returns the :class:`RunMetrics` it wrote.
    """
    try:
        manifest = artifacts.features_manifest()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"run {artifacts.root.name} has no published feature maps"
        ) from None
    if manifest.dataset is None or manifest.image_size is None:
        raise ValueError(f"run {artifacts.root.name}: the manifest has no dataset spec")
    meta = read_checkpoint_meta(artifacts.model_dir)
    model = load_model(artifacts.model_dir).to(device)
    spec = manifest.dataset
    task = spec["task"]
    dataset = build_eval_dataset({"dataset": spec})
    if len(dataset) != manifest.num_images:
        raise ValueError(
            f"the evaluation set regenerated {len(dataset)} images, the manifest says "
            f"{manifest.num_images}: {_NOT_REPRODUCED}"
        )
    labels = np.asarray(manifest.labels, dtype=np.int64)
    logits = np.asarray(manifest.logits, dtype=np.float64)
    annotations = evaluated_images(dataset, labels, manifest.categories, task)
    _check_stored_images(artifacts, annotations)
    image_size = manifest.image_size
    layers: dict[str, LayerMetrics] = {}
    top_positions = None
    for layer in manifest.layers:
        # Filter-major on disk; the metrics take [N, F, h, w] of the evaluated images.
        maps = np.ascontiguousarray(
            artifacts.layer_maps(layer)[:, annotations.indices].swapaxes(0, 1)
        )
        layers[layer], top_positions = _evaluate_layer(
            model, layer, maps, annotations, task, image_size
        )
    if top_positions is None:
        raise ValueError(f"run {artifacts.root.name}: the manifest lists no layers")
    # Fig. 6 needs only p(mu_hat) and the boxes: landmark-only datasets get it too.
    heatmap_files = _write_heatmaps(artifacts, top_positions, annotations)
    save_annotation_arrays(artifacts.root / ANNOTATIONS_FILE, annotations)
    categories = list(manifest.categories)
    metrics = RunMetrics(
        schema_version=SCHEMA_VERSION,
        run_id=artifacts.root.name,
        arch=model.arch,
        interpretable=bool(model.interpretable),
        task=task,
        categories=categories,
        category=spec.get("category") if task == "single" else None,
        num_images=len(annotations.indices),
        image_size=image_size,
        evaluation=EvaluationSettings(
            images="positives of the category" if task == "single" else "all test images",
            quantile=QUANTILE,
            iou_threshold=IOU_THRESHOLD,
            top_k=TOP_K,
            rf_mass=RF_MASS,
        ),
        top_layer=list(manifest.layers)[-1],
        layers=layers,
        heatmaps={name: files[0] for name, files in heatmap_files.items()},
        heatmap_arrays={name: files[1] for name, files in heatmap_files.items()},
        annotation_arrays=ANNOTATIONS_FILE,
        part_interpretability_absent=(
            None if annotations.has_masks else part_interpretability_absent(spec)
        ),
        **_accuracy(task, logits, labels, categories, meta),
    )
    atomic_write_json(artifacts.metrics_path, metrics.model_dump(mode="json"))
    return metrics


def part_interpretability_absent(spec: dict[str, Any]) -> str:
    """Why a run on the dataset of ``spec`` has no part interpretability (its samples carry
    landmarks, not part masks)."""
    name = spec.get("name", "the dataset")
    kind = spec.get("format")
    shown = f"{name} ({kind})" if kind and kind != name else str(name)
    return (
        f"{shown} annotates landmarks, not part masks: part interpretability (P_f, best "
        "parts) needs masks; location instability is measured on the landmarks"
    )


def _check_stored_images(artifacts: RunArtifacts, annotations: EvalAnnotations) -> None:
    """The regenerated annotations belong to the images the maps were computed on: the first
    evaluated images equal the stored crops (runs published without images are not checked)."""
    for row, index in enumerate(annotations.indices[:RF_PROBE_IMAGES]):
        try:
            path = artifacts.image_path(int(index))
        except MissingImagesError:
            return
        with Image.open(path) as stored:
            if not np.array_equal(np.asarray(stored.convert("RGB")), annotations.images[row]):
                raise ValueError(f"evaluation image {index} differs: {_NOT_REPRODUCED}")


def _accuracy(
    task: str,
    logits: np.ndarray,
    labels: np.ndarray,
    categories: list[str],
    meta: dict[str, Any],
) -> dict[str, Any]:
    """Accuracy (Table 7); multi-category runs add it per category and their loss."""
    if task == "single":
        return {"accuracy": json_float(single_category_accuracy(logits, labels))}
    per_category = json_list(per_category_accuracy(logits, labels))
    return {
        "accuracy": json_float(multi_category_accuracy(logits, labels)),
        "per_category_accuracy": dict(zip(categories, per_category, strict=True)),
        "multi_loss": meta.get("state", {}).get("run_config", {}).get("multi_loss"),
    }


def _evaluate_layer(
    model: Any,
    layer: str,
    maps: np.ndarray,
    annotations: EvalAnnotations,
    task: str,
    image_size: int,
) -> tuple[LayerMetrics, np.ndarray]:
    """One layer's metrics and its inferred part positions p(mu_hat) [N, F, 2]."""
    geometry = trace_receptive_field(model, layer, image_size)
    centers = geometry.unit_centers()
    if centers.shape[:2] != maps.shape[2:]:
        raise ValueError(
            f"layer {layer}: stored maps are {maps.shape[2:]} but the model's geometry at "
            f"{image_size} px gives {centers.shape[:2]}"
        )
    probe = torch.stack([image_to_tensor(image) for image in annotations.images[:RF_PROBE_IMAGES]])
    radius, radius_source = measured_rf_radius(model, layer, probe, mass=RF_MASS)
    positions, scores = inferred_part_positions(maps, centers)
    instability = _instability(positions, scores, centers, annotations, task, image_size)
    targets = None
    if task == "multi":
        targets = filter_target_categories(
            maps, annotations.categories, len(annotations.category_names)
        )
    thresholds = filter_thresholds(maps, annotations.categories, targets)
    interpretability = None
    if annotations.has_masks:
        interpretability = layer_part_interpretability(
            maps, centers, radius, geometry.rf_size / 2, annotations, targets, thresholds
        )
    result = LayerMetrics(
        geometry=LayerGeometry(
            unit_centers=centers.tolist(),
            rf_size=round(geometry.rf_size),
            rf_jump=float(max(geometry.jump)),
            rf_radius=radius,
            rf_radius_source=radius_source,
            thresholds=json_list(thresholds),
        ),
        location_instability=instability,
        part_interpretability=interpretability,
        target_category=(
            None if targets is None else [annotations.category_names[c] for c in targets]
        ),
    )
    if targets is not None:
        # Each filter's inferred part only counts on images of its own category.
        own = targets[None, :] == annotations.categories[:, None]
        positions = np.where(own[..., None], positions, np.nan)
    # A filter that does not fire on an image places no part there (its argmax is arbitrary).
    positions = np.where((scores > 0)[..., None], positions, np.nan)
    return result, positions


def _instability(
    positions: np.ndarray,
    scores: np.ndarray,
    centers: np.ndarray,
    annotations: EvalAnnotations,
    task: str,
    image_size: int,
) -> LocationInstabilityMetrics:
    """mean_f mean_k D_fk (single) or mean_f min_c mean_{k in Part_c} D_fk (multi), with the
    same figure for random positions p(mu_hat) and for a part-locked oracle."""
    size = (image_size, image_size)
    landmarks, groups = annotations.landmarks, None
    result: LocationInstability | MultiCategoryInstability
    if task == "multi":
        landmarks, groups = landmarks_per_category(annotations)
        result = multi_category_location_instability(positions, scores, landmarks, size, groups)
    else:
        result = location_instability(positions, scores, landmarks, size, TOP_K)
    random_reference = random_position_reference(
        landmarks, size, centers, top_k=TOP_K, landmark_groups=groups
    )
    oracle_reference = part_locked_oracle_reference(
        landmarks, size, centers, top_k=TOP_K, landmark_groups=groups
    )
    return LocationInstabilityMetrics(
        mean=json_float(result.mean),
        per_filter=json_list(result.per_filter),
        excluded=int(result.excluded),
        landmarks=list(annotations.landmark_names),
        random_reference=json_float(random_reference.mean),
        oracle_reference=json_float(oracle_reference.mean),
    )


def _write_heatmaps(
    artifacts: RunArtifacts,
    positions: np.ndarray,
    annotations: EvalAnnotations,
) -> dict[str, tuple[str, str]]:
    """Fig. 6 per category (PNG and arrays), published as ``heatmaps/`` in one rename."""
    heatmaps = part_heatmaps(
        positions,
        annotations.bboxes,
        annotations.categories,
        annotations.category_names,
        annotations.images,
        mirror=facing_mirror(annotations.landmarks, annotations.bboxes, annotations.landmark_names),
        grid=HEATMAP_GRID,
    )
    if heatmaps.mean_image is None:
        raise ValueError("the heat maps have no mean object images")
    mean_images = heatmaps.mean_image
    files: dict[str, tuple[str, str]] = {}
    with publish_dir(artifacts.heatmaps_dir) as staging:
        for index, name in enumerate(annotations.category_names):
            stem = re.sub(r"[^A-Za-z0-9._-]", "_", name)
            render_part_heatmap(heatmaps, index, HEATMAP_SIZE).save(staging / f"{stem}.png")
            buffer = io.BytesIO()
            np.savez(
                buffer,
                heat=heatmaps.heat[index].astype(np.float32),
                mean_image=mean_images[index],
                points=heatmaps.points[index],
                images=heatmaps.images[index],
            )
            (staging / f"{stem}.npz").write_bytes(buffer.getvalue())
            folder = artifacts.heatmaps_dir.name
            files[name] = (f"{folder}/{stem}.png", f"{folder}/{stem}.npz")
    return files
