"""A pretrained ordinary backbone that both twins start from (the paper fine-tunes from ImageNet
weights; without downloads, an ordinary net trained on the built-in multi-category task stands
in for them).

The backbone is everything below the interpretable head plus the backbone's top conv layer
(the paper keeps that layer's pretrained weights and only adds the mask); the added 3x3 layer
and the classifier are always fresh.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save
from torch import Tensor

from partlens.models import PartModel, build_model
from partlens.models.checkpoint import WEIGHTS_FILE
from partlens.models.weights import read_state_dict
from partlens.nn import LAYER_NAMES
from partlens.store.atomic_io import atomic_write_bytes, atomic_write_json

BACKBONE_PREFIXES = ("backbone.", f"head.layers.{LAYER_NAMES[0]}.block.")


def is_backbone_key(key: str) -> bool:
    """Whether a PartModel state-dict key belongs to the pretrained part of the network."""
    return key.startswith(BACKBONE_PREFIXES)


def backbone_state(model: PartModel) -> dict[str, Tensor]:
    """The backbone's tensors (weights and BatchNorm statistics) of a PartModel, on CPU."""
    return {
        key: value.detach().cpu().contiguous()
        for key, value in model.state_dict().items()
        if is_backbone_key(key)
    }


def read_backbone(path: str | Path) -> dict[str, Tensor]:
    """Backbone tensors from a partlens checkpoint folder or a PartModel state-dict file."""
    path = Path(path)
    state = read_state_dict(path / WEIGHTS_FILE if path.is_dir() else path)
    backbone = {key: value for key, value in state.items() if is_backbone_key(key)}
    if not backbone:
        raise ValueError(
            f"{path} holds no partlens backbone tensors (keys starting with "
            f"{' or '.join(BACKBONE_PREFIXES)})"
        )
    return backbone


def load_backbone(model: PartModel, state: Mapping[str, Tensor]) -> None:
    """Copy a backbone into ``model``; every backbone tensor of the model must be given, with
    the same shape (the twins must start from exactly the same function)."""
    own = {key: value for key, value in model.state_dict().items() if is_backbone_key(key)}
    missing = sorted(set(own) - set(state))
    if missing:
        raise ValueError(
            f"the backbone lacks {len(missing)} tensors of the model, e.g. {missing[0]}"
        )
    for key, value in own.items():
        if state[key].shape != value.shape:
            raise ValueError(
                f"backbone tensor {key} has shape {tuple(state[key].shape)}, the model expects "
                f"{tuple(value.shape)}"
            )
    model.load_state_dict({key: state[key] for key in own}, strict=False)


def pretrain_backbone(
    arch: str,
    train_set: Any,
    train_config: Any,
    cache_path: Path,
    *,
    model_options: Mapping[str, Any],
    progress: Callable[[str], None] | None = None,
    callbacks: Sequence[Any] = (),
) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """The backbone cached at ``cache_path`` (a .safetensors file with a .json beside it), or
    one trained now as an ordinary multi-category net and cached there.

    train_set: a multi-category dataset; train_config: a multi-category TrainConfig. Returns the
    backbone tensors and the cache's record (accuracy, seconds, whether it was reused).
    callbacks: training callbacks (progress reports).
    """
    from partlens.training.loop import train

    record_path = cache_path.with_suffix(".json")
    if cache_path.is_file() and record_path.is_file():
        record = json.loads(record_path.read_text())
        return read_backbone(cache_path), {**record, "path": str(cache_path), "reused": True}
    if progress is not None:
        progress(f"pretraining the {arch} backbone on the built-in multi-category task")
    torch.manual_seed(train_config.seed)
    model = build_model(
        arch, interpretable=False, num_classes=len(train_set.categories), **model_options
    )
    start = time.perf_counter()
    result = train(model, train_set, train_config, callbacks=callbacks)
    seconds = time.perf_counter() - start
    state = backbone_state(model)
    atomic_write_bytes(cache_path, save(state))
    last = result.history[-1] if result.history else None
    record = {
        "arch": arch,
        "model_options": dict(model_options),
        "train_images": len(train_set),
        "epochs": train_config.epochs,
        "train_accuracy": last.accuracy if last else None,
        "seconds": seconds,
    }
    atomic_write_json(record_path, record)
    return state, {**record, "path": str(cache_path), "reused": False}
