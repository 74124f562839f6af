"""Run artifacts on disk, written atomically so that readers never see partial data.

Layout of ``<data_dir>/runs/<run_id>/``::

    model/                      checkpoint (safetensors + JSON), published as one folder
    features/<layer>.npy        float16 [F, N, h, w] maps x of the N evaluation images,
                                filter-major: one filter over all images is one contiguous read
    features/<layer>.stats.npz  per-filter statistics (FilterStats: peak, argmax, top images)
    features/images/<i>.png     evaluation image i, the uint8 crop the model was fed
    features/manifest.json      FeaturesManifest: version, layout, shapes, images, dataset spec,
                                labels, logits (written last; the folder is published in one
                                rename)
    metrics.json                evaluation results (metrics per layer, geometry, heat-map paths)
    heatmaps/<category>.png     Fig. 6 part heat maps of the top interpretable layer

Serving a run needs only these files: no dataset, generator or model.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from partlens.store.atomic_io import atomic_write_json, publish_dir
from partlens.store.features_manifest import (
    FEATURES_SCHEMA_VERSION,
    FILTER_MAJOR,
    IMAGE_MAJOR,
    TOP_K,
    FeaturesManifest,
    FilterStats,
    compute_filter_stats,
    load_features_manifest,
    parse_features_manifest,
)

MANIFEST = "manifest.json"
IMAGES = "images"
PNG_THREADS = max(1, min(4, (os.cpu_count() or 1) - 1))
# Images queued for encoding at most: memory stays bounded when encoding lags the model.
_MAX_QUEUED_IMAGES = 256
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class MissingImagesError(LookupError):
    """The run's features were published without images (before images were stored)."""


