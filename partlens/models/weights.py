"""Pretrained weights from a local file: a torchvision state dict or a safetensors file.

Nothing is ever downloaded. Keys follow the torchvision model (``features.28.weight``, ...);
the final classification layer may differ in shape (it is replaced for the task anyway), any
other mismatch is an error naming the key and both shapes.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Reads a ``.safetensors`` file or a torch-saved state dict (tensors only, no pickle code)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path}")
    if path.suffix == ".safetensors":
        return load_file(str(path))
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(f"cannot read weights file {path}: {error}") from error
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"weights file {path} does not hold a state dict of tensors")
    return state


def load_pretrained(model: nn.Module, path: str | Path, *, replaceable_prefix: str) -> None:
    """Loads ``path`` into ``model`` strictly, except keys under ``replaceable_prefix`` (the
    classification layer that the task replaces), which are skipped when their shape differs.
    """
    state = read_state_dict(path)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"weights file {path} does not match the architecture: "
            f"missing keys {missing[:5]}{'...' if len(missing) > 5 else ''}, "
            f"unexpected keys {unexpected[:5]}{'...' if len(unexpected) > 5 else ''}"
        )
    usable = {}
    for key, tensor in state.items():
        if tensor.shape == expected[key].shape:
            usable[key] = tensor
        elif not key.startswith(replaceable_prefix):
            raise ValueError(
                f"weights file {path}: shape mismatch for {key}: file has "
                f"{tuple(tensor.shape)}, the model expects {tuple(expected[key].shape)}"
            )
    model.load_state_dict(usable, strict=False)
