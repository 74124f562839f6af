"""Checkpoints as safetensors + JSON (no pickle): ``model.safetensors`` and ``model.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file
from torch import Tensor

from partlens.models.part_model import PartModel
from partlens.store.atomic_io import publish_dir

WEIGHTS_FILE = "model.safetensors"
META_FILE = "model.json"
FORMAT = "partlens-checkpoint"
VERSION = 1


def save_checkpoint(
    model: PartModel,
    path_dir: str | Path,
    *,
    extra_tensors: dict[str, dict[str, Tensor]] | None = None,
    **state: Any,
) -> Path:
    """Writes the model (weights, buffers and build options) and JSON ``state`` to ``path_dir``.

    ``extra_tensors`` maps a file name to more tensors saved beside the model (the training
    loop's optimizer and RNG state). The directory is written next to its final place and
    swapped in whole, so a reader never sees a half-written checkpoint. Returns the directory.
    """
    path_dir = Path(path_dir)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "arch": model.arch,
        "interpretable": model.interpretable,
        "num_classes": model.num_classes,
        "options": model.options,
        "state": state,
    }
    try:
        meta_text = json.dumps(meta, indent=2)
    except TypeError as error:
        raise ValueError(f"checkpoint state must be JSON-serialisable: {error}") from error
    tensors = {key: value.detach().cpu().contiguous() for key, value in model.state_dict().items()}
    with publish_dir(path_dir) as staging:
        save_file(tensors, str(staging / WEIGHTS_FILE))
        for file_name, extra in (extra_tensors or {}).items():
            save_file(
                {k: v.detach().cpu().contiguous() for k, v in extra.items()},
                str(staging / file_name),
            )
        (staging / META_FILE).write_text(meta_text)
    return path_dir


def read_checkpoint_meta(path_dir: str | Path) -> dict[str, Any]:
    """The JSON metadata of a checkpoint (arch, options, state)."""
    meta_path = Path(path_dir) / META_FILE
    if not meta_path.is_file():
        raise FileNotFoundError(f"no checkpoint in {path_dir} (missing {META_FILE})")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"corrupt checkpoint metadata {meta_path}: {error}") from error
    if meta.get("format") != FORMAT:
        raise ValueError(f"{meta_path} is not a partlens checkpoint")
    return meta


def load_model(path_dir: str | Path) -> PartModel:
    """Rebuilds the model saved by :func:`save_checkpoint` (on CPU, in eval mode)."""
    from partlens.models.registry import build_model

    meta = read_checkpoint_meta(path_dir)
    weights_path = Path(path_dir) / WEIGHTS_FILE
    if not weights_path.is_file():
        raise FileNotFoundError(f"no weights in checkpoint {path_dir} (missing {WEIGHTS_FILE})")
    model = build_model(
        meta["arch"],
        interpretable=meta["interpretable"],
        num_classes=meta["num_classes"],
        **meta["options"],
    )
    try:
        model.load_state_dict(load_file(str(weights_path)))
    except RuntimeError as error:
        raise ValueError(f"checkpoint {path_dir} does not fit its architecture: {error}") from error
    return model.eval()