class RunArtifacts:
    """Paths and readers for one run's published artifacts."""

    def __init__(self, runs_dir: Path, run_id: str) -> None:
        self.root = Path(runs_dir) / run_id

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def checkpoint_dir(self) -> Path:
        """Training checkpoints (for resume after a crash); not a published artifact."""
        return self.root / "checkpoints"

    @property
    def features_dir(self) -> Path:
        return self.root / "features"

    @property
    def metrics_path(self) -> Path:
        return self.root / "metrics.json"

    @property
    def heatmaps_dir(self) -> Path:
        return self.root / "heatmaps"

    def metrics(self) -> dict[str, Any] | None:
        """The evaluation results (``metrics.json``), or None while the run is not evaluated."""
        if not self.metrics_path.is_file():
            return None
        return json.loads(self.metrics_path.read_text())

    def manifest(self) -> dict[str, Any] | None:
        """The feature manifest as published (a dict), or None while none is published."""
        path = self.features_dir / MANIFEST
        if not path.is_file():
            return None
        return json.loads(path.read_text())

    def features_manifest(self) -> FeaturesManifest:
        """The typed feature manifest (a version-1 folder reads as image-major, no images).

        FileNotFoundError while none is published; UnsupportedFeaturesError for an unknown
        version.
        """
        path = self.features_dir / MANIFEST
        return _load_manifest(str(path), _identity(path))

    def layer_maps(self, layer: str) -> np.ndarray:
        """Memory-mapped float16 maps [F, N, h, w] of ``layer`` (a transposed view for a
        version-1 folder); KeyError for unknown layers."""
        manifest = self.features_manifest()
        if layer not in manifest.layers:
            raise KeyError(layer)
        maps = np.load(self.features_dir / f"{layer}.npy", mmap_mode="r")
        return maps.swapaxes(0, 1) if manifest.layout == IMAGE_MAJOR else maps

    def filter_maps(self, layer: str, f: int) -> np.ndarray:
        """Filter ``f``'s maps x [N, h, w] over all evaluation images: one contiguous float16
        memmap slice (strided for a version-1 folder); IndexError when out of range."""
        maps = self.layer_maps(layer)
        if not 0 <= f < maps.shape[0]:
            raise IndexError(f"filter {f} out of range: layer {layer!r} has {maps.shape[0]}")
        return maps[f]

    def feature_maps(self, layer: str) -> np.ndarray:
        """Maps [N, F, h, w] of ``layer``, the layout the metrics take (a view, no copy)."""
        return self.layer_maps(layer).swapaxes(0, 1)

    def filter_stats(self, layer: str) -> FilterStats:
        """Per-filter statistics of ``layer`` as published (computed from the maps for a
        version-1 folder); KeyError for unknown layers."""
        manifest = self.features_manifest()
        if layer not in manifest.layers:
            raise KeyError(layer)
        if manifest.has_stats:
            path = self.features_dir / f"{layer}.stats.npz"
            return _load_stats(str(path), _identity(path))
        path = self.features_dir / f"{layer}.npy"
        return _legacy_stats(str(path), _identity(path))

    def image_path(self, index: int) -> Path:
        """The PNG of evaluation image ``index`` (the exact crop the model saw).

        IndexError when out of range; MissingImagesError when the run was published without
        images.
        """
        manifest = self.features_manifest()
        if not 0 <= index < manifest.num_images:
            raise IndexError(
                f"image {index} out of range: the run has {manifest.num_images} images"
            )
        if not manifest.images:
            raise MissingImagesError(
                f"run {self.root.name} was published before images were stored; re-run it"
            )
        return self.features_dir / manifest.images[index]

    @contextmanager
    def publish_features(self, num_images: int) -> Iterator[FeaturesWriter]:
        """Stage a publication of ``features/`` for ``num_images`` evaluation images; on
        :meth:`FeaturesWriter.commit` and a clean exit it replaces the folder in one rename
        (an exception, or no commit, publishes nothing)."""
        with publish_dir(self.features_dir) as staging:
            writer = FeaturesWriter(staging, num_images)
            try:
                yield writer
            finally:
                writer.close()
            if not writer.committed:
                raise RuntimeError("features staged but not committed: nothing published")

    def write_features(
        self,
        maps: Mapping[str, np.ndarray],
        manifest: Mapping[str, Any],
        images: Sequence[np.ndarray] | None = None,
    ) -> None:
        """Publish whole layers at once: maps [N, F, h, w] per layer (bottom to top), the
        manifest's descriptive fields (dataset, labels, logits, ...) and optionally the uint8
        images, as one folder with the manifest written last."""
        num_images = len(next(iter(maps.values())))
        with self.publish_features(num_images) as writer:
            for layer, array in maps.items():
                writer.write_maps(layer, 0, array)
            if images is not None:
                writer.write_images(0, images)
            writer.commit(manifest)


