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

This module is the epoch loop with its checkpoints and resumption; one step of Eq. 3 is
:mod:`partlens.training.step`, what callbacks receive :mod:`partlens.training.progress`, the
hyper-parameters :mod:`partlens.training.config` (all re-exported here).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from partlens.data import collate_samples
from partlens.models import PartModel, load_model, save_checkpoint
from partlens.training.compiled import CompiledModel
from partlens.training.config import MULTI_LOSSES, TASKS, TrainConfig, resolve_device
from partlens.training.determinism import deterministic_kernels
from partlens.training.progress import (
    StepReporter,
    TrainCallback,
    TrainProgress,
    TrainResult,
    call_hooks,
)
from partlens.training.sample_cache import cache_training_samples
from partlens.training.state import (
    has_training_state,
    restore_training_state,
    save_training_state,
)
from partlens.training.step import (
    StepValues,
    TrainingDiverged,
    accuracy,
    filter_lambda,
    task_loss,
    train_step,
)

__all__ = [
    "MULTI_LOSSES",
    "TASKS",
    "StepValues",
    "TrainCallback",
    "TrainConfig",
    "TrainProgress",
    "TrainResult",
    "TrainingDiverged",
    "accuracy",
    "epoch_batches",
    "load_model",
    "resolve_device",
    "save_checkpoint",
    "task_loss",
    "train",
    "train_step",
]


def epoch_batches(size: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """The batches of epoch ``epoch``: a permutation seeded by (seed, epoch), then chunked."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    order = torch.randperm(size, generator=generator).tolist()
    return [order[i : i + batch_size] for i in range(0, size, batch_size)]


def _epoch_lr(config: TrainConfig, epoch: int) -> float:
    if config.lr_final is None or config.epochs == 1:
        return config.lr
    # Geometric decay from lr to lr_final, as the official code's 1e-4 -> 1e-5 schedule.
    return config.lr * (config.lr_final / config.lr) ** ((epoch - 1) / (config.epochs - 1))


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
        self.compiled = CompiledModel(model) if config.compile else None
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
        # On CUDA a step's values are read once the next step is queued (one host sync per
        # step, but the device never waits for the host); on CPU reading is free.
        lag = 1 if self.device.type == "cuda" else 0
        self.reporter = StepReporter(callbacks, config.epochs, self.steps_total, lag=lag)
        self.last_checkpoint = time.monotonic()

    def checkpoint(self, next_epoch: int, step_in_epoch: int) -> None:
        """Saves the resumable state (when the run has a checkpoint folder); the steps before
        it are read first, so a diverged step is never checkpointed."""
        self.reporter.flush()
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
            step_in_epoch = self.run_epoch()
            self.result.steps = self.step
            if self.result.cancelled:
                break
            if step_in_epoch < self.per_epoch:
                # Stopped by max_steps inside the epoch: resumable from this position.
                self.checkpoint(self.epoch, step_in_epoch)
                break
            self.end_epoch()
            self.epoch, self.skip = self.epoch + 1, 0
            self.checkpoint(self.epoch, 0)
        return self.result

    def run_epoch(self) -> int:
        """The rest of the current epoch; returns the step in the epoch it stopped at."""
        config, epoch = self.config, self.epoch
        for group in self.optimizer.param_groups:
            group["lr"] = _epoch_lr(config, epoch)
        batches = epoch_batches(self.size, config.batch_size, config.seed, epoch)
        loader = DataLoader(
            self.train_set,
            batch_sampler=batches[self.skip :],
            collate_fn=collate_samples,
            num_workers=config.num_workers,
            # Pinned batches let the step's non_blocking copies overlap; on CPU there is no copy.
            pin_memory=self.device.type == "cuda",
            # The loader draws its workers' base seed from this generator, not from the global
            # RNG, which the dataset's augmentation uses: a run resumed mid-epoch (a new loader)
            # then sees the same flips as an uninterrupted one.
            generator=torch.Generator().manual_seed(config.seed * 1_000_003 + epoch),
        )
        self.model.train()
        self.reporter.start_epoch()
        step_in_epoch = self.skip
        for batch in loader:
            if self.step >= self.steps_total:
                break
            if any(call_hooks(self.callbacks, "should_stop")):
                self.checkpoint(epoch, step_in_epoch)
                self.result.cancelled = True
                break
            start = time.perf_counter()
            values = train_step(
                self.model,
                self.optimizer,
                batch,
                config,
                epoch,
                self.device,
                compiled=self.compiled,
            )
            self.step += 1
            step_in_epoch += 1
            self.reporter.record(values, self.step, start)
            if self.checkpoint_due():
                self.checkpoint(epoch, step_in_epoch)
        self.reporter.flush()
        return step_in_epoch

    def checkpoint_due(self) -> bool:
        """Every ``checkpoint_every`` steps, and once ``checkpoint_every_s`` passed since the
        last checkpoint (long epochs on slow machines lose at most that much work)."""
        every, every_s = self.config.checkpoint_every, self.config.checkpoint_every_s
        if every and self.step % every == 0:
            return True
        return bool(every_s and time.monotonic() - self.last_checkpoint >= every_s)

    def end_epoch(self) -> None:
        """Reports the epoch's means to the callbacks and records them in the history."""
        lam = filter_lambda(self.model, self.config, self.epoch)
        summary = self.reporter.epoch_summary(
            self.epoch,
            self.step,
            float(lam) if self.model.interpretable else 0.0,
            self.optimizer.param_groups[0]["lr"],
        )
        self.result.history.append(summary)
        call_hooks(self.callbacks, "on_epoch_end", summary)
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
    :mod:`partlens.training.determinism`); ``config.compile`` compiles the forward pass and the
    filter loss (:mod:`partlens.training.compiled`).
    """
    _check_model(model, config)
    checkpoint_path = Path(checkpoint_dir) if checkpoint_dir is not None else None
    with deterministic_kernels(config.deterministic):
        return _Loop(model, train_set, config, list(callbacks), checkpoint_path).run()
