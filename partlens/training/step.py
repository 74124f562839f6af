"""One optimisation step of paper Eq. 3: ``L(y_hat, y*) + lambda * sum_f Loss_f``, backward, SGD.

The step makes no host synchronisation: labels are checked on the CPU before they move to the
device, lambda stays a device tensor, and the reported values come back as
:class:`StepValues` on the device; :meth:`StepValues.read` is the one sync, which the loop
defers by a step on CUDA (:mod:`partlens.training.progress`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor

from partlens.models import PartModel
from partlens.nn import filter_loss_variant
from partlens.training.config import TrainConfig

if TYPE_CHECKING:
    from partlens.training.compiled import CompiledModel


class TrainingDiverged(FloatingPointError):
    """A loss became NaN or infinite: the run cannot continue with these settings."""


def check_labels(labels: Tensor, task: str, num_classes: int) -> None:
    """Raises ``ValueError`` for labels the task loss cannot score (call on CPU labels: a
    check of device labels would be a host sync)."""
    if task == "single":
        if bool(((labels != 0) & (labels != 1)).any()):
            raise ValueError("single-category labels must be 0 (negative) or 1 (positive)")
        return
    outside = (labels < 0) | (labels >= num_classes)
    if bool(outside.any()):
        raise ValueError(f"label {labels[outside][0].item()} outside 0..{num_classes - 1}")


def task_loss(logits: Tensor, labels: Tensor, task: str, multi_loss: str) -> Tensor:
    """The task loss L(y_hat, y*): logistic (single), softmax or per-class logistic (multi).

    Labels are not checked here (see :func:`check_labels`).
    """
    if task == "single":
        return F.binary_cross_entropy_with_logits(logits[:, 0], labels.float())
    if multi_loss == "softmax":
        return F.cross_entropy(logits, labels)
    targets = F.one_hot(labels, logits.shape[1]).float()
    return F.binary_cross_entropy_with_logits(logits, targets)


def accuracy(logits: Tensor, labels: Tensor, task: str) -> Tensor:
    """Share of correct predictions (single: logit > 0 means positive)."""
    predicted = (logits[:, 0] > 0).long() if task == "single" else logits.argmax(dim=1)
    return (predicted == labels).float().mean()


def filter_lambda(model: PartModel, config: TrainConfig, epoch: int) -> float | Tensor:
    """lambda of epoch ``epoch`` by the variant's rule (a device tensor for the paper's
    ``weight * mean max x / t``, no host sync)."""
    variant = filter_loss_variant(config.filter_loss)
    return variant.filter_lambda(config.filter_loss_weight, model.mean_max_activation(), epoch)


@dataclass(frozen=True)
class StepValues:
    """What one step reports, still on its device: task loss, mean filter loss, accuracy and
    lambda as one tensor ``[4]``, and the step's number of images, epoch and learning rate."""

    values: Tensor
    images: int
    epoch: int
    lr: float

    def read(self) -> tuple[float, float, float, float]:
        """The values as floats (one host sync); raises :class:`TrainingDiverged` when a loss
        is NaN or infinite."""
        task, filter_value, correct, lam = self.values.tolist()
        if not (math.isfinite(task) and math.isfinite(filter_value)):
            raise TrainingDiverged(
                f"training diverged in epoch {self.epoch}: task loss {task}, filter loss "
                f"{filter_value}, lambda {lam:.4g}; lower the learning rate (now "
                f"{self.lr:.4g}) or the filter-loss weight, or start from pretrained weights"
            )
        return task, filter_value, correct, lam


def train_step(
    model: PartModel,
    optimizer: torch.optim.Optimizer,
    batch: Any,
    config: TrainConfig,
    epoch: int,
    device: torch.device,
    *,
    compiled: CompiledModel | None = None,
) -> StepValues:
    """One step of Eq. 3 on ``batch`` (``images``, ``labels``); returns its values unread.

    ``compiled``: the model's forward pass and filter loss under ``torch.compile``
    (:class:`partlens.training.compiled.CompiledModel`), used instead of the model's own.
    """
    functions: PartModel | CompiledModel = model if compiled is None else compiled
    check_labels(batch.labels, config.task, model.num_classes)
    on_cuda = device.type == "cuda"
    images = batch.images.to(device, non_blocking=True)
    if on_cuda and config.channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    labels = batch.labels.to(device, non_blocking=True)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=on_cuda and config.amp):
        logits, unmasked = functions.forward_train(images)
    logits = logits.float()
    loss = task_loss(logits, labels, config.task, config.multi_loss)
    task_value = loss.detach()
    filter_value = torch.zeros((), device=device)
    lam: float | Tensor = 0.0
    if model.interpretable:
        # Loss_f is computed in float32 on the unmasked maps, outside autocast.
        per_filter = functions.filter_losses(unmasked, labels)
        lam = filter_lambda(model, config, epoch)
        total = torch.stack([value.sum() for value in per_filter.values()]).sum()
        loss = loss + lam * total
        filter_value = torch.cat(list(per_filter.values())).mean().detach()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    correct = accuracy(logits.detach(), labels, config.task)
    # A Python lambda becomes a device fill, not a copy from host memory (which syncs).
    if not isinstance(lam, Tensor):
        lam = torch.full((), lam, device=device)
    values = torch.stack([task_value, filter_value, correct, lam.detach().float()])
    return StepValues(values, labels.shape[0], epoch, optimizer.param_groups[0]["lr"])