class FeaturesWriter:
    """One staged publication of ``features/``: each layer goes straight into a preallocated
    filter-major float16 memmap, images are PNG-encoded in background threads while the model
    runs (zlib releases the GIL), and :meth:`commit` adds the statistics and then the
    manifest."""

    def __init__(self, staging: Path, num_images: int) -> None:
        if num_images < 1:
            raise ValueError("a features folder needs at least one evaluation image")
        self.staging = staging
        self.num_images = num_images
        self.committed = False
        self._maps: dict[str, np.ndarray] = {}
        self._filled: dict[str, int] = {}
        self._images = 0
        self._queued: deque[Future[None]] = deque()
        self._pool = ThreadPoolExecutor(PNG_THREADS, thread_name_prefix="png")

    def write_maps(self, layer: str, start: int, maps: np.ndarray) -> None:
        """Store maps [B, F, h, w] of images ``start .. start + B`` of ``layer``."""
        if layer not in self._maps:
            shape = (maps.shape[1], self.num_images, *maps.shape[2:])
            path = self.staging / f"{layer}.npy"
            self._maps[layer] = np.lib.format.open_memmap(
                path, mode="w+", dtype=np.float16, shape=shape
            )
            self._filled[layer] = 0
        self._maps[layer][:, start : start + len(maps)] = maps.swapaxes(0, 1)
        self._filled[layer] += len(maps)

    def write_images(self, start: int, images: Sequence[np.ndarray]) -> None:
        """Queue images ``start .. start + B`` (uint8 [H, W, 3], as fed to the model)."""
        folder = self.staging / IMAGES
        folder.mkdir(exist_ok=True)
        for offset, image in enumerate(images):
            path = folder / f"{start + offset}.png"
            self._queued.append(self._pool.submit(_save_png, path, image))
            self._images += 1
        while len(self._queued) > _MAX_QUEUED_IMAGES:
            self._queued.popleft().result()

    def commit(self, metadata: Mapping[str, Any]) -> FeaturesManifest:
        """Wait for the images, write each layer's statistics, then the manifest (last).

        metadata: the manifest's descriptive fields (dataset, split, image_size, categories,
        labels, logits); ``num_images``, when given, must match.
        """
        while self._queued:
            self._queued.popleft().result()
        fields = dict(metadata)
        if fields.pop("num_images", self.num_images) != self.num_images:
            raise ValueError(f"the manifest's num_images differs from {self.num_images}")
        if self._images not in (0, self.num_images):
            raise ValueError(f"{self._images} images stored for {self.num_images}")
        layers = {}
        for layer, maps in self._maps.items():
            if self._filled[layer] != self.num_images:
                raise ValueError(f"layer {layer}: {self._filled[layer]} of {self.num_images}")
            # No msync: readers share the page cache, and publication promises atomic
            # visibility, not durability across a power loss (as np.save did before).
            compute_filter_stats(maps, TOP_K).save(self.staging / f"{layer}.stats.npz")
            layers[layer] = {"shape": [maps.shape[0], *maps.shape[2:]]}
        if not layers:
            raise ValueError("no layer was written")
        images = [f"{IMAGES}/{i}.png" for i in range(self.num_images)] if self._images else []
        manifest = parse_features_manifest(
            {
                **fields,
                "schema_version": FEATURES_SCHEMA_VERSION,
                "layout": FILTER_MAJOR,
                "num_images": self.num_images,
                "layers": layers,
                "images": images,
                "top_k": min(TOP_K, self.num_images),
            }
        )
        atomic_write_json(self.staging / MANIFEST, manifest.model_dump(mode="json"))
        self.committed = True
        return manifest

    def close(self) -> None:
        """Stop the encoding threads (dropping queued images) and release the memmaps."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._maps.clear()


def _save_png(path: Path, image: np.ndarray) -> None:
    path.write_bytes(encode_png(image))


def encode_png(image: np.ndarray) -> bytes:
    """A lossless 8-bit RGB PNG of a uint8 [H, W, 3] image.

    Every row uses the Sub filter (each byte minus the same channel one pixel to the left) and
    zlib level 1: within a few percent of the size of PIL's PNG, and 2-3x faster to encode,
    because PIL tries every filter on every row. zlib and numpy release the GIL, so threads
    encode in parallel.
    """
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"images are stored as uint8 [H, W, 3], got {image.dtype} {image.shape}")
    height, width = image.shape[:2]
    flat = image.reshape(height, width * 3)
    rows = np.empty((height, 1 + width * 3), dtype=np.uint8)
    rows[:, 0] = 1  # the Sub filter type
    rows[:, 1:4] = flat[:, :3]
    np.subtract(flat[:, 3:], flat[:, :-3], out=rows[:, 4:])  # wraps modulo 256, as PNG's Sub
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    data = zlib.compress(rows.tobytes(), 1)
    return _PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _identity(path: Path) -> tuple[int, int, int]:
    # A republished file is a new inode: cached reads of the old one are never served for it.
    status = os.stat(path)
    return status.st_ino, status.st_mtime_ns, status.st_size


@lru_cache(maxsize=32)
def _load_manifest(path: str, identity: tuple[int, int, int]) -> FeaturesManifest:
    return load_features_manifest(Path(path))


@lru_cache(maxsize=16)
def _load_stats(path: str, identity: tuple[int, int, int]) -> FilterStats:
    return FilterStats.load(Path(path))


@lru_cache(maxsize=4)
def _legacy_stats(path: str, identity: tuple[int, int, int]) -> FilterStats:
    return compute_filter_stats(np.load(path, mmap_mode="r").swapaxes(0, 1), TOP_K)
