"""The contract of a run's ``features/`` folder: its manifest and its per-filter statistics.

Written by the library at publication (:class:`partlens.store.artifacts.FeaturesWriter`), read
by evaluation and by the API. Version 2 (:data:`FEATURES_SCHEMA_VERSION`) stores each layer
filter-major, ``<layer>.npy`` float16 [F, N, h, w], so that one filter over all N evaluation
images is one contiguous read; ``<layer>.stats.npz`` holds :class:`FilterStats`; ``images/``
holds the exact uint8 crops the model saw, as PNG. A manifest without ``schema_version`` is a
version-1 folder: image-major [N, F, h, w] maps, no statistics, no images.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

FEATURES_SCHEMA_VERSION = 2
LEGACY_SCHEMA_VERSION = 1
FILTER_MAJOR = "filter-major"  # <layer>.npy is [F, N, h, w]
IMAGE_MAJOR = "image-major"  # <layer>.npy is [N, F, h, w] (version 1)
TOP_K = 16  # top images kept per filter in the statistics
_CHUNK_VALUES = 1 << 24  # float32 values converted at once when computing statistics


class UnsupportedFeaturesError(ValueError):
    """A features manifest this version of partlens cannot read."""


class LayerLayout(BaseModel):
    """One interpretable layer's maps per image."""

    model_config = ConfigDict(extra="forbid")

    shape: list[int] = Field(description="(F, h, w): filters and map side of one image.")


class FeaturesManifest(BaseModel):
    """``features/manifest.json``: what the folder holds; published last, in one rename."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int = Field(description="FEATURES_SCHEMA_VERSION (1: a legacy folder).")
    layout: Literal["filter-major", "image-major"] = Field(
        description="filter-major: <layer>.npy is [F, N, h, w]; image-major: [N, F, h, w]."
    )
    dtype: Literal["float16"] = "float16"
    num_images: int = Field(ge=0, description="N, evaluation images in dataset order.")
    layers: dict[str, LayerLayout] = Field(description="Bottom to top, as PartModel.layer_names.")
    images: list[str] = Field(
        default_factory=list,
        description="Image i's PNG, relative to features/ (empty: published without images).",
    )
    top_k: int = Field(default=0, description="Top images per filter in <layer>.stats.npz.")
    dataset: dict[str, Any] | None = Field(default=None, description="The evaluation spec.")
    split: str | None = None
    image_size: int | None = None
    categories: list[str] = Field(default_factory=list)
    labels: list[int] = Field(default_factory=list, description="Task label per image.")
    logits: list[list[float]] = Field(default_factory=list, description="[N, num_classes].")

    @property
    def has_stats(self) -> bool:
        """Whether ``<layer>.stats.npz`` files were published (version 2)."""
        return self.schema_version >= FEATURES_SCHEMA_VERSION


def parse_features_manifest(data: dict[str, Any]) -> FeaturesManifest:
    """A decoded manifest as :class:`FeaturesManifest`; a version-1 one (no schema_version) is
    read as image-major without images. UnsupportedFeaturesError for any other version."""
    data = dict(data)
    version = data.setdefault("schema_version", LEGACY_SCHEMA_VERSION)
    if version == LEGACY_SCHEMA_VERSION:
        data.setdefault("layout", IMAGE_MAJOR)
    elif version != FEATURES_SCHEMA_VERSION:
        raise UnsupportedFeaturesError(
            f"features schema_version {version!r} is not one this partlens reads "
            f"({LEGACY_SCHEMA_VERSION} or {FEATURES_SCHEMA_VERSION}): re-run the run or "
            "upgrade partlens"
        )
    try:
        return FeaturesManifest.model_validate(data)
    except ValidationError as error:
        raise UnsupportedFeaturesError(f"invalid features manifest: {error}") from error


def load_features_manifest(path: Path) -> FeaturesManifest:
    """Read ``manifest.json``; FileNotFoundError when absent, UnsupportedFeaturesError when
    of an unknown version or malformed."""
    return parse_features_manifest(json.loads(Path(path).read_text()))


@dataclass(frozen=True)
class FilterStats:
    """Per-filter statistics of one layer's maps x over the N evaluation images; every array is
    indexed by filter f first. Units are (row, col) in the [h, w] map."""

    peak: np.ndarray  # float32 [F]: max over images and units
    argmax_image: np.ndarray  # int64 [F]: the image of the peak (first in dataset order)
    argmax_unit: np.ndarray  # int64 [F, 2]: the unit of the peak in that image
    mean: np.ndarray  # float64 [F]: mean activation over images and units
    mean_max: np.ndarray  # float64 [F]: mean over images of the per-image max
    image_max: np.ndarray  # float32 [F, N]: per-image max
    image_argmax: np.ndarray  # int32 [F, N]: per-image argmax unit, flat index into h * w
    top_images: np.ndarray  # int64 [F, k]: images by descending per-image max (ties: order)
    top_scores: np.ndarray  # float32 [F, k]: their per-image max
    top_units: np.ndarray  # int64 [F, k, 2]: their argmax units
    map_shape: tuple[int, int]  # (h, w)

    def top(self, f: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ``k`` images filter ``f`` fires most on: ids, per-image max, argmax units."""
        if k <= self.top_images.shape[1]:
            return self.top_images[f, :k], self.top_scores[f, :k], self.top_units[f, :k]
        order = np.argsort(-self.image_max[f], kind="stable")[:k]
        units = np.stack(np.unravel_index(self.image_argmax[f, order], self.map_shape), axis=-1)
        return order, self.image_max[f, order], units

    def save(self, path: Path) -> None:
        """Write as ``.npz`` (uncompressed: it is read on every filter request)."""
        arrays: dict[str, Any] = {
            item.name: np.asarray(getattr(self, item.name)) for item in fields(self)
        }
        with open(path, "wb") as file:
            np.savez(file, **arrays)

    @classmethod
    def load(cls, path: Path) -> FilterStats:
        """Read a file written by :meth:`save`; the arrays are read-only."""
        with np.load(path) as data:
            arrays = {name: data[name] for name in data.files}
        for array in arrays.values():
            array.flags.writeable = False
        shape = arrays.pop("map_shape")
        return cls(**arrays, map_shape=(int(shape[0]), int(shape[1])))


