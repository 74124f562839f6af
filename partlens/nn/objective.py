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
            self._template_cache[key] = (T.reshape(T.shape[0], -1).to(device), prior.to(device))
        return self._template_cache[key]

    def target_categories(self) -> Tensor:
        """c_hat per filter ``[F]``: label 1 (single category) or argmax of class activation."""
        if self.num_classes == 1:
            return torch.ones(self.channels, dtype=torch.long, device=self.class_activation.device)
        scores = self.class_activation.masked_fill(~self.class_seen[:, None], float("-inf"))
        return scores.argmax(dim=0)

    @torch.no_grad()
    def _update_statistics(self, x: Tensor, labels: Tensor) -> None:
        batch_mean_max = x.flatten(2).amax(dim=-1).mean()
        # Seeded by the first batch; a tensor-side choice avoids a device sync per step.
        first = self.mean_max == 0
        self.mean_max.copy_(
            torch.where(
                first, batch_mean_max, self.mean_max.lerp(batch_mean_max, MEAN_MAX_MOMENTUM)
            )
        )
        if self.num_classes == 1:
            return
        totals = x.sum(dim=(2, 3))
        for label in labels.unique().tolist():
            if not 0 <= label < self.num_classes:
                raise ValueError(f"label {label} outside 0..{self.num_classes - 1}")
            class_mean = totals[labels == label].mean(dim=0)
            if self.class_seen[label]:
                self.class_activation[label].lerp_(class_mean, CATEGORY_MOMENTUM)
            else:
                self.class_activation[label].copy_(class_mean)
                self.class_seen[label] = True

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        """``Loss_f`` per filter ``[F]`` for post-ReLU, *unmasked* maps ``x: [B, F, H, W]``.

        In training mode this also updates the running Z_T, mean max activation and the
        per-class activation statistics.
        """
        x = x.float()
        n_h, n_w = x.shape[-2:]
        flat_t, prior = self.templates_for(n_h, n_w, x.device)
        if self.training:
            self._update_statistics(x.detach(), labels)
        # The loss is evaluated at the rescaled map (the template sharpness the paper's tau
        # assumes) but its gradient reaches x unscaled: with lambda = weight * mean max / t the
        # push on x then grows and shrinks with the activations, as in the paper. A push fixed
        # in size would grow relative to shrinking activations and silence un-normalised
        # layers trained from scratch.
        x = x + (x * (self.loss_scale(x) - 1.0)).detach()
        if self.spec.loss_form == "exact-mi":
            return mutual_information_loss(x, flat_t.reshape(-1, n_h, n_w), prior)
        positive = labels[:, None] == self.target_categories()[None, :]
        negative_index = torch.full_like(positive, flat_t.shape[0] - 1, dtype=torch.long)
        assigned = torch.where(positive, part_positions(x, self.position), negative_index)
        if self.spec.loss_form == "assigned-mi":
            return assigned_mutual_information_loss(
                x, flat_t.reshape(-1, n_h, n_w), prior, assigned
            )
        scores = template_scores(x, flat_t)
        log_mean_exp = self._log_mean_exp(scores)
        return assigned_template_loss(scores, assigned, prior, log_mean_exp)

    def loss_scale(self, x: Tensor) -> Tensor:
        """The factor that brings the mean max activation to ``activation_peak`` (detached).

        Uses the running mean max (the batch's before any training batch was seen); 1 when
        ``activation_peak`` is None (the raw activations, the paper's scale).
        """
        if self.activation_peak is None:
            return torch.ones((), device=x.device)
        mean_max = torch.where(
            self.mean_max > 0, self.mean_max, x.detach().flatten(2).amax(dim=-1).mean()
        )
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
