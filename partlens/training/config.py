"""The hyper-parameters of a training run (:class:`TrainConfig`) and the device they name."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from partlens.nn import DEFAULT_FILTER_LOSS, FILTER_LOSS_VARIANTS

TASKS = ("single", "multi")
MULTI_LOSSES = ("softmax", "logistic")


@dataclass
class TrainConfig:
    """Hyper-parameters of :func:`partlens.training.train` (lambda: ``filter_loss_weight``,
    see :mod:`partlens.training.loop`).

    ``cache_samples`` keeps each generated training sample for the next epochs (the same
    batches and flips, so the same weights; see :mod:`partlens.training.sample_cache`).
    ``compile`` runs the training forward pass and the filter loss under ``torch.compile``
    (eager when compiling fails; :mod:`partlens.training.compiled`): on CPU a ``tiny`` step is
    about 10 % faster after 5-60 s of compiling, so it pays on long runs only
    (docs/filter-loss.md); on a GPU, where the loss's small kernels are a fixed cost per
    step, it is not measured yet.
    """

    epochs: int = 10
    batch_size: int = 32
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    task: str = "single"
    multi_loss: str = "softmax"
    filter_loss: str = DEFAULT_FILTER_LOSS
    filter_loss_weight: float | None = None
    lr_final: float | None = None
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    channels_last: bool = True
    max_steps: int | None = None
    checkpoint_every: int | None = None
    checkpoint_every_s: float | None = None
    num_workers: int = 0
    deterministic: bool = False
    cache_samples: bool = True
    compile: bool = False

    def __post_init__(self) -> None:
        checks = [
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}"),
            (self.lr > 0, f"lr must be positive, got {self.lr}"),
            (self.task in TASKS, f"task must be one of {TASKS}, got {self.task!r}"),
            (
                self.multi_loss in MULTI_LOSSES,
                f"multi_loss must be one of {MULTI_LOSSES}, got {self.multi_loss!r}",
            ),
            (
                self.filter_loss in FILTER_LOSS_VARIANTS,
                f"filter_loss must be one of {FILTER_LOSS_VARIANTS.names()}, "
                f"got {self.filter_loss!r}",
            ),
            (
                self.filter_loss_weight is None or self.filter_loss_weight >= 0,
                "filter_loss_weight must be >= 0 or None",
            ),
            (self.max_steps is None or self.max_steps >= 1, "max_steps must be >= 1 or None"),
            (
                self.checkpoint_every is None or self.checkpoint_every >= 1,
                "checkpoint_every must be >= 1 or None",
            ),
            (
                self.checkpoint_every_s is None or self.checkpoint_every_s > 0,
                "checkpoint_every_s must be positive or None",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


def resolve_device(name: str) -> torch.device:
    """``"auto"`` picks CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available")
    return device
