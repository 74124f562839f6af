"""Where ``reproduce`` starts: the shipped backbone that fits its budget, else a pretraining."""

from __future__ import annotations

from dataclasses import replace

from partlens.assets.shipped import shipped_weights
from partlens.runs.reproduce import BUDGETS, _shipped
from partlens.training.pretraining import is_backbone_key

SHIPPED = shipped_weights()["builtin-tiny-96"].recipe
FITTING = replace(BUDGETS["small"], image_size=SHIPPED.image_size, width=SHIPPED.width)


def test_a_budget_of_the_shipped_sizes_starts_from_the_shipped_backbone():
    found = _shipped("tiny", FITTING, SHIPPED.seed)
    assert found is not None
    backbone, record = found
    assert backbone and all(is_backbone_key(key) for key in backbone)
    assert record["shipped"] and record["reused"] and record["image_size"] == SHIPPED.image_size
    assert record["path"].endswith("builtin-tiny-96.safetensors")


def test_other_sizes_seeds_or_step_limits_pretrain_instead():
    assert _shipped("tiny", replace(FITTING, width=16), SHIPPED.seed) is None
    assert _shipped("tiny", replace(FITTING, image_size=80), SHIPPED.seed) is None
    assert _shipped("tiny", FITTING, SHIPPED.seed + 1) is None
    assert _shipped("tiny", replace(FITTING, max_steps=2), SHIPPED.seed) is None
