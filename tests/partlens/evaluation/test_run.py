import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from partlens.evaluation.features import precompute_features
from partlens.evaluation.run import evaluate_run
from partlens.evaluation.schema import SCHEMA_VERSION, RunMetrics, load_run_metrics
from partlens.metrics import filter_target_categories
from partlens.models import build_model, save_checkpoint
from partlens.runs.config import RunConfig, build_train_dataset
from partlens.store import RunArtifacts
from partlens.store.atomic_io import publish_dir
from partlens.training.loop import TrainConfig, train

WIDTH = 16


def trained_run(root, task):
    """A tiny run trained for a few steps, with its model and feature maps published."""
    config = RunConfig(
        arch="tiny",
        epochs=1,
        batch_size=8,
        max_steps=3,
        filter_loss="exact-mi",
        dataset={"task": task, "image_size": 64, "train_size": 24, "eval_size": 24},
    ).model_dump()
    multi = task == "multi"
    torch.manual_seed(0)
    model = build_model("tiny", num_classes=6 if multi else 1, input_size=64, width=WIDTH)
    train_config = TrainConfig(epochs=1, batch_size=8, max_steps=3, task=task, device="cpu")
    train(model, build_train_dataset(config), train_config)
    artifacts = RunArtifacts(root, f"run-{task}")
    with publish_dir(artifacts.model_dir) as staging:
        save_checkpoint(model, staging, run_config=config)
    precompute_features(model, config, artifacts)
    return artifacts


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    artifacts = trained_run(tmp_path_factory.mktemp("runs"), "single")
    return artifacts, evaluate_run(artifacts)


@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    artifacts = trained_run(tmp_path_factory.mktemp("runs"), "multi")
    return artifacts, evaluate_run(artifacts)


def check_layer(layer, filters, map_side, parts):
    geometry = layer.geometry
    assert np.asarray(geometry.unit_centers).shape == (map_side, map_side, 2)
    assert isinstance(geometry.rf_size, int) and geometry.rf_size > 0
    assert 0 < geometry.rf_radius <= geometry.rf_size
    assert geometry.rf_radius_source == "effective"
    assert 0 < geometry.rf_jump <= geometry.rf_size
    assert len(geometry.thresholds) == filters
    instability = layer.location_instability
    assert len(instability.per_filter) == filters
    assert 0 <= instability.mean < 1 and 0 <= instability.excluded <= filters
    assert 0 < instability.oracle_reference < instability.random_reference < 1
    interpretability = layer.part_interpretability
    assert 0 <= interpretability.mean <= 1
    assert interpretability.parts == parts
    assert len(interpretability.best_part) == len(interpretability.per_filter) == filters
    per_part = np.array(interpretability.per_filter_part, dtype=np.float64)
    assert per_part.shape == (filters, len(parts))
    # P_f = max_k P_fk, and the best part is its argmax.
    assert np.allclose(
        np.nanmax(np.where(np.isnan(per_part), -1, per_part), axis=1),
        [-1 if p is None else p for p in interpretability.per_filter],
    )
    assert set(interpretability.best_part) <= {*parts, None}
    assert sum(interpretability.best_part_histogram.values()) == filters
    matched = [part for part in interpretability.best_part if part is not None]
    if matched:  # the largest share among the filters that match a part
        largest = max(matched.count(part) for part in parts)
        assert interpretability.best_part_share == pytest.approx(largest / len(matched))
        assert 0 <= interpretability.best_part_entropy <= 1
    else:
        assert interpretability.best_part_share is None
    assert interpretability.rf_radius == geometry.rf_radius
    at_radius = [s for s in interpretability.radius_sensitivity if s.source == "effective x1"]
    assert at_radius[0].mean == interpretability.mean
    assert 0 < interpretability.oracle_reference <= 1


