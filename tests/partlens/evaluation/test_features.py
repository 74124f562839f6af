"""precompute_features publishes what serving needs: filter-major maps, per-filter statistics,
the crops the model saw and a versioned manifest, atomically; older folders stay readable."""

from __future__ import annotations

import shutil
import threading

import numpy as np
import pytest
import torch
from PIL import Image

from partlens.data import collate_samples, image_to_tensor
from partlens.evaluation.features import precompute_features
from partlens.evaluation.run import evaluate_run
from partlens.models import build_model, save_checkpoint
from partlens.runs.config import RunConfig, build_eval_dataset
from partlens.store import RunArtifacts, atomic_write_json
from partlens.store.artifacts import encode_png
from partlens.store.atomic_io import publish_dir
from partlens.store.features_manifest import UnsupportedFeaturesError
from tests.partlens.evaluation.legacy_features import downgrade_to_legacy

BATCH = 4  # 10 images: batches of 4, 4 and 2


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """An untrained tiny model's features for 10 evaluation images, with the model saved."""
    config = RunConfig(
        arch="tiny", width=8, dataset={"image_size": 64, "eval_size": 10}
    ).model_dump()
    torch.manual_seed(0)
    model = build_model("tiny", input_size=64, width=8).eval()
    artifacts = RunArtifacts(tmp_path_factory.mktemp("runs"), "run")
    with publish_dir(artifacts.model_dir) as staging:
        save_checkpoint(model, staging, run_config=config)
    dataset = build_eval_dataset(config)
    precompute_features(model, config, artifacts, batch_size=BATCH)
    return artifacts, model, config, dataset


def _batches(dataset):
    return [
        collate_samples([dataset[i] for i in range(start, min(start + BATCH, len(dataset)))])
        for start in range(0, len(dataset), BATCH)
    ]


def _copy(artifacts: RunArtifacts, tmp_path) -> RunArtifacts:
    shutil.copytree(artifacts.root, tmp_path / "run")
    return RunArtifacts(tmp_path, "run")


def test_maps_and_logits_are_the_models_in_filter_major_order(published):
    artifacts, model, _, dataset = published
    with torch.no_grad():
        batches = _batches(dataset)
        expected = {
            name: np.concatenate(
                [model.forward_features(b.images)[name].numpy() for b in batches]
            ).astype(np.float16)
            for name in model.layer_names
        }
        logits = np.concatenate([model(b.images).numpy() for b in batches])
    manifest = artifacts.features_manifest()
    assert list(manifest.layers) == model.layer_names
    for name, maps in expected.items():
        stored = artifacts.layer_maps(name)
        assert stored.shape == (maps.shape[1], 10, *maps.shape[2:])
        np.testing.assert_array_equal(stored, maps.swapaxes(0, 1))
        one = artifacts.filter_maps(name, 3)
        assert one.flags.c_contiguous and one.dtype == np.float16
        np.testing.assert_array_equal(one, maps[:, 3])
    np.testing.assert_allclose(manifest.logits, logits, atol=1e-6)
    assert manifest.labels == [dataset[i].label for i in range(10)]


def test_stored_images_are_the_crops_the_model_saw(published):
    artifacts, _, _, dataset = published
    fed = torch.cat([b.images for b in _batches(dataset)])
    for index in range(10):
        with Image.open(artifacts.image_path(index)) as png:
            stored = np.asarray(png)
        assert stored.tobytes() == dataset[index].image.tobytes()
        assert torch.equal(image_to_tensor(stored), fed[index])


def test_statistics_are_those_of_the_stored_maps(published):
    artifacts, model, _, _ = published
    for name in model.layer_names:
        maps = np.asarray(artifacts.layer_maps(name), dtype=np.float32)
        stats = artifacts.filter_stats(name)
        per_image = maps.reshape(*maps.shape[:2], -1).max(axis=2)
        np.testing.assert_array_equal(stats.peak, maps.max(axis=(1, 2, 3)))
        np.testing.assert_array_equal(stats.image_max, per_image)
        np.testing.assert_allclose(stats.mean, maps.mean(axis=(1, 2, 3)), rtol=1e-5)
        np.testing.assert_allclose(stats.mean_max, per_image.mean(axis=1), rtol=1e-5)
        assert stats.top_images.shape == (maps.shape[0], 10), "k = all when fewer than 16"
        for f in range(maps.shape[0]):
            best = stats.argmax_image[f]
            row, col = stats.argmax_unit[f]
            assert maps[f, best, row, col] == stats.peak[f]
            assert (np.diff(stats.top_scores[f]) <= 0).all()


def test_manifest_describes_the_folder(published):
    artifacts, _, config, _ = published
    manifest = artifacts.features_manifest()
    assert manifest.schema_version == 2 and manifest.layout == "filter-major"
    assert manifest.num_images == 10 and manifest.image_size == 64
    assert manifest.images == [f"images/{i}.png" for i in range(10)]
    assert manifest.dataset == config["dataset"] and manifest.categories == ["negative", "bird"]
    names = sorted(p.name for p in artifacts.features_dir.iterdir())
    assert names == [
        "conv_added.npy",
        "conv_added.stats.npz",
        "conv_top.npy",
        "conv_top.stats.npz",
        "images",
        "manifest.json",
    ]


def test_republishing_never_shows_a_reader_a_partial_folder(published, tmp_path):
    source, model, config, dataset = published
    artifacts = _copy(source, tmp_path)
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                manifest = artifacts.features_manifest()
                for name in manifest.layers:
                    assert np.asarray(artifacts.filter_maps(name, 0)).shape[0] == 10
                    assert artifacts.filter_stats(name).peak.shape == (8,)
                assert artifacts.image_path(9).read_bytes().startswith(b"\x89PNG")
            except BaseException as error:
                errors.append(error)
                return

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(4):
            precompute_features(model, config, artifacts, dataset=dataset, batch_size=BATCH)
    finally:
        stop.set()
        reader.join()
    assert not errors, errors[0]


def test_a_legacy_folder_evaluates_as_before(published, tmp_path):
    source, _, _, _ = published
    current = evaluate_run(_copy(source, tmp_path / "v2"))
    legacy = _copy(source, tmp_path / "v1")
    downgrade_to_legacy(legacy)
    assert legacy.features_manifest().layout == "image-major"
    assert evaluate_run(legacy).model_dump(exclude={"run_id"}) == current.model_dump(
        exclude={"run_id"}
    )


def test_evaluation_refuses_images_the_dataset_no_longer_reproduces(published, tmp_path):
    artifacts = _copy(published[0], tmp_path)
    dataset = published[3]
    positive = next(i for i in range(10) if dataset[i].label == 1)
    artifacts.image_path(positive).write_bytes(encode_png(np.zeros((64, 64, 3), np.uint8)))
    with pytest.raises(ValueError, match="no longer reproduces the run's images"):
        evaluate_run(artifacts)


def test_an_unknown_features_version_is_a_clear_error(published, tmp_path):
    artifacts = _copy(published[0], tmp_path)
    raw = artifacts.manifest()
    atomic_write_json(artifacts.features_dir / "manifest.json", {**raw, "schema_version": 99})
    with pytest.raises(UnsupportedFeaturesError, match="schema_version 99"):
        evaluate_run(artifacts)
