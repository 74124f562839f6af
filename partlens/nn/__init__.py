"""Interpretable-CNN building blocks: templates, the filter loss, the part mask and the head."""

from partlens.nn.head import LAYER_NAMES, InterpretableHead, InterpretableLayer, added_conv_block
from partlens.nn.loss import (
    assigned_mutual_information_loss,
    assigned_template_loss,
    lambda_schedule,
    mutual_information_loss,
    template_scores,
)
from partlens.nn.mask import PartMask, part_positions
from partlens.nn.objective import DEFAULT_ACTIVATION_PEAK, FilterObjective, layer_filter_losses
from partlens.nn.templates import template_distances, template_shapes, templates
from partlens.nn.variants import (
    DEFAULT_FILTER_LOSS,
    FILTER_LOSS_VARIANTS,
    FilterLossVariant,
    filter_loss_names,
    filter_loss_variant,
    register_filter_loss,
)

__all__ = [
    "DEFAULT_ACTIVATION_PEAK",
    "DEFAULT_FILTER_LOSS",
    "FILTER_LOSS_VARIANTS",
    "LAYER_NAMES",
    "FilterLossVariant",
    "FilterObjective",
    "InterpretableHead",
    "InterpretableLayer",
    "PartMask",
    "added_conv_block",
    "assigned_mutual_information_loss",
    "assigned_template_loss",
    "filter_loss_names",
    "filter_loss_variant",
    "lambda_schedule",
    "layer_filter_losses",
    "mutual_information_loss",
    "part_positions",
    "register_filter_loss",
    "template_distances",
    "template_scores",
    "template_shapes",
    "templates",
]
