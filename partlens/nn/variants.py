"""Filter-loss variants: each one object stating its mu rule, Z_T rule, lambda and weight.

The variants registered here are the only place their meaning is written down; the objective,
the mask, the model, the training loop, the run schema, the CLI and the UI all read it from
:data:`FILTER_LOSS_VARIANTS`. The measurements behind each default weight are in
``docs/filter-loss.md``; the method and the official code's deviations in ``docs/method.md``
§3.5 and §4.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from torch import Tensor

from partlens.nn.loss import lambda_schedule
from partlens.registry import Registry

MuRule = Literal["argmax", "centroid"]
LossForm = Literal["assigned-template", "assigned-mi", "exact-mi"]
ZRule = Literal["running", "batch", "exact"]
LambdaRule = Literal["mean-max-over-t", "one-over-t"]


@dataclass(frozen=True)
class FilterLossVariant:
    """One way of computing and weighting ``Loss_f`` (paper Eq. 3-5).

    mu_rule: how mu_hat is inferred for the loss and the mask (the paper's argmax, or the
    official code's activation-weighted centroid). loss_form: Eq. 4's assigned template with a
    running or per-batch Z_T (``assigned-template``), Eq. 4's assignment with each image's
    term exact over the batch (``assigned-mi``), or the exact label-free -MI (``exact-mi``).
    z_rule: how Z_T is estimated. lambda_rule: the paper's ``weight * mean max x / t`` or the
    official code's ``weight / t``. default_weight: ``filter_loss_weight`` when a config leaves
    it unset. adaptive_beta: the mask's per-filter beta of the official code.
    """

    name: str
    description: str
    mu_rule: MuRule
    loss_form: LossForm
    z_rule: ZRule
    lambda_rule: LambdaRule
    default_weight: float
    adaptive_beta: bool = False

    def filter_lambda(
        self, weight: float | None, mean_max_activation: float | Tensor, epoch: int
    ) -> float | Tensor:
        """lambda of epoch ``epoch`` (1-based) for ``weight`` (None: ``default_weight``)."""
        weight = self.default_weight if weight is None else weight
        if self.lambda_rule == "one-over-t":
            return lambda_schedule(weight, 1.0, epoch)
        return lambda_schedule(weight, mean_max_activation, epoch)


FILTER_LOSS_VARIANTS: Registry[FilterLossVariant] = Registry("filter_loss")


def register_filter_loss(variant: FilterLossVariant) -> FilterLossVariant:
    """Registers ``variant`` under its name; returns it."""
    return FILTER_LOSS_VARIANTS.add(variant.name, variant)


# Default weights put the gradient-norm ratio ||lambda dLoss_f|| / ||dL_task|| near 0.25 at the
# start of fine-tuning; paper-approx and official lower (their gradients grow as maps sharpen).
register_filter_loss(
    FilterLossVariant(
        name="assigned-mi",
        description="Eq. 4's assignment (T_mu_hat for the target category, T^- otherwise), "
        "each image's term exact over the batch (the default)",
        mu_rule="argmax",
        loss_form="assigned-mi",
        z_rule="exact",
        lambda_rule="mean-max-over-t",
        default_weight=5.0,
    )
)
register_filter_loss(
    FilterLossVariant(
        name="exact-mi",
        description="the exact -MI of the batch over all templates; ignores the labels",
        mu_rule="argmax",
        loss_form="exact-mi",
        z_rule="exact",
        lambda_rule="mean-max-over-t",
        default_weight=0.2,
    )
)
register_filter_loss(
    FilterLossVariant(
        name="paper-approx",
        description="paper Eq. 4 with a running Z_T across batches (footnote 2)",
        mu_rule="argmax",
        loss_form="assigned-template",
        z_rule="running",
        lambda_rule="mean-max-over-t",
        default_weight=0.3,
    )
)
register_filter_loss(
    FilterLossVariant(
        name="official",
        description="the MATLAB code's choices: centroid mu, Z_T per mini-batch, lambda "
        "weight / t, per-filter beta in the mask",
        mu_rule="centroid",
        loss_form="assigned-template",
        z_rule="batch",
        lambda_rule="one-over-t",
        default_weight=5.0,
        adaptive_beta=True,
    )
)

DEFAULT_FILTER_LOSS = "assigned-mi"


def filter_loss_variant(name: str) -> FilterLossVariant:
    """The registered variant ``name`` (a ``ValueError`` that lists the known ones)."""
    return FILTER_LOSS_VARIANTS.get(name)


def filter_loss_names() -> list[str]:
    """Names of every registered variant, the default first."""
    return FILTER_LOSS_VARIANTS.names()
