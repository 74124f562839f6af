"""Samples of a dataset for the dataset page: a page of annotations as JSON and each sample as
PNG, optionally with its part masks or landmarks drawn (``partlens.data.preview.annotate``).

``builtin`` is the generated dataset at its default split sizes, and every dataset is shown at
SAMPLE_IMAGE_SIZE pixels, as bounding-box crops (the form runs train on). Responses carry
ETags like the run routes; rendered PNGs are kept on disk under
``<data_dir>/sample-cache/<name>/cache/``. A builtin sample is a pure function of the generator's
code, so its ETag covers the generator's source files; a registered sample's covers its image
file (path, inode, mtime, size), so an edited or replaced file is rendered again.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from backend.api.deps import SessionFactoryDep, SettingsDep
from backend.core.caching import NOT_MODIFIED, cached_response, json_body
from backend.rendering import png_bytes
from backend.schemas import DatasetSampleItem, DatasetSamples, SampleLandmark
from partlens.assets import AssetError
from partlens.assets.datasets import BUILTIN, get_dataset
from partlens.store import RunArtifacts

router = APIRouter(prefix="/datasets/{name}/samples", tags=["datasets"])

SAMPLE_IMAGE_SIZE = 128  # side of the crops shown; large enough to see the parts
MAX_PAGE = 100
MAX_INDEX = 2**31 - 1
CACHE_FOLDER = "sample-cache"
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown dataset, or sample index out of range."},
    409: {"description": "The registered dataset's folder cannot be read any more."},
    **NOT_MODIFIED,
}
Split = Annotated[Literal["train", "test"], Query(description="The dataset split.")]
DatasetName = Annotated[str, Path(min_length=1, max_length=200)]


@dataclasses.dataclass(frozen=True)
class SampleSource:
    """An opened dataset split and where its rendered samples are cached."""

    name: str
    dataset: Any  # a partlens.data.PartDataset
    cache: RunArtifacts  # only its root (the cache's folder and ETag id) is used

    def sources(self, index: int) -> list[FilePath]:
        """The files sample ``index`` derives from (their identities go into its ETag)."""
        records = getattr(self.dataset, "records", None)
        if records is not None:
            return [FilePath(records[index].image_path)]
        from partlens.data.builtin import generator, render

        return [FilePath(generator.__file__), FilePath(render.__file__)]


@lru_cache(maxsize=8)
def _load(format: str, root: str | None, split: str) -> Any:
    # Indexing a registered folder reads every annotation file: once per (folder, split).
    from partlens.data import load_dataset

    options: dict[str, Any] = {"task": "multi"}
    if root is not None:
        options["root"] = root
    return load_dataset(format, split, SAMPLE_IMAGE_SIZE, **options)


def open_samples(sessions: Any, data_dir: FilePath, name: str, split: str) -> SampleSource:
    """Dataset ``name``'s ``split`` (404 when unknown, 409 when its folder is unreadable)."""
    try:
        entry = get_dataset(sessions, name)
    except AssetError as error:
        raise HTTPException(status_code=error.status, detail=str(error)) from None
    root = None if entry.name == BUILTIN else entry.root
    try:
        dataset = _load(entry.format, root, split)
    except (ValueError, OSError, KeyError) as error:
        raise HTTPException(
            status_code=409, detail=f"dataset {name!r} ({split}) cannot be read: {error}"
        ) from None
    return SampleSource(name, dataset, RunArtifacts(data_dir / CACHE_FOLDER, name))


def check_index(source: SampleSource, index: int) -> None:
    """404 unless ``index`` is a sample of the split."""
    if index >= len(source.dataset):
        raise HTTPException(
            status_code=404,
            detail=f"sample {index} out of range: {source.name} has {len(source.dataset)}",
        )


def sample_item(dataset: Any, index: int) -> DatasetSampleItem:
    """The annotations of sample ``index``: category, bbox, parts with a mask, landmarks."""
    sample = dataset[index]
    masks = sample.part_masks or {}
    return DatasetSampleItem(
        index=index,
        category=sample.category,
        bbox=None if sample.bbox is None else [float(v) for v in sample.bbox],
        parts=[part for part in dataset.part_names if part in masks and masks[part].any()],
        landmarks=[
            SampleLandmark(name=name, x=float(x), y=float(y))
            for name, (x, y) in sample.landmarks.items()
        ],
    )


def render_sample(dataset: Any, index: int, overlay: str) -> bytes:
    """Sample ``index`` as PNG: the image alone, with its part masks, or with its landmarks."""
    from partlens.data.preview import annotate

    sample = dataset[index]
    if overlay == "none":
        return png_bytes(np.ascontiguousarray(sample.image))
    if overlay == "masks":
        sample = dataclasses.replace(sample, landmarks={})
    else:
        sample = dataclasses.replace(sample, part_masks=None)
    return png_bytes(np.asarray(annotate(sample, dataset.part_names)))


@router.get("", response_model=DatasetSamples, responses=ERRORS)
async def samples(
    name: DatasetName,
    request: Request,
    sessions: SessionFactoryDep,
    settings: SettingsDep,
    split: Split = "train",
    offset: Annotated[int, Query(ge=0, le=MAX_INDEX, description="First sample")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Samples per page")] = 24,
) -> Response:
    """A page of the split's samples with their annotations; ``total`` is the split's size."""
    source = await run_in_threadpool(open_samples, sessions, settings.data_dir, name, split)
    indices = range(offset, min(offset + limit, len(source.dataset)))
    sources = sorted({path for index in indices for path in source.sources(index)})

    def render() -> bytes:
        items = [sample_item(source.dataset, index) for index in indices]
        return json_body(DatasetSamples(total=len(source.dataset), items=items))

    return await cached_response(
        request, source.cache, sources, render, media_type="application/json"
    )


@router.get(
    "/{index}.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **ERRORS},
)
async def sample_png(
    name: DatasetName,
    request: Request,
    sessions: SessionFactoryDep,
    settings: SettingsDep,
    index: Annotated[int, Path(ge=0, le=MAX_INDEX, description="Sample index in the split")],
    split: Split = "train",
    overlay: Annotated[
        Literal["none", "masks", "landmarks"], Query(description="What to draw over the image")
    ] = "none",
) -> Response:
    """Sample ``index`` of the split (SAMPLE_IMAGE_SIZE pixels square), with its part masks
    tinted or its landmarks dotted (and the box and category) when ``overlay`` asks."""
    source = await run_in_threadpool(open_samples, sessions, settings.data_dir, name, split)
    check_index(source, index)
    return await cached_response(
        request,
        source.cache,
        source.sources(index),
        lambda: render_sample(source.dataset, index, overlay),
        media_type="image/png",
        disk=True,
    )
