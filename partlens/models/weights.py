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


def is_partlens_layout(state: dict[str, torch.Tensor]) -> bool:
    """Whether ``state`` is a :class:`partlens.models.PartModel` state dict (``backbone.*``,
    ``head.*``, ``classifier.*``) rather than a torchvision one (``features.*``, ``layer4.*``)."""
    return any(key.startswith(("backbone.", "head.")) for key in state)


def final_linear_prefix(model: nn.Module) -> str:
    """The key prefix of the classifier's last linear layer (replaced for each task)."""
    classifier = getattr(model, "classifier", model)
    names = [name for name, module in classifier.named_modules() if isinstance(module, nn.Linear)]
    if not names:
        raise ValueError("the model's classifier has no linear layer")
    return f"classifier.{names[-1]}."


def weights_mismatch(
    expected: dict[str, torch.Tensor], state: dict[str, torch.Tensor], replaceable_prefix: str
) -> list[str]:
    """Every problem of ``state`` against ``expected``: missing, unexpected and mis-shaped keys
    (tensors under ``replaceable_prefix`` may differ in shape)."""
    problems = [f"missing key {key}" for key in sorted(set(expected) - set(state))]
    problems += [f"unexpected key {key}" for key in sorted(set(state) - set(expected))]
    for key in sorted(set(expected) & set(state)):
        if state[key].shape != expected[key].shape and not key.startswith(replaceable_prefix):
            problems.append(
                f"{key} has shape {tuple(state[key].shape)}, the model expects "
                f"{tuple(expected[key].shape)}"
            )
    return problems


def load_partlens_weights(
    model: nn.Module, state: dict[str, torch.Tensor], *, source: str = "the state dict"
) -> None:
    """Load a PartModel-layout state dict of the ordinary twin (or of an interpretable model)
    into ``model``; the loss's running statistics of an interpretable ``model`` start fresh and
    the final linear layer is skipped when its shape differs (another number of classes)."""
    own = model.state_dict()
    prefix = final_linear_prefix(model)
    # The filter loss's buffers and the masks' betas exist in the interpretable twin only.
    comparable = {k: v for k, v in own.items() if not k.startswith("objectives.")}
    comparable = {k: v for k, v in comparable.items() if ".mask." not in k or k in state}
    given = {k: v for k, v in state.items() if not k.startswith("objectives.")}
    given = {k: v for k, v in given.items() if ".mask." not in k or k in own}
    problems = weights_mismatch(comparable, given, prefix)
    if problems:
        shown = "; ".join(problems[:8]) + ("; ..." if len(problems) > 8 else "")
        raise ValueError(f"weights file {source} does not match the architecture: {shown}")
    usable = {k: v for k, v in given.items() if v.shape == own[k].shape}
    model.load_state_dict(usable, strict=False)
