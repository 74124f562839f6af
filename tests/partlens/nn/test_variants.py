from __future__ import annotations

import pytest
import torch

from partlens.nn import FilterObjective
from partlens.nn.variants import (
    DEFAULT_FILTER_LOSS,
    FILTER_LOSS_VARIANTS,
    FilterLossVariant,
    filter_loss_names,
    filter_loss_variant,
)


def test_the_four_variants_state_their_rules():
    assert filter_loss_names() == ["assigned-mi", "exact-mi", "paper-approx", "official"]
    assert DEFAULT_FILTER_LOSS == "assigned-mi"
    official = filter_loss_variant("official")
    assert (official.mu_rule, official.z_rule, official.lambda_rule) == (
        "centroid",
        "batch",
        "one-over-t",
    )
    assert official.adaptive_beta
    paper = filter_loss_variant("paper-approx")
    assert (paper.mu_rule, paper.loss_form, paper.z_rule) == (
        "argmax",
        "assigned-template",
        "running",
    )
    assert not paper.adaptive_beta


def test_lambda_rules():
    paper = filter_loss_variant("paper-approx")
    # The paper's lambda = weight * mean max x / t.
    assert paper.filter_lambda(2.0, 30.0, 3) == pytest.approx(20.0)
    assert paper.filter_lambda(None, 30.0, 1) == pytest.approx(paper.default_weight * 30.0)
    # The official code's lambda = weight / t, blind to the activation scale.
    official = filter_loss_variant("official")
    assert official.filter_lambda(5.0, 1000.0, 2) == pytest.approx(2.5)


def test_unknown_variant_lists_the_known_ones():
    with pytest.raises(ValueError, match="choose one of assigned-mi, exact-mi"):
        filter_loss_variant("nope")


def test_a_variant_is_frozen_and_registered_once():
    variant = filter_loss_variant("exact-mi")
    with pytest.raises(AttributeError):
        variant.default_weight = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="already registered"):
        FILTER_LOSS_VARIANTS.add("exact-mi", variant)


def test_a_newly_registered_variant_drives_the_objective():
    variant = FilterLossVariant(
        name="test-centroid-exact",
        description="exact -MI with centroid mu",
        mu_rule="centroid",
        loss_form="exact-mi",
        z_rule="exact",
        lambda_rule="one-over-t",
        default_weight=1.0,
    )
    FILTER_LOSS_VARIANTS.add(variant.name, variant)
    try:
        objective = FilterObjective(3, 1, variant=variant.name)
        assert objective.variant == variant.name and objective.position == "centroid"
        x = (torch.rand(4, 3, 6, 6) * 10).requires_grad_()
        loss = objective(x, torch.tensor([1, 0, 1, 1]))
        assert loss.shape == (3,) and torch.isfinite(loss).all()
        loss.sum().backward()
        assert x.grad is not None and torch.isfinite(x.grad).all()
    finally:
        FILTER_LOSS_VARIANTS._entries.pop(variant.name)
