"""The training loop's resumable state: weights, SGD momentum, RNG states and position.

Written atomically as a partlens checkpoint plus ``training_state.safetensors``, so a resumed
run continues exactly where the interrupted one stopped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from partlens.models import PartModel, save_checkpoint
from partlens.models.checkpoint import META_FILE, WEIGHTS_FILE, read_checkpoint_meta

TRAINING_STATE_FILE = "training_state.safetensors"


def has_training_state(path: Path | None) -> bool:
    """Whether ``path`` holds a checkpoint written by :func:`save_training_state`."""
    return path is not None and (path / META_FILE).is_file()


def save_training_state(
    model: PartModel, optimizer: torch.optim.Optimizer, path: Path, **position: Any
) -> None:
    """Writes the model, SGD momentum, RNG states and the loop's ``position`` to ``path``."""
    names = {id(p): n for n, p in model.named_parameters()}
    momentum = {
        f"momentum.{names[id(p)]}": s["momentum_buffer"]
        for p, s in optimizer.state.items()
        if s.get("momentum_buffer") is not None
    }
    rng = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state()
    save_checkpoint(
        model, path, extra_tensors={TRAINING_STATE_FILE: {**momentum, **rng}}, **position
    )


def restore_training_state(
    model: PartModel, optimizer: torch.optim.Optimizer, path: Path
) -> dict[str, Any]:
    """Loads what :func:`save_training_state` wrote into ``model`` and ``optimizer``; returns
    the loop's position (epoch, step_in_epoch, step)."""
    meta = read_checkpoint_meta(path)
    if meta["arch"] != model.arch or meta["interpretable"] != model.interpretable:
        raise ValueError(
            f"checkpoint {path} holds {meta['arch']} (interpretable={meta['interpretable']}), "
            f"not {model.arch} (interpretable={model.interpretable})"
        )
    model.load_state_dict(load_file(str(path / WEIGHTS_FILE)))
    extra = load_file(str(path / TRAINING_STATE_FILE))
    parameters = dict(model.named_parameters())
    for key, value in extra.items():
        if key.startswith("momentum."):
            parameter = parameters[key.removeprefix("momentum.")]
            optimizer.state[parameter]["momentum_buffer"] = value.to(parameter.device)
    torch.set_rng_state(extra["torch"])
    if "cuda" in extra and torch.cuda.is_available():
        torch.cuda.set_rng_state(extra["cuda"])
    return meta["state"]
