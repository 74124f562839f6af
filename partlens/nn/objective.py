"""Per-layer filter objective: target categories, running Z_T, and the chosen loss variant.

The variant (``TrainConfig.filter_loss``) is a registered
:class:`partlens.nn.variants.FilterLossVariant`: its ``loss_form`` picks the computation below
and its ``z_rule`` how Z_T is estimated (running across batches, per mini-batch, or exact over
the batch by autograd).

Activation scale: tau = 0.5/n^2 was made for pretrained VGG activations in the hundreds. With
BatchNorm-sized activations (mean max ~3) ``tr(x . T)`` varies by ~0.02 across templates, the MI
is ~2e-4 nats and its gradient ~1% of the task's: the loss does nothing. ``activation_peak``
scales x (by a detached factor) so that the running mean max activation equals it: the loss then
sees the paper's scale whatever the network's, and no longer rewards inflating activations
(which made un-normalised layers run away, docs/method.md §8). The gradient passes to x as if
unscaled, so lambda keeps the paper's meaning. None keeps the raw activations.
Measurements behind the defaults: ``docs/filter-loss.md``.

Target category of each filter (paper Sec. 3.2, docs/method.md §3.6): with one logit (single
category) it is the positive label 1 for every filter. With several classes it is
``argmax_c mean_{I in I_c} sum_ij x_ij``, an exponential moving average per class that is
updated from training batches only (never in eval mode).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from partlens.nn.loss import (
    assigned_mutual_information_loss,
    assigned_template_loss,
    batch_log_mean_exp,
    mutual_information_loss,
    template_scores,
    update_log_mean_exp,
)
from partlens.nn.mask import part_positions
from partlens.nn.templates import templates
from partlens.nn.variants import DEFAULT_FILTER_LOSS, FilterLossVariant, filter_loss_variant

Z_MOMENTUM = 0.1
CATEGORY_MOMENTUM = 0.1
MEAN_MAX_MOMENTUM = 0.1
DEFAULT_ACTIVATION_PEAK = 300.0
MIN_MEAN_MAX = 1e-6


class FilterObjective(nn.Module):
    """Computes ``Loss_f`` for every filter of one interpretable layer and keeps its statistics."""

    log_mean_exp: Tensor
    mean_max: Tensor
    class_activation: Tensor
    class_seen: Tensor

    def __init__(
        self,
        channels: int,
        num_classes: int,
        *,
        variant: str = DEFAULT_FILTER_LOSS,
        beta: float = 4.0,
        norm: str = "l1",
        activation_peak: float | None = DEFAULT_ACTIVATION_PEAK,
    ) -> None:
        super().__init__()
        if activation_peak is not None and not activation_peak > 0:
            raise ValueError(f"activation_peak must be positive or None, got {activation_peak}")
        self.activation_peak = activation_peak
        self.spec: FilterLossVariant = filter_loss_variant(variant)
        self.channels = channels
        self.num_classes = num_classes
        self.beta = beta
        self.norm = norm
        self.position = self.spec.mu_rule
        # Running log mean_x exp(tr(x . T)) [F, K]; empty until the first training batch.
        self.register_buffer("log_mean_exp", torch.empty(0))
        self.register_buffer("mean_max", torch.zeros(()))
        self.register_buffer("class_activation", torch.zeros(max(num_classes, 1), channels))
        self.register_buffer("class_seen", torch.zeros(max(num_classes, 1), dtype=torch.bool))
        self._template_cache: dict[tuple[int, int, str], tuple[Tensor, Tensor]] = {}

    @property
    def variant(self) -> str:
        """The name of the filter-loss variant."""
        return self.spec.name

    def configure(self, spec: FilterLossVariant) -> None:
        """Switches to the variant ``spec`` (its loss form, Z_T rule and mu rule)."""
        self.spec = spec
        self.position = spec.mu_rule

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # The running Z_T's size depends on the map size seen in training, not known at build.
        key = prefix + "log_mean_exp"
        if key in state_dict:
            incoming = state_dict[key]
            self.log_mean_exp = torch.empty(
                incoming.shape, dtype=incoming.dtype, device=self.mean_max.device
            )
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def templates_for(self, n_h: int, n_w: int, device: torch.device) -> tuple[Tensor, Tensor]:
        """Flattened templates ``[K, H*W]`` and prior ``[K]`` for this map size (cached)."""
        key = (n_h, n_w, str(device))
        if key not in self._template_cache:
            T, prior = templates(n_h, n_w, beta=self.beta, norm=self.norm)
            value = (T.reshape(T.shape[0], -1).to(device), prior.to(device))
            if torch.compiler.is_compiling():
                # Constants of the graph (see PartMask._shapes: caching here would recompile).
                return value
            self._template_cache[key] = value
        return self._template_cache[key]

    def target_categories(self) -> Tensor:
        """c_hat per filter ``[F]``: label 1 (single category) or argmax of class activation."""
        if self.num_classes == 1:
            return torch.ones(self.channels, dtype=torch.long, device=self.class_activation.device)
        scores = self.class_activation.masked_fill(~self.class_seen[:, None], float("-inf"))
        return scores.argmax(dim=0)

    @torch.no_grad()
    def _update_statistics(self, x: Tensor, labels: Tensor, batch_mean_max: Tensor) -> None:
        # Seeded by the first batch; tensor-side choices avoid a device sync per step.
        first = self.mean_max == 0
        self.mean_max.copy_(
            torch.where(
                first, batch_mean_max, self.mean_max.lerp(batch_mean_max, MEAN_MAX_MOMENTUM)
            )
        )
        if self.num_classes == 1:
            return
        # Per-class means of sum_ij x_ij as one matmul: no loop over the batch's labels.
        classes = torch.arange(self.num_classes, device=labels.device)
        one_hot = (labels[:, None] == classes[None, :]).to(x.dtype)
        counts = one_hot.sum(dim=0)
        class_mean = (one_hot.t() @ x.sum(dim=(2, 3))) / counts.clamp_min(1.0)[:, None]
        present = (counts > 0)[:, None]
        blended = self.class_activation.lerp(class_mean, CATEGORY_MOMENTUM)
        updated = torch.where(self.class_seen[:, None], blended, class_mean)
        self.class_activation.copy_(torch.where(present, updated, self.class_activation))
        self.class_seen.logical_or_(present[:, 0])

    def _check_labels(self, labels: Tensor) -> None:
        # Checked where it costs no device sync (CPU); on CUDA the task loss's own check
        # catches a label outside the classes. Single-category labels: the task loss checks.
        # Under torch.compile the branch would split the graph; the training step checks its
        # labels on the CPU before (partlens.training.step.check_labels).
        if self.num_classes == 1 or labels.device.type != "cpu" or torch.compiler.is_compiling():
            return
        outside = (labels < 0) | (labels >= self.num_classes)
        if bool(outside.any()):
            raise ValueError(f"label {labels[outside][0].item()} outside 0..{self.num_classes - 1}")

    def prepare(self, x: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
        """Float32 maps and the detached loss scale; updates the statistics in training mode.

        The batch's mean max activation is computed once and shared by the running
        statistics and :meth:`loss_scale`.
        """
        x = x.float()
        batch_mean_max = x.detach().flatten(2).amax(dim=-1).mean()
        if self.training:
            self._check_labels(labels)
            self._update_statistics(x.detach(), labels, batch_mean_max)
        return x, self.loss_scale(x, batch_mean_max)

    def assignments(self, x: Tensor, labels: Tensor, negative_index: int) -> Tensor:
        """T_hat per image and filter ``[B, F]``: mu_hat for the filter's target category,
        ``negative_index`` (T^-) otherwise (paper Eq. 4)."""
        positive = labels[:, None] == self.target_categories()[None, :]
        return part_positions(x, self.position).masked_fill(~positive, negative_index)

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        """``Loss_f`` per filter ``[F]`` for post-ReLU, *unmasked* maps ``x: [B, F, H, W]``.

        In training mode this also updates the running Z_T, mean max activation and the
        per-class activation statistics.
        """
        x, scale = self.prepare(x, labels)
        n_h, n_w = x.shape[-2:]
        flat_t, prior = self.templates_for(n_h, n_w, x.device)
        if self.spec.loss_form == "assigned-mi":
            assigned = self.assignments(x, labels, flat_t.shape[0] - 1)
            return assigned_mutual_information_loss(x, flat_t, prior, assigned, scale)
        # The loss is evaluated at the rescaled map (the template sharpness the paper's tau
        # assumes) but its gradient reaches x unscaled: with lambda = weight * mean max / t the
        # push on x then grows and shrinks with the activations, as in the paper. A push fixed
        # in size would grow relative to shrinking activations and silence un-normalised
        # layers trained from scratch.
        x = x + (x * (scale - 1.0)).detach()
        if self.spec.loss_form == "exact-mi":
            return mutual_information_loss(x, flat_t.reshape(-1, n_h, n_w), prior)
        assigned = self.assignments(x, labels, flat_t.shape[0] - 1)
        scores = template_scores(x, flat_t)
        log_mean_exp = self._log_mean_exp(scores)
        return assigned_template_loss(scores, assigned, prior, log_mean_exp)

    def loss_scale(self, x: Tensor, batch_mean_max: Tensor | None = None) -> Tensor:
        """The factor that brings the mean max activation to ``activation_peak`` (detached).

        Uses the running mean max (the batch's, ``batch_mean_max`` or computed from ``x``,
        before any training batch was seen); 1 when ``activation_peak`` is None (the raw
        activations, the paper's scale).
        """
        if self.activation_peak is None:
            return torch.ones((), device=x.device)
        if batch_mean_max is None:
            batch_mean_max = x.detach().flatten(2).amax(dim=-1).mean()
        mean_max = torch.where(self.mean_max > 0, self.mean_max, batch_mean_max)
        # A floor, not finfo.tiny: all-zero maps (dead units at initialisation) must not make
        # the factor overflow to inf, since 0 * inf is NaN.
        return self.activation_peak / mean_max.clamp_min(MIN_MEAN_MAX)

    def _log_mean_exp(self, scores: Tensor) -> Tensor:
        batch_value = batch_log_mean_exp(scores)
        if self.spec.z_rule == "batch":
            return batch_value
        if not self.training:
            return batch_value if self.log_mean_exp.numel() == 0 else self.log_mean_exp
        if self.log_mean_exp.shape != batch_value.shape:
            self.log_mean_exp = batch_value.clone()
        else:
            self.log_mean_exp = update_log_mean_exp(self.log_mean_exp, batch_value, Z_MOMENTUM)
        return self.log_mean_exp


def layer_filter_losses(
    objectives: Mapping[str, FilterObjective],
    maps: Mapping[str, Tensor],
    labels: Tensor,
    *,
    batched: bool | None = None,
) -> dict[str, Tensor]:
    """``Loss_f`` per filter ``[F]`` of every layer, the same values as calling each objective.

    On CUDA, layers with the ``assigned-mi`` loss, one map size and the same templates are
    scored as one batch (their filters side by side: one matmul and one pass over the
    statistics for all of them), which halves the loss's kernel launches; the others, and
    every layer on CPU, are computed layer by layer (on CPU the launches cost nothing and the
    concatenation copy cost 14 % of the loss, docs/filter-loss.md). ``batched`` overrides
    that choice (None: batch on CUDA only).
    """
    groups: dict[tuple[Any, ...], list[str]] = {}
    for name, objective in objectives.items():
        batch = maps[name].device.type == "cuda" if batched is None else batched
        if objective.spec.loss_form == "assigned-mi" and batch:
            key = (tuple(maps[name].shape[2:]), objective.beta, objective.norm)
            groups.setdefault(key, []).append(name)
    losses: dict[str, Tensor] = {}
    for names in groups.values():
        if len(names) > 1:
            losses.update(_batched_assigned_mi(objectives, maps, labels, names))
    for name, objective in objectives.items():
        if name not in losses:
            losses[name] = objective(maps[name], labels)
    return {name: losses[name] for name in objectives}


def _batched_assigned_mi(
    objectives: Mapping[str, FilterObjective],
    maps: Mapping[str, Tensor],
    labels: Tensor,
    names: list[str],
) -> dict[str, Tensor]:
    xs, assigned, scales = [], [], []
    n_h, n_w = maps[names[0]].shape[-2:]
    flat_t, prior = objectives[names[0]].templates_for(n_h, n_w, maps[names[0]].device)
    for name in names:
        x, scale = objectives[name].prepare(maps[name], labels)
        xs.append(x)
        assigned.append(objectives[name].assignments(x, labels, flat_t.shape[0] - 1))
        scales.append(scale.expand(x.shape[1]))
    loss = assigned_mutual_information_loss(
        torch.cat(xs, dim=1), flat_t, prior, torch.cat(assigned, dim=1), torch.cat(scales)
    )
    return dict(zip(names, loss.split([x.shape[1] for x in xs]), strict=True))
