"""The training loop: task loss + lambda * filter loss (paper Eq. 3), as a library function.

Single-category models (one logit) use the logistic loss (positives = the category, label 1);
multi-category models use softmax or independent logistic losses. SGD with momentum 0.9 and
weight decay 5e-4 by default. On CPU the run is deterministic given the seed: the data order
of epoch t is a permutation seeded by (seed, t), so a run resumed from a checkpoint (model,
optimizer momentum, running statistics, RNG, position in the epoch) ends with the same
weights as an uninterrupted one. On CUDA: bf16 autocast and channels_last, and
``deterministic=True`` for deterministic kernels (slower; see ``docs/filter-loss.md``).

The filter-loss weight follows the paper, ``lambda = filter_loss_weight * mean max x / t`` in
epoch t (or the variant's own rule, see :class:`partlens.nn.FilterLossVariant`); unset, it is the
variant's ``default_weight``. The measurements behind the defaults are in ``docs/filter-loss.md``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from partlens.data import collate_samples
from partlens.models import PartModel, load_model, save_checkpoint
from partlens.nn import DEFAULT_FILTER_LOSS, FILTER_LOSS_VARIANTS, filter_loss_variant
from partlens.training.determinism import deterministic_kernels
from partlens.training.sample_cache import cache_training_samples
from partlens.training.state import (
    has_training_state,
    restore_training_state,
    save_training_state,
)

TASKS = ("single", "multi")
MULTI_LOSSES = ("softmax", "logistic")

__all__ = [
    "TrainCallback",
    "TrainConfig",
    "TrainProgress",
    "TrainResult",
    "load_model",
    "save_checkpoint",
    "train",
    "train_step",
]


@dataclass
class TrainConfig:
    """Hyper-parameters of :func:`train` (lambda: ``filter_loss_weight``, see module doc).

    ``cache_samples`` keeps each generated training sample for the next epochs (the same
    batches and flips, so the same weights; see :mod:`partlens.training.sample_cache`).
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


@dataclass
class TrainProgress:
    """Progress after a step (values of that step) or an epoch (means over the epoch)."""

    epoch: int
    epochs: int
    step: int
    steps_total: int
    task_loss: float
    filter_loss: float
    accuracy: float
    images_per_s: float
    filter_lambda: float = 0.0
    lr: float = 0.0


class TrainCallback:
    """Hooks of :func:`train`; override any. Duck-typed objects with some of them work too."""

    def on_step(self, progress: TrainProgress) -> None:
        """Called after every optimisation step."""

    def on_epoch_end(self, progress: TrainProgress) -> None:
        """Called after every completed epoch with the epoch's means."""

    def should_stop(self) -> bool:
        """Return True to cancel: the loop checkpoints (if it can) and returns."""
        return False


@dataclass
class TrainResult:
    """What :func:`train` did: ``cancelled`` tells whether a callback stopped it."""

    model: PartModel
    cancelled: bool
    steps: int
    epochs_completed: int
    history: list[TrainProgress] = field(default_factory=list)


def resolve_device(name: str) -> torch.device:
    """``"auto"`` picks CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available")
    return device


def task_loss(logits: Tensor, labels: Tensor, task: str, multi_loss: str) -> Tensor:
    """The task loss L(y_hat, y*): logistic (single), softmax or per-class logistic (multi)."""
    if task == "single":
        if bool(((labels != 0) & (labels != 1)).any()):
            raise ValueError("single-category labels must be 0 (negative) or 1 (positive)")
        return F.binary_cross_entropy_with_logits(logits[:, 0], labels.float())
    if multi_loss == "softmax":
        return F.cross_entropy(logits, labels)
    targets = F.one_hot(labels, logits.shape[1]).float()
    return F.binary_cross_entropy_with_logits(logits, targets)


def accuracy(logits: Tensor, labels: Tensor, task: str) -> Tensor:
    """Share of correct predictions (single: logit > 0 means positive)."""
    predicted = (logits[:, 0] > 0).long() if task == "single" else logits.argmax(dim=1)
    return (predicted == labels).float().mean()


def epoch_batches(size: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """The batches of epoch ``epoch``: a permutation seeded by (seed, epoch), then chunked."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    order = torch.randperm(size, generator=generator).tolist()
    return [order[i : i + batch_size] for i in range(0, size, batch_size)]


def _call(callbacks: Sequence[Any], hook: str, *args: Any) -> list[Any]:
    return [getattr(cb, hook)(*args) for cb in callbacks if hasattr(cb, hook)]


def _epoch_lr(config: TrainConfig, epoch: int) -> float:
    if config.lr_final is None or config.epochs == 1:
        return config.lr
    # Geometric decay from lr to lr_final, as the official code's 1e-4 -> 1e-5 schedule.
    return config.lr * (config.lr_final / config.lr) ** ((epoch - 1) / (config.epochs - 1))


