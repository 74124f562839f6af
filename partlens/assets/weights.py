"""Weights registered by name: a safetensors file or a tensors-only torch state dict, checked
against its architecture and stored under ``<data_dir>/weights/`` with its SHA-256.

Two layouts are accepted: a :class:`partlens.models.PartModel` state dict (as
``build_model(arch, interpretable=False)`` builds it; any architecture, ``tiny`` included) and
torchvision's own checkpoints for the architectures built on torchvision. ``.pth`` files are
read with ``torch.load(weights_only=True)``: never a pickle that runs code. The backbones shipped
in the package (:mod:`partlens.assets.shipped`, names ``builtin-*``) are listed and resolved
like registered weights without being registered.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from partlens.assets import AssetConflictError, AssetError, AssetNotFoundError, check_name
from partlens.assets.shipped import SHIPPED_PREFIX, ShippedWeights, default_weights, shipped_weights
from partlens.store.atomic_io import atomic_write_bytes
from partlens.store.db import WeightsEntry

SUFFIXES = (".safetensors", ".pth", ".pt")


class WeightsPublic(BaseModel):
    """A weights file known to the server."""

    name: str
    arch: str
    layout: str
    options: dict[str, Any]
    sha256: str
    num_tensors: int
    size_bytes: int


def inferred_options(arch: str, state: dict[str, Any]) -> dict[str, Any]:
    """The architecture options a PartModel-layout state dict fixes: tiny's ``width`` (the
    top conv's filters)."""
    key = "head.layers.conv_top.block.0.weight"
    if arch == "tiny" and key in state:
        return {"width": int(state[key].shape[0])}
    return {}


def check_weights(arch: str, path: Path) -> tuple[str, int, dict[str, Any]]:
    """Check ``path`` against ``arch``: its layout ("partlens" or "torchvision"), tensor count
    and the options it fixes; AssetError listing missing, unexpected and mis-shaped keys."""
    from partlens.models import build_model, list_architectures
    from partlens.models.weights import (
        final_linear_prefix,
        is_partlens_layout,
        read_state_dict,
        weights_mismatch,
    )

    if arch not in list_architectures():
        known = ", ".join(list_architectures())
        raise AssetError(f"unknown architecture {arch!r}; choose one of {known}")
    try:
        state = read_state_dict(path)
    except (ValueError, OSError) as error:
        raise AssetError(str(error)) from None
    if is_partlens_layout(state):
        options = inferred_options(arch, state)
        model = build_model(arch, interpretable=False, **options)
        expected = model.state_dict()
        problems = weights_mismatch(expected, state, final_linear_prefix(model))
        if problems:
            shown = "; ".join(problems[:12]) + ("; ..." if len(problems) > 12 else "")
            raise AssetError(f"weights do not match {arch} ({len(problems)} problems): {shown}")
        return "partlens", len(state), options
    try:
        build_model(arch, interpretable=False, weights=path)
    except ValueError as error:
        raise AssetError(f"weights do not match {arch}: {error}") from None
    return "torchvision", len(state), {}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _public(entry: WeightsEntry) -> WeightsPublic:
    return WeightsPublic(
        name=entry.name,
        arch=entry.arch,
        layout=entry.layout,
        options=dict(entry.options or {}),
        sha256=entry.sha256,
        num_tensors=entry.num_tensors,
        size_bytes=entry.size_bytes,
    )


def register_weights(
    sessions: sessionmaker[Session], name: str, source: Path, arch: str, data_dir: Path
) -> WeightsPublic:
    """Check the file ``source`` against ``arch``, copy it to ``<data_dir>/weights/`` and
    record it as ``name``; AssetError (422) when it does not fit, AssetConflictError (409)
    when the name is taken."""
    check_name(name, "weights")
    if name.startswith(SHIPPED_PREFIX):
        raise AssetConflictError(f"weights names starting with {SHIPPED_PREFIX!r} are shipped ones")
    source = Path(source)
    if not source.is_file():
        raise AssetError(f"weights file {source} does not exist")
    suffix = source.suffix.lower()
    if suffix not in SUFFIXES:
        raise AssetError(f"weights file {source.name}: use one of {', '.join(SUFFIXES)}")
    with sessions() as session:
        if session.get(WeightsEntry, name) is not None:
            raise AssetConflictError(f"weights named {name!r} are registered already")
    layout, num_tensors, options = check_weights(arch, source)
    target = Path(data_dir) / "weights" / f"{name}{suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.copy")
    shutil.copyfile(source, staging)
    staging.replace(target)  # atomic: a reader never finds half a file
    with sessions() as session:
        entry = WeightsEntry(
            name=name,
            arch=arch,
            path=str(target.resolve()),
            sha256=_sha256(target),
            layout=layout,
            options=options,
            num_tensors=num_tensors,
            size_bytes=target.stat().st_size,
        )
        session.add(entry)
        session.commit()
        return _public(entry)