def test_single_category_metrics_follow_the_schema(single):
    artifacts, metrics = single
    manifest = artifacts.manifest()
    assert isinstance(metrics, RunMetrics) and metrics.schema_version == SCHEMA_VERSION
    assert metrics.run_id == "run-single" and metrics.arch == "tiny"
    assert metrics.interpretable is True and metrics.task == "single"
    assert metrics.category == "bird" and metrics.categories == ["negative", "bird"]
    # Evaluated on the positives only, as the paper.
    assert metrics.num_images == sum(label == 1 for label in manifest["labels"])
    assert metrics.evaluation.images == "positives of the category"
    assert 0 <= metrics.accuracy <= 1 and metrics.per_category_accuracy is None
    assert metrics.top_layer == "conv_added" and list(metrics.layers) == [
        "conv_top",
        "conv_added",
    ]
    parts = ["head", "torso", "front_legs", "back_legs", "tail"]
    for layer in metrics.layers.values():
        check_layer(layer, WIDTH, 8, parts)
        assert layer.target_category is None
    written = json.loads(artifacts.metrics_path.read_text())
    assert written == metrics.model_dump(mode="json")
    # Multi-category-only fields are absent from a single-category file, not null.
    assert "per_category_accuracy" not in written and "multi_loss" not in written
    assert all("target_category" not in layer for layer in written["layers"].values())
    assert load_run_metrics(artifacts.metrics_path) == metrics


def test_heatmaps_are_written_as_png_and_arrays(single):
    artifacts, metrics = single
    assert metrics.heatmaps == {"bird": "heatmaps/bird.png"}
    png = Image.open(io.BytesIO((artifacts.root / metrics.heatmaps["bird"]).read_bytes()))
    assert png.mode == "RGB" and png.size == (256, 256)
    arrays = np.load(artifacts.root / metrics.heatmap_arrays["bird"])
    assert arrays["heat"].shape == (64, 64) and arrays["mean_image"].shape == (64, 64, 3)
    assert arrays["heat"].sum() == pytest.approx(1.0, abs=1e-4)
    assert int(arrays["images"]) == metrics.num_images


def test_rerun_gives_identical_metrics(single):
    artifacts, metrics = single
    first = artifacts.metrics_path.read_bytes()
    assert evaluate_run(artifacts) == metrics
    assert artifacts.metrics_path.read_bytes() == first
    assert sorted(p.name for p in artifacts.root.iterdir()) == [
        "annotations.npz",
        "features",
        "heatmaps",
        "metrics.json",
        "model",
    ]


def test_multi_category_assigns_target_categories_from_the_stored_maps(multi):
    artifacts, metrics = multi
    weights = (artifacts.model_dir / "model.safetensors").read_bytes()
    categories = artifacts.manifest()["categories"]
    assert metrics.task == "multi" and metrics.category is None
    assert metrics.num_images == artifacts.manifest()["num_images"]
    assert set(metrics.per_category_accuracy) == set(categories)
    assert metrics.multi_loss == "softmax"
    assert set(metrics.heatmaps) == set(categories)
    labels = np.asarray(artifacts.manifest()["labels"])
    for name, layer in metrics.layers.items():
        check_layer(layer, WIDTH, 8, ["head", "torso", "front_legs", "back_legs", "tail"])
        expected = filter_target_categories(artifacts.feature_maps(name), labels, len(categories))
        assert layer.target_category == [categories[c] for c in expected]
    # Evaluation reads the model; it never writes back any statistic.
    assert (artifacts.model_dir / "model.safetensors").read_bytes() == weights
    assert load_run_metrics(artifacts.metrics_path) == metrics


def test_a_run_without_feature_maps_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no published feature maps"):
        evaluate_run(RunArtifacts(tmp_path, "missing"))


def test_heatmaps_count_only_filters_that_fire(single):
    # A filter whose map is all zero on an image places no part there: its argmax (unit 0, 0)
    # would otherwise be counted. Expected: (image, filter) pairs that fire with p(mu_hat)
    # inside the image's box, from the stored statistics and annotations.
    artifacts, metrics = single
    stats = artifacts.filter_stats(metrics.top_layer)
    stored = np.load(artifacts.root / metrics.annotation_arrays)
    indices, boxes = stored["indices"], stored["bboxes"]
    centers = np.asarray(metrics.layers[metrics.top_layer].geometry.unit_centers).reshape(-1, 2)
    positions = centers[np.asarray(stats.image_argmax)[:, indices]]  # [F, n, 2]
    relative = (positions - boxes[None, :, :2]) / (boxes[None, :, 2:] - boxes[None, :, :2])
    inside = ((relative >= 0) & (relative < 1)).all(axis=2)
    fired = np.asarray(stats.image_max)[:, indices] > 0
    assert fired.any() and not fired.all(), "the fixture needs filters that do not always fire"
    arrays = np.load(artifacts.root / metrics.heatmap_arrays["bird"])
    assert int(arrays["points"]) == int((inside & fired).sum())