def _filter_lambda(model: PartModel, config: TrainConfig, epoch: int) -> float | Tensor:
    variant = filter_loss_variant(config.filter_loss)
    return variant.filter_lambda(config.filter_loss_weight, model.mean_max_activation(), epoch)


def _check_model(model: PartModel, config: TrainConfig) -> None:
    if config.task == "single" and model.num_classes != 1:
        raise ValueError(f"task 'single' needs num_classes=1, the model has {model.num_classes}")
    if config.task == "multi" and model.num_classes < 2:
        raise ValueError("task 'multi' needs a model with num_classes >= 2")


class _Loop:
    """One call of :func:`train`: the model, its optimizer, the position and the callbacks."""

    def __init__(
        self,
        model: PartModel,
        train_set: Dataset,
        config: TrainConfig,
        callbacks: list[Any],
        checkpoint_path: Path | None,
    ) -> None:
        self.model, self.config = model, config
        # Generated once, reused every epoch with the same flips (partlens.training.sample_cache).
        self.train_set = (
            cache_training_samples(train_set, num_workers=config.num_workers)
            if config.cache_samples
            else train_set
        )
        self.callbacks, self.checkpoint_path = callbacks, checkpoint_path
        self.device = resolve_device(config.device)
        if model.interpretable:
            model.configure_filter_loss(config.filter_loss)
        torch.manual_seed(config.seed)
        model.to(self.device)
        if self.device.type == "cuda" and config.channels_last:
            model.to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.SGD(
            model.parameters(),
            lr=config.lr,
            momentum=config.momentum,
            weight_decay=config.weight_decay,
        )
        self.epoch, self.skip, self.step = 1, 0, 0
        if has_training_state(checkpoint_path):
            assert checkpoint_path is not None
            position = restore_training_state(model, self.optimizer, checkpoint_path)
            self.epoch, self.skip = position["epoch"], position["step_in_epoch"]
            self.step = position["step"]
        self.size = len(train_set)  # type: ignore[arg-type]  # map-style datasets have a length
        if self.size == 0:
            raise ValueError("the training set is empty")
        self.per_epoch = math.ceil(self.size / config.batch_size)
        self.steps_total = config.epochs * self.per_epoch
        if config.max_steps is not None:
            self.steps_total = min(self.steps_total, config.max_steps)
        self.result = TrainResult(
            model, cancelled=False, steps=self.step, epochs_completed=self.epoch - 1
        )
        self.last_checkpoint = time.monotonic()

    def checkpoint(self, next_epoch: int, step_in_epoch: int) -> None:
        """Saves the resumable state (when the run has a checkpoint folder)."""
        self.last_checkpoint = time.monotonic()
        if self.checkpoint_path is not None:
            save_training_state(
                self.model,
                self.optimizer,
                self.checkpoint_path,
                epoch=next_epoch,
                step_in_epoch=step_in_epoch,
                step=self.step,
                config=asdict(self.config),
            )

    def run(self) -> TrainResult:
        """Epochs until the budget, max_steps or a cancel; returns the result."""
        config = self.config
        while self.epoch <= config.epochs and self.step < self.steps_total:
            step_in_epoch, sums, images_seen, seconds = self.run_epoch()
            self.result.steps = self.step
            if self.result.cancelled:
                break
            if step_in_epoch < self.per_epoch:
                # Stopped by max_steps inside the epoch: resumable from this position.
                self.checkpoint(self.epoch, step_in_epoch)
                break
            self.end_epoch(sums, images_seen, seconds)
            self.epoch, self.skip = self.epoch + 1, 0
            self.checkpoint(self.epoch, 0)
        return self.result

    def run_epoch(self) -> tuple[int, Tensor, int, float]:
        """The rest of the current epoch; returns (step in epoch, loss sums, images, seconds)."""
        config, epoch = self.config, self.epoch
        for group in self.optimizer.param_groups:
            group["lr"] = _epoch_lr(config, epoch)
        batches = epoch_batches(self.size, config.batch_size, config.seed, epoch)
        loader = DataLoader(
            self.train_set,
            batch_sampler=batches[self.skip :],
            collate_fn=collate_samples,
            num_workers=config.num_workers,
            # The loader draws its workers' base seed from this generator, not from the global
            # RNG, which the dataset's augmentation uses: a run resumed mid-epoch (a new loader)
            # then sees the same flips as an uninterrupted one.
            generator=torch.Generator().manual_seed(config.seed * 1_000_003 + epoch),
        )
        self.model.train()
        sums = torch.zeros(3, dtype=torch.float64)
        images_seen, epoch_start, step_in_epoch = 0, time.perf_counter(), self.skip
        for batch in loader:
            if self.step >= self.steps_total:
                break
            if any(_call(self.callbacks, "should_stop")):
                self.checkpoint(epoch, step_in_epoch)
                self.result.cancelled = True
                break
            start = time.perf_counter()
            values, lam = train_step(self.model, self.optimizer, batch, config, epoch, self.device)
            self.step += 1
            step_in_epoch += 1
            count = batch.labels.shape[0]
            images_seen += count
            sums += torch.tensor(values, dtype=torch.float64) * count
            progress = TrainProgress(
                epoch,
                config.epochs,
                self.step,
                self.steps_total,
                *values,
                images_per_s=count / max(time.perf_counter() - start, 1e-9),
                filter_lambda=lam,
                lr=self.optimizer.param_groups[0]["lr"],
            )
            _call(self.callbacks, "on_step", progress)
            if self.checkpoint_due():
                self.checkpoint(epoch, step_in_epoch)
        return step_in_epoch, sums, images_seen, time.perf_counter() - epoch_start

    def checkpoint_due(self) -> bool:
        """Every ``checkpoint_every`` steps, and once ``checkpoint_every_s`` passed since the
        last checkpoint (long epochs on slow machines lose at most that much work)."""
        every, every_s = self.config.checkpoint_every, self.config.checkpoint_every_s
        if every and self.step % every == 0:
            return True
        return bool(every_s and time.monotonic() - self.last_checkpoint >= every_s)

    def end_epoch(self, sums: Tensor, images_seen: int, seconds: float) -> None:
        """Reports the epoch's means to the callbacks and records them in the history."""
        task_mean, filter_mean, accuracy_mean = (sums / max(images_seen, 1)).tolist()
        lam = _filter_lambda(self.model, self.config, self.epoch)
        summary = TrainProgress(
            self.epoch,
            self.config.epochs,
            self.step,
            self.steps_total,
            task_mean,
            filter_mean,
            accuracy_mean,
            images_per_s=images_seen / max(seconds, 1e-9),
            filter_lambda=float(lam) if self.model.interpretable else 0.0,
            lr=self.optimizer.param_groups[0]["lr"],
        )
        self.result.history.append(summary)
        _call(self.callbacks, "on_epoch_end", summary)
        self.result.epochs_completed = self.epoch


