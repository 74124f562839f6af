"""Artifacts are written atomically and read back as published."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from partlens.store import RunArtifacts, atomic_io, atomic_write_json
from partlens.store.artifacts import MissingImagesError
from partlens.store.features_manifest import FEATURES_SCHEMA_VERSION, UnsupportedFeaturesError
from tests.partlens.evaluation.legacy_features import write_legacy_features


def test_features_roundtrip_and_manifest_last(tmp_path):
    artifacts = RunArtifacts(tmp_path, "run1")
    assert artifacts.manifest() is None
    rng = np.random.default_rng(0)
    maps = {
        "conv_top": rng.random((4, 3, 5, 5)).astype(np.float32),
        "conv_added": rng.random((4, 3, 5, 5)).astype(np.float32),
    }
    artifacts.write_features(maps, {"num_images": 4})
    manifest = artifacts.manifest()
    assert list(manifest["layers"]) == ["conv_top", "conv_added"], "bottom-to-top order kept"
    assert manifest["layers"]["conv_top"] == {"shape": [3, 5, 5]}
    loaded = artifacts.feature_maps("conv_top")
    assert loaded.dtype == np.float16 and loaded.shape == (4, 3, 5, 5)
    np.testing.assert_allclose(loaded, maps["conv_top"], atol=1e-3)
    with pytest.raises(KeyError):
        artifacts.feature_maps("missing")


def _maps(seed: int = 0, n: int = 6, f: int = 4, side: int = 5) -> np.ndarray:
    """Image-major maps [N, F, h, w] with distinct values (no ties but the ones set)."""
    return np.random.default_rng(seed).permutation(n * f * side * side).reshape(n, f, side, side)


def _images(n: int = 6, side: int = 9) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.integers(0, 256, (side, side + 2, 3), dtype=np.uint8) for _ in range(n)]


def test_maps_are_stored_filter_major_and_read_one_filter_contiguously(tmp_path):
    artifacts = RunArtifacts(tmp_path, "run1")
    maps = _maps().astype(np.float32) / 100
    artifacts.write_features({"conv": maps}, {"num_images": 6})
    on_disk = np.load(artifacts.features_dir / "conv.npy")
    assert on_disk.dtype == np.float16 and on_disk.shape == (4, 6, 5, 5)
    np.testing.assert_array_equal(on_disk, maps.astype(np.float16).swapaxes(0, 1))
    one = artifacts.filter_maps("conv", 2)
    assert isinstance(one, np.memmap) and one.flags.c_contiguous and one.shape == (6, 5, 5)
    np.testing.assert_array_equal(one, maps[:, 2].astype(np.float16))
    assert artifacts.layer_maps("conv").shape == (4, 6, 5, 5)
    np.testing.assert_array_equal(artifacts.feature_maps("conv"), maps.astype(np.float16))
    with pytest.raises(IndexError, match="has 4"):
        artifacts.filter_maps("conv", 4)
    with pytest.raises(KeyError):
        artifacts.filter_stats("missing")


def test_filter_stats_match_a_brute_force_computation(tmp_path):
    artifacts = RunArtifacts(tmp_path, "run1")
    maps = _maps(n=20, f=3, side=4).astype(np.float32)
    maps[3, 1, 2, 1] = maps.max() + 1
    maps[7, 1] = maps[3, 1]  # filter 1 peaks on images 3 and 7 alike: the first one wins
    artifacts.write_features({"conv": maps}, {"num_images": 20})
    stats = artifacts.filter_stats("conv")
    values = maps.astype(np.float16).astype(np.float32)
    for f in range(3):
        per_image = values[:, f].reshape(20, -1)
        image_max = per_image.max(axis=1)
        best = max(range(20), key=lambda i: (image_max[i], -i))
        row, col = divmod(int(per_image[best].argmax()), 4)
        assert stats.peak[f] == values[:, f].max() == image_max[best]
        assert stats.argmax_image[f] == best and tuple(stats.argmax_unit[f]) == (row, col)
        assert stats.mean[f] == pytest.approx(values[:, f].mean(dtype=np.float64))
        assert stats.mean_max[f] == pytest.approx(image_max.mean(dtype=np.float64))
        ranked = sorted(range(20), key=lambda i: (-image_max[i], i))[:16]
        assert stats.top_images[f].tolist() == ranked
        assert stats.top_scores[f].tolist() == [image_max[i] for i in ranked]
        units = [divmod(int(per_image[i].argmax()), 4) for i in ranked]
        assert [tuple(u) for u in stats.top_units[f]] == units
        # Beyond the stored 16 the same ranking comes from the per-image maxima.
        images, scores, top_units = stats.top(f, 20)
        assert images.tolist()[:16] == ranked and len(images) == 20
        assert scores.tolist() == sorted(image_max.tolist(), reverse=True)
        assert [tuple(u) for u in top_units[:16]] == units
    assert stats.argmax_image[1] == 3 and tuple(stats.argmax_unit[1]) == (2, 1)
    assert stats.top_images[1, :2].tolist() == [3, 7]


def test_stored_images_are_the_crops_byte_for_byte(tmp_path):
    artifacts = RunArtifacts(tmp_path, "run1")
    images = _images()
    artifacts.write_features({"conv": _maps()}, {"num_images": 6}, images=images)
    manifest = artifacts.features_manifest()
    assert manifest.images == [f"images/{i}.png" for i in range(6)]
    for index, image in enumerate(images):
        with Image.open(artifacts.image_path(index)) as stored:
            assert stored.format == "PNG" and stored.mode == "RGB"
            np.testing.assert_array_equal(np.asarray(stored), image)
    with pytest.raises(IndexError, match="has 6 images"):
        artifacts.image_path(6)


def test_manifest_is_typed_and_versioned(tmp_path):
    artifacts = RunArtifacts(tmp_path, "run1")
    with pytest.raises(FileNotFoundError):
        artifacts.features_manifest()
    artifacts.write_features({"a": _maps(), "b": _maps(1)}, {"num_images": 6, "labels": [1] * 6})
    manifest = artifacts.features_manifest()
    assert manifest.schema_version == FEATURES_SCHEMA_VERSION == 2
    assert manifest.layout == "filter-major" and manifest.dtype == "float16"
    assert list(manifest.layers) == ["a", "b"] and manifest.layers["a"].shape == [4, 5, 5]
    assert manifest.num_images == 6 and manifest.labels == [1] * 6 and manifest.top_k == 6
    assert manifest.images == [], "published without images"
    with pytest.raises(MissingImagesError, match="before images were stored; re-run it"):
        artifacts.image_path(0)
    raw = artifacts.manifest()
    atomic_write_json(artifacts.features_dir / "manifest.json", {**raw, "schema_version": 7})
    with pytest.raises(UnsupportedFeaturesError, match="schema_version 7"):
        artifacts.features_manifest()


def test_inconsistent_publications_publish_nothing(tmp_path):
    artifacts = RunArtifacts(tmp_path, "run1")
    with pytest.raises(ValueError, match="num_images"):
        artifacts.write_features({"conv": _maps()}, {"num_images": 5})
    with pytest.raises(ValueError, match="images stored"):
        artifacts.write_features({"conv": _maps()}, {}, images=_images(n=2))
    with pytest.raises(RuntimeError, match="not committed"), artifacts.publish_features(6) as w:
        w.write_maps("conv", 0, _maps())
    assert not artifacts.features_dir.exists()
    assert [p.name for p in tmp_path.joinpath("run1").iterdir()] == []


def test_legacy_folder_reads_through_the_same_accessors(tmp_path):
    artifacts = RunArtifacts(tmp_path, "old")
    maps = _maps().astype(np.float32)
    write_legacy_features(artifacts, {"conv": maps}, {"num_images": 6, "image_size": 9})
    manifest = artifacts.features_manifest()
    assert manifest.schema_version == 1 and manifest.layout == "image-major"
    np.testing.assert_array_equal(artifacts.filter_maps("conv", 1), maps[:, 1].astype(np.float16))
    np.testing.assert_array_equal(artifacts.feature_maps("conv"), maps.astype(np.float16))
    fresh = RunArtifacts(tmp_path, "new")
    fresh.write_features({"conv": maps}, {"num_images": 6})
    legacy, current = artifacts.filter_stats("conv"), fresh.filter_stats("conv")
    for name in ("peak", "argmax_image", "argmax_unit", "mean", "top_images", "top_units"):
        np.testing.assert_array_equal(getattr(legacy, name), getattr(current, name))
    with pytest.raises(MissingImagesError, match="re-run it"):
        artifacts.image_path(0)


@pytest.mark.skipif(
    atomic_io._renameat2() is None, reason="republication swaps folders atomically on Linux only"
)
def test_readers_never_see_a_partial_publication(tmp_path):
    artifacts = RunArtifacts(tmp_path, "run1")
    images = _images()
    artifacts.write_features({"conv": _maps(0)}, {"num_images": 6}, images=images)
    errors: list[BaseException] = []
    reads = 0
    stop = threading.Event()

    def read() -> None:
        nonlocal reads
        while not stop.is_set():
            try:
                manifest = artifacts.features_manifest()
                maps = np.asarray(artifacts.filter_maps("conv", 3))
                stats = artifacts.filter_stats("conv")
                png = artifacts.image_path(5).read_bytes()
                assert manifest.num_images == 6 and maps.shape == (6, 5, 5)
                assert stats.top_images.shape == (4, 6) and png.startswith(b"\x89PNG")
                reads += 1
            except BaseException as error:
                errors.append(error)
                return

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for seed in range(1, 30):
            artifacts.write_features({"conv": _maps(seed)}, {"num_images": 6}, images=images)
    finally:
        stop.set()
        reader.join()
    assert not errors, errors[0]
    assert reads > 0
    assert [p.name for p in tmp_path.joinpath("run1").iterdir()] == ["features"]
    np.testing.assert_array_equal(artifacts.feature_maps("conv"), _maps(29).astype(np.float16))
