"""Datasets registered by name: a folder in a supported format under an allowed root.

Registration indexes the folder (both splits, every annotation file), so a broken file is
named when the dataset is added rather than in the middle of a run, and stores a
:class:`DatasetSummary`. A run names the dataset; the API resolves the name to the format and
root before the run is queued (:func:`resolve_dataset_spec`), so the worker needs no lookup.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from partlens.assets import AssetConflictError, AssetError, AssetNotFoundError, check_name
from partlens.store.db import DatasetEntry

BUILTIN = "builtin"
# Folder formats a dataset can be registered with (names of partlens.data's registry).
FORMATS = ("pascal-part", "cub200", "ilsvrc-part")
SPLITS = ("train", "test")
# Formats whose samples carry part masks (part interpretability needs them).
MASKED_FORMATS = frozenset({"pascal-part", BUILTIN})
# Formats whose single-category task has a category of its own: CUB-200's is "bird", every
# species one positive class (as the paper), where its multi-category task has the species.
SINGLE_TASK_CATEGORIES = {"cub200": ["bird"]}


class SplitSummary(BaseModel):
    """One split: objects in all and per category, objects with each part (landmark)."""

    objects: int
    per_category: dict[str, int]
    per_part: dict[str, int]


class DatasetSummary(BaseModel):
    """What a registered dataset holds, as indexed at registration."""

    categories: list[str]
    parts: list[str] = Field(description="Part names in the order masks are given.")
    landmarks: list[str]
    has_masks: bool = Field(description="Whether samples carry part masks.")
    splits: dict[str, SplitSummary]


class DatasetPublic(BaseModel):
    """A dataset known to the server (``builtin`` or registered)."""

    name: str
    format: str
    root: str | None
    categories: list[str] = Field(
        description="Valid dataset.category values of a single-category run."
    )
    summary: DatasetSummary


def allowed_roots(settings: Any) -> list[Path]:
    """The folders registered roots must lie under: ``PARTLENS_DATASET_ROOTS`` (separated by
    ``:``) or ``<data_dir>/datasets``."""
    if settings.dataset_roots:
        return [Path(p).expanduser() for p in str(settings.dataset_roots).split(":") if p]
    return [Path(settings.data_dir) / "datasets"]


def checked_root(root: str | Path, settings: Any) -> Path:
    """``root`` resolved (symlinks followed) when it is a folder under an allowed root."""
    path = Path(root).expanduser()
    if not path.exists():
        raise AssetError(f"dataset root {root} does not exist")
    resolved = path.resolve()
    if not resolved.is_dir():
        raise AssetError(f"dataset root {root} is not a folder")
    roots = allowed_roots(settings)
    if not any(resolved.is_relative_to(allowed.resolve()) for allowed in roots):
        shown = ", ".join(str(r) for r in roots)
        raise AssetError(
            f"dataset root {root} (resolved: {resolved}) is outside the allowed roots ({shown}); "
            "move it there or set PARTLENS_DATASET_ROOTS"
        )
    return resolved


def index_dataset(format: str, root: Path) -> DatasetSummary:
    """Index both splits of the folder ``root`` in ``format``; AssetError naming the first
    bad file and its problem."""
    from partlens.data import load_dataset

    if format not in FORMATS:
        raise AssetError(f"unknown dataset format {format!r}; choose one of {', '.join(FORMATS)}")
    splits: dict[str, SplitSummary] = {}
    dataset: Any = None
    for split in SPLITS:
        try:
            dataset = load_dataset(format, split, 64, root=root, task="multi")
            if len(dataset):
                dataset[0]  # the first image must decode, with its masks
        except (ValueError, OSError, KeyError) as error:
            raise AssetError(f"{format} folder {root}, split {split}: {error}") from None
        records = dataset.records
        per_part: Counter[str] = Counter()
        for record in records:
            per_part.update(record.landmarks.keys())
        splits[split] = SplitSummary(
            objects=len(records),
            per_category=dict(Counter(r.category for r in records)),
            per_part=dict(per_part),
        )
    if not splits["train"].objects:
        raise AssetError(f"{format} folder {root} has no training objects")
    return DatasetSummary(
        categories=list(dataset.categories),
        parts=list(dataset.part_names),
        landmarks=list(dataset.landmark_names),
        has_masks=format in MASKED_FORMATS,
        splits=splits,
    )


def builtin_dataset() -> DatasetPublic:
    """The generated dataset, always known (its sizes are chosen per run)."""
    from partlens.data import BUILTIN_CATEGORIES
    from partlens.data.builtin.animals import LANDMARK_NAMES, PART_NAMES

    return DatasetPublic(
        name=BUILTIN,
        format=BUILTIN,
        root=None,
        categories=list(BUILTIN_CATEGORIES),
        summary=DatasetSummary(
            categories=list(BUILTIN_CATEGORIES),
            parts=list(PART_NAMES),
            landmarks=list(LANDMARK_NAMES),
            has_masks=True,
            splits={},
        ),
    )


def _public(entry: DatasetEntry) -> DatasetPublic:
    summary = DatasetSummary.model_validate(entry.summary)
    return DatasetPublic(
        name=entry.name,
        format=entry.format,
        root=entry.root,
        categories=SINGLE_TASK_CATEGORIES.get(entry.format, summary.categories),
        summary=summary,
    )


def register_dataset(
    sessions: sessionmaker[Session], name: str, format: str, root: str | Path, settings: Any
) -> DatasetPublic:
    """Index ``root`` and record it as dataset ``name``; AssetError (422) for a bad folder,
    AssetConflictError (409) for a name in use."""
    check_name(name, "dataset")
    if name == BUILTIN:
        raise AssetConflictError("the name 'builtin' is the generated dataset's")
    resolved = checked_root(root, settings)
    with sessions() as session:
        if session.get(DatasetEntry, name) is not None:
            raise AssetConflictError(f"a dataset named {name!r} is registered already")
    summary = index_dataset(format, resolved)
    with sessions() as session:
        entry = DatasetEntry(
            name=name, format=format, root=str(resolved), summary=summary.model_dump()
        )
        session.add(entry)
        session.commit()
        return _public(entry)


def list_datasets(sessions: sessionmaker[Session]) -> list[DatasetPublic]:
    """``builtin`` and every registered dataset, by name."""
    with sessions() as session:
        entries = session.scalars(select(DatasetEntry).order_by(DatasetEntry.name)).all()
        return [builtin_dataset(), *(_public(e) for e in entries)]


def get_dataset(sessions: sessionmaker[Session], name: str) -> DatasetPublic:
    """The dataset ``name``; AssetNotFoundError (404) listing the known ones."""
    if name == BUILTIN:
        return builtin_dataset()
    with sessions() as session:
        entry = session.get(DatasetEntry, name)
        if entry is None:
            known = [BUILTIN, *session.scalars(select(DatasetEntry.name)).all()]
            raise AssetNotFoundError(f"unknown dataset {name!r}; known: {', '.join(known)}")
        return _public(entry)


def resolve_dataset_spec(sessions: sessionmaker[Session], spec: dict[str, Any]) -> dict[str, Any]:
    """A run's dataset spec with the registered dataset's format, root and categories filled
    in; AssetError when the name or the category is unknown to that dataset. Datasets without
    part masks are accepted: their runs get location instability, not part interpretability
    (``partlens.evaluation.run``)."""
    dataset = get_dataset(sessions, spec["name"])
    if dataset.name == BUILTIN:
        return {**spec, "format": None, "root": None, "categories": None}
    if spec.get("task") == "single" and spec.get("category") not in dataset.categories:
        raise AssetError(
            f"unknown category {spec.get('category')!r} for dataset {dataset.name}; choose one "
            f"of {', '.join(dataset.categories)}"
        )
    # The multi-category task's classes (the number of logits of a multi-category run).
    categories = dataset.summary.categories
    return {**spec, "format": dataset.format, "root": dataset.root, "categories": categories}