def train(
    model: PartModel,
    train_set: Dataset,
    config: TrainConfig,
    *,
    callbacks: Iterable[Any] = (),
    checkpoint_dir: str | Path | None = None,
) -> TrainResult:
    """Trains ``model`` on a dataset of ``partlens.data.Sample`` (paper Eq. 3).

    Resumes from ``checkpoint_dir`` when it holds a checkpoint, and writes one there after
    every epoch, every ``checkpoint_every`` steps and on cancellation. ``config.deterministic``
    restricts PyTorch to deterministic kernels for the run (CUDA; see
    :mod:`partlens.training.determinism`).
    """
    _check_model(model, config)
    checkpoint_path = Path(checkpoint_dir) if checkpoint_dir is not None else None
    with deterministic_kernels(config.deterministic):
        return _Loop(model, train_set, config, list(callbacks), checkpoint_path).run()


class TrainingDiverged(FloatingPointError):
    """A loss became NaN or infinite: the run cannot continue with these settings."""


def train_step(
    model: PartModel,
    optimizer: torch.optim.Optimizer,
    batch: Any,
    config: TrainConfig,
    epoch: int,
    device: torch.device,
) -> tuple[tuple[float, float, float], float]:
    """One step of Eq. 3; returns (task loss, mean filter loss, accuracy) and lambda."""
    on_cuda = device.type == "cuda"
    images = batch.images.to(device, non_blocking=True)
    if on_cuda and config.channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    labels = batch.labels.to(device, non_blocking=True)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=on_cuda and config.amp):
        logits, unmasked = model.forward_train(images)
    logits = logits.float()
    loss = task_loss(logits, labels, config.task, config.multi_loss)
    task_value = loss.detach()
    filter_value = torch.zeros((), device=device)
    lam: float | Tensor = 0.0
    if model.interpretable:
        # Loss_f is computed in float32 on the unmasked maps, outside autocast.
        per_filter = model.filter_losses(unmasked, labels)
        lam = _filter_lambda(model, config, epoch)
        total = torch.stack([value.sum() for value in per_filter.values()]).sum()
        loss = loss + lam * total
        filter_value = torch.cat(list(per_filter.values())).mean().detach()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    correct = accuracy(logits.detach(), labels, config.task)
    # One host sync per step for all reported values.
    lam_tensor = torch.as_tensor(lam, dtype=torch.float32, device=device)
    values = torch.stack([task_value, filter_value, correct, lam_tensor.detach()]).tolist()
    if not (math.isfinite(values[0]) and math.isfinite(values[1])):
        raise TrainingDiverged(
            f"training diverged in epoch {epoch}: task loss {values[0]}, filter loss "
            f"{values[1]}, lambda {values[3]:.4g}; lower the learning rate (now "
            f"{optimizer.param_groups[0]['lr']:.4g}) or the filter-loss weight, or start from "
            "pretrained weights"
        )
    return (values[0], values[1], values[2]), values[3]