def register_weights_bytes(
    sessions: sessionmaker[Session],
    name: str,
    filename: str,
    data: bytes,
    arch: str,
    data_dir: Path,
) -> WeightsPublic:
    """:func:`register_weights` for an upload: ``data`` staged in the data dir first."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise AssetError(f"weights file {filename!r}: use one of {', '.join(SUFFIXES)}")
    staging = Path(data_dir) / "weights" / ".uploads" / f"{check_name(name, 'weights')}{suffix}"
    staging.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(staging, data)
    try:
        return register_weights(sessions, name, staging, arch, data_dir)
    finally:
        staging.unlink(missing_ok=True)


def _shipped_public(entry: ShippedWeights) -> WeightsPublic:
    width = entry.recipe.width
    return WeightsPublic(
        name=entry.name,
        arch=entry.recipe.arch,
        layout="partlens",
        options={} if width is None else {"width": width},
        sha256=entry.sha256,
        num_tensors=entry.num_tensors,
        size_bytes=entry.size_bytes,
    )


def list_weights(sessions: sessionmaker[Session]) -> list[WeightsPublic]:
    """Every shipped and registered weights file, by name."""
    with sessions() as session:
        entries = session.scalars(select(WeightsEntry).order_by(WeightsEntry.name)).all()
        registered = [_public(e) for e in entries]
    shipped = [_shipped_public(entry) for entry in shipped_weights().values()]
    return sorted(shipped + registered, key=lambda entry: entry.name)


def get_weights(sessions: sessionmaker[Session], name: str) -> WeightsPublic:
    """Weights ``name`` (shipped or registered); AssetNotFoundError listing the known ones."""
    shipped = shipped_weights().get(name)
    if shipped is not None:
        return _shipped_public(shipped)
    with sessions() as session:
        entry = session.get(WeightsEntry, name)
        if entry is None:
            known = ", ".join(session.scalars(select(WeightsEntry.name)).all()) or "none"
            raise AssetNotFoundError(f"unknown weights {name!r}; registered: {known}")
        return _public(entry)


def resolve_run_weights(config: dict[str, Any], sessions: sessionmaker[Session]) -> dict[str, Any]:
    """:func:`resolve_weights` for a run that names weights; for one that names none, the
    shipped backbone that fits it (:func:`partlens.assets.shipped.default_weights`) or no
    change; no change for a run ``from_scratch``."""
    if config.get("weights") is None:
        default = default_weights(config)
        if default is None:
            return {}
        config = {**config, "weights": default}
        return {"weights": default, **resolve_weights(config, sessions)}
    return resolve_weights(config, sessions)


def resolve_weights(config: dict[str, Any], sessions: sessionmaker[Session]) -> dict[str, Any]:
    """The fields a run using registered weights gets: ``weights_file`` and the options they
    fix (tiny's ``width``); AssetError for another architecture or a conflicting width."""
    entry = get_weights(sessions, config["weights"])
    if entry.arch != config["arch"]:
        raise AssetError(f"weights {entry.name!r} are for {entry.arch}, not {config['arch']}")
    update: dict[str, Any] = {"weights_file": weights_file(sessions, entry.name)}
    width = entry.options.get("width")
    if width is not None:
        if config.get("width") not in (None, width):
            raise AssetError(f"weights {entry.name!r} have width {width}, not {config['width']}")
        update["width"] = width
    return update


def weights_file(sessions: sessionmaker[Session], name: str, arch: str | None = None) -> str:
    """The stored file of weights ``name``; AssetNotFoundError, or AssetError when they were
    registered for another architecture than ``arch``."""
    shipped = shipped_weights().get(name)
    if shipped is not None:
        if arch is not None and shipped.recipe.arch != arch:
            raise AssetError(f"weights {name!r} are for {shipped.recipe.arch}, not {arch}")
        return str(shipped.path)
    with sessions() as session:
        entry = session.get(WeightsEntry, name)
        if entry is None:
            known = ", ".join(session.scalars(select(WeightsEntry.name)).all()) or "none"
            raise AssetNotFoundError(f"unknown weights {name!r}; registered: {known}")
        if arch is not None and entry.arch != arch:
            raise AssetError(f"weights {name!r} are for {entry.arch}, not {arch}")
        return entry.path
