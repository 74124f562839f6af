from __future__ import annotations

import dataclasses

import pytest
import torch

from partlens.models import build_model, load_model, save_checkpoint
from partlens.models.part_model import PartModelConfig
from partlens.nn import PartMask


def _masks(model):
    return [layer.mask for layer in model.head.layers.values() if isinstance(layer.mask, PartMask)]


def test_config_is_frozen_and_rebuilds_the_same_model(tmp_path):
    model = build_model("tiny", width=16, input_size=64, filter_loss="paper-approx", beta=3.0)
    assert isinstance(model.config, PartModelConfig)
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.config.beta = 1.0  # type: ignore[misc]
    options = model.options
    assert options["width"] == 16 and options["input_size"] == 64 and options["beta"] == 3.0
    rebuilt = build_model("tiny", interpretable=True, num_classes=1, **options)
    assert rebuilt.config == model.config
    save_checkpoint(model, tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    assert loaded.config == model.config
    x = torch.rand(2, 3, 64, 64)
    model.eval()
    loaded.eval()
    assert torch.allclose(model(x), loaded(x))


def test_configure_filter_loss_sets_objectives_and_masks():
    model = build_model("tiny", width=8, input_size=64)
    assert model.filter_loss == "assigned-mi"
    assert all(m.position == "argmax" and not m.adaptive_beta for m in _masks(model))
    model.configure_filter_loss("official")
    assert model.filter_loss == "official" and model.config.filter_loss == "official"
    assert all(o.variant == "official" for o in model.objectives.values())
    assert len(_masks(model)) == 2
    assert all(m.position == "centroid" and m.adaptive_beta for m in _masks(model))
    with pytest.raises(ValueError, match="choose one of"):
        model.configure_filter_loss("nope")


def test_ordinary_twin_has_the_layers_but_no_masks_or_loss():
    model = build_model("tiny", interpretable=False, width=8, input_size=64)
    assert not model.interpretable and len(model.objectives) == 0
    assert _masks(model) == []
    features = model.forward_features(torch.rand(2, 3, 64, 64))
    assert list(features) == model.layer_names
    assert features["conv_added"].shape == (2, 8, 8, 8)


def test_feature_shape_follows_the_input_size():
    model = build_model("tiny", width=8)
    assert model.feature_shape("conv_added") == (8, 14, 14)
    assert model.feature_shape("conv_top", input_size=128) == (8, 16, 16)
