"""Progress reporting of :func:`partlens.training.train`: callbacks, records and epoch means.

Reading a step's values is a host sync. On CPU it costs nothing and every step is reported
as soon as it ends. On CUDA a step is read once the next one has been queued (a lag of one
step), so the device always has work while the host reads, calls the callbacks and prepares
the next batch; every step is still reported, in order, with its own values, and the epoch's
means are the same sums as on CPU.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from partlens.models import PartModel
from partlens.training.step import StepValues


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
    """Hooks of :func:`partlens.training.train`; override any. Duck-typed objects with some of
    them work too."""

    def on_step(self, progress: TrainProgress) -> None:
        """Called after every optimisation step (on CUDA once the next step is queued)."""

    def on_epoch_end(self, progress: TrainProgress) -> None:
        """Called after every completed epoch with the epoch's means."""

    def should_stop(self) -> bool:
        """Return True to cancel: the loop checkpoints (if it can) and returns."""
        return False


@dataclass
class TrainResult:
    """What :func:`partlens.training.train` did: ``cancelled`` tells whether a callback
    stopped it."""

    model: PartModel
    cancelled: bool
    steps: int
    epochs_completed: int
    history: list[TrainProgress] = field(default_factory=list)


def call_hooks(callbacks: Sequence[Any], hook: str, *args: Any) -> list[Any]:
    """Calls ``hook`` on every callback that has it; returns their results."""
    return [getattr(cb, hook)(*args) for cb in callbacks if hasattr(cb, hook)]


@dataclass
class _Pending:
    values: StepValues
    step: int
    started: float


class StepReporter:
    """Reads the steps' values (``lag`` steps late), reports each step to the callbacks and
    sums one epoch's values for its means."""

    def __init__(
        self, callbacks: Sequence[Any], epochs: int, steps_total: int, *, lag: int
    ) -> None:
        self.callbacks, self.lag = callbacks, lag
        self.epochs, self.steps_total = epochs, steps_total
        self._pending: deque[_Pending] = deque()
        self.start_epoch()

    def start_epoch(self) -> None:
        """Resets the epoch's sums and clock."""
        self.sums = torch.zeros(3, dtype=torch.float64)
        self.images, self.epoch_start = 0, time.perf_counter()

    def record(self, values: StepValues, step: int, started: float) -> None:
        """Takes the values of step ``step`` (begun at ``started``, ``time.perf_counter``) and
        reports every step older than the lag."""
        self._pending.append(_Pending(values, step, started))
        while len(self._pending) > self.lag:
            self._report(self._pending.popleft())

    def flush(self) -> None:
        """Reports every step not reported yet (before a checkpoint and at an epoch's end)."""
        while self._pending:
            self._report(self._pending.popleft())

    def _report(self, pending: _Pending) -> None:
        task, filter_value, correct, lam = pending.values.read()
        count = pending.values.images
        self.images += count
        self.sums += torch.tensor([task, filter_value, correct], dtype=torch.float64) * count
        progress = TrainProgress(
            pending.values.epoch,
            self.epochs,
            pending.step,
            self.steps_total,
            task,
            filter_value,
            correct,
            images_per_s=count / max(time.perf_counter() - pending.started, 1e-9),
            filter_lambda=lam,
            lr=pending.values.lr,
        )
        call_hooks(self.callbacks, "on_step", progress)

    def epoch_summary(self, epoch: int, step: int, lam: float, lr: float) -> TrainProgress:
        """The epoch's means (reports pending steps first) and its images/s."""
        self.flush()
        task_mean, filter_mean, accuracy_mean = (self.sums / max(self.images, 1)).tolist()
        seconds = time.perf_counter() - self.epoch_start
        return TrainProgress(
            epoch,
            self.epochs,
            step,
            self.steps_total,
            task_mean,
            filter_mean,
            accuracy_mean,
            images_per_s=self.images / max(seconds, 1e-9),
            filter_lambda=lam,
            lr=lr,
        )