def compute_filter_stats(maps: np.ndarray, top_k: int = TOP_K) -> FilterStats:
    """:class:`FilterStats` of maps [F, N, h, w] (any dtype; a memmap is read in chunks of
    filters), computed on float32 values so that they equal what a reader of ``maps`` finds."""
    num_filters, num_images, h, w = maps.shape
    if num_images == 0 or h * w == 0:
        raise ValueError(f"no activations to summarise in maps of shape {maps.shape}")
    image_max = np.zeros((num_filters, num_images), dtype=np.float32)
    image_argmax = np.zeros((num_filters, num_images), dtype=np.int32)
    total = np.zeros(num_filters, dtype=np.float64)
    step = max(1, _CHUNK_VALUES // (num_images * h * w))
    for start in range(0, num_filters, step):
        flat = np.asarray(maps[start : start + step], dtype=np.float32).reshape(
            -1, num_images, h * w
        )
        image_argmax[start : start + step] = flat.argmax(axis=2)
        image_max[start : start + step] = flat.max(axis=2)
        total[start : start + step] = flat.sum(axis=(1, 2), dtype=np.float64)
    # A stable sort keeps ties in dataset order, so top image 0 is the first image at the peak.
    order = np.argsort(-image_max, axis=1, kind="stable")[:, : min(top_k, num_images)]
    rows = np.arange(num_filters)[:, None]
    top_units = np.stack(np.unravel_index(image_argmax[rows, order], (h, w)), axis=-1)
    return FilterStats(
        peak=image_max[rows[:, 0], order[:, 0]],
        argmax_image=order[:, 0].astype(np.int64),
        argmax_unit=top_units[:, 0].astype(np.int64),
        mean=total / (num_images * h * w),
        mean_max=image_max.mean(axis=1, dtype=np.float64),
        image_max=image_max,
        image_argmax=image_argmax,
        top_images=order.astype(np.int64),
        top_scores=image_max[rows, order],
        top_units=top_units.astype(np.int64),
        map_shape=(h, w),
    )
