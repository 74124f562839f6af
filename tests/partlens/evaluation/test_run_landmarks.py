"""Evaluation on a dataset that annotates landmarks but no part masks (CUB-200): location
instability, thresholds and Fig. 6 heat maps, no part interpretability, and the reason why."""

import json

import numpy as np
import pytest
import torch

from partlens.evaluation.annotations import evaluated_images
from partlens.evaluation.features import precompute_features
from partlens.evaluation.run import evaluate_run
from partlens.evaluation.schema import load_run_metrics
from partlens.models import build_model, save_checkpoint
from partlens.runs.config import RunConfig, build_eval_dataset, build_train_dataset
from partlens.store import RunArtifacts
from partlens.store.atomic_io import publish_dir
from partlens.training.loop import TrainConfig, train
from tests.cub_folder import write_cub_scenes

WIDTH = 8


@pytest.fixture(scope="module")
def cub_run(tmp_path_factory):
    root = write_cub_scenes(tmp_path_factory.mktemp("datasets") / "cub", train=16, test=8, size=72)
    config = RunConfig(
        arch="tiny",
        epochs=1,
        batch_size=8,
        max_steps=2,
        dataset={
            "name": "cub",
            "format": "cub200",
            "root": str(root),
            "categories": ["bird"],
            "task": "single",
            "category": "bird",
            "image_size": 64,
            "train_size": 16,
            "eval_size": 8,
        },
    ).model_dump()
    torch.manual_seed(0)
    model = build_model("tiny", num_classes=1, input_size=64, width=WIDTH)
    train(
        model,
        build_train_dataset(config),
        TrainConfig(epochs=1, batch_size=8, max_steps=2, task="single", device="cpu"),
    )
    artifacts = RunArtifacts(tmp_path_factory.mktemp("runs"), "run-cub")
    with publish_dir(artifacts.model_dir) as staging:
        save_checkpoint(model, staging, run_config=config)
    precompute_features(model, config, artifacts)
    return artifacts, evaluate_run(artifacts), config


def test_a_landmark_only_dataset_gets_location_instability_and_the_reason(cub_run):
    artifacts, metrics, _ = cub_run
    assert metrics.part_interpretability_absent == (
        "cub (cub200) annotates landmarks, not part masks: part interpretability (P_f, best "
        "parts) needs masks; location instability is measured on the landmarks"
    )
    for layer in metrics.layers.values():
        assert layer.part_interpretability is None
        instability = layer.location_instability
        assert instability.landmarks[:3] == ["head", "back", "tail"]
        assert len(instability.per_filter) == WIDTH == layer.num_filters
        assert 0 <= instability.mean < 1
        assert instability.oracle_reference < instability.random_reference
        # T_f is still recorded: the RF overlay of the filter view uses it.
        assert len(layer.geometry.thresholds) == WIDTH
    written = json.loads(artifacts.metrics_path.read_text())
    assert all(layer["part_interpretability"] is None for layer in written["layers"].values())
    assert load_run_metrics(artifacts.metrics_path) == metrics


def test_heat_maps_need_only_positions_and_boxes(cub_run):
    artifacts, metrics, _ = cub_run
    assert metrics.heatmaps == {"bird": "heatmaps/bird.png"}
    arrays = np.load(artifacts.root / metrics.heatmap_arrays["bird"])
    assert int(arrays["images"]) == metrics.num_images
    assert arrays["heat"].sum() == pytest.approx(1.0, abs=1e-4)


def test_the_ground_truth_of_the_evaluated_images_is_stored(cub_run):
    artifacts, metrics, config = cub_run
    assert metrics.annotation_arrays == "annotations.npz"
    dataset = build_eval_dataset(config)
    labels = np.asarray(artifacts.manifest()["labels"])
    expected = evaluated_images(dataset, labels, ["negative", "bird"], "single")
    with np.load(artifacts.root / metrics.annotation_arrays) as stored:
        assert stored["indices"].tolist() == expected.indices.tolist()
        assert stored["landmark_names"].tolist() == expected.landmark_names
        np.testing.assert_array_equal(stored["bboxes"], expected.bboxes)
        np.testing.assert_array_equal(stored["landmarks"], expected.landmarks)
        assert stored["category_names"].tolist() == ["bird"]
    assert not expected.has_masks and expected.part_names == []
