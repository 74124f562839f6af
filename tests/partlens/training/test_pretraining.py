from typing import Any

import pytest
import torch
from safetensors.torch import save_file

from partlens.assets.shipped import read_recipe, shipped_weights
from partlens.assets.weights import check_weights
from partlens.data.builtin import GENERATOR_VERSION
from partlens.models import build_model, save_checkpoint
from partlens.training import pretraining
from partlens.training.pretraining import (
    backbone_state,
    is_backbone_key,
    load_backbone,
    pretrain,
    pretrain_backbone,
    read_backbone,
    write_pretrained,
)


def tiny(interpretable, num_classes=1, width=16, seed=0):
    torch.manual_seed(seed)
    return build_model("tiny", interpretable=interpretable, num_classes=num_classes, width=width)


def test_both_twins_start_from_the_same_backbone_with_fresh_added_layers():
    pretrained = tiny(False, num_classes=6, seed=1)
    state = backbone_state(pretrained)
    assert state and all(k.startswith(("backbone.", "head.layers.conv_top.block.")) for k in state)
    twins = [tiny(True), tiny(False)]
    for twin in twins:
        load_backbone(twin, state)
        own = twin.state_dict()
        assert all(torch.equal(own[key], value) for key, value in state.items())
    # The added layer and the classifier are not part of the backbone: they stay fresh.
    added = "head.layers.conv_added.block.0.weight"
    assert added not in state
    assert not torch.equal(twins[0].state_dict()[added], pretrained.state_dict()[added])
    assert torch.equal(twins[0].state_dict()[added], twins[1].state_dict()[added])


def test_backbone_reads_from_a_file_or_a_checkpoint(tmp_path):
    model = tiny(False)
    save_file(backbone_state(model), str(tmp_path / "backbone.safetensors"))
    save_checkpoint(model, tmp_path / "checkpoint")
    from_file = read_backbone(tmp_path / "backbone.safetensors")
    from_checkpoint = read_backbone(tmp_path / "checkpoint")
    assert from_file.keys() == from_checkpoint.keys() == backbone_state(model).keys()


def test_mismatched_backbones_are_errors(tmp_path):
    state = backbone_state(tiny(False, width=32))
    with pytest.raises(ValueError, match="shape"):
        load_backbone(tiny(True, width=16), state)
    partial = dict(list(backbone_state(tiny(False)).items())[1:])
    with pytest.raises(ValueError, match="lacks 1 tensors"):
        load_backbone(tiny(True), partial)
    save_file({"features.0.weight": torch.zeros(1)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ValueError, match="no partlens backbone"):
        read_backbone(tmp_path / "other.safetensors")


def _pretrain_tiny(**overrides):
    settings: dict[str, Any] = {"image_size": 64, "width": 8, "train_images": 16, "test_images": 8}
    settings["epochs"] = 1
    settings.update(overrides)
    return pretrain("tiny", batch_size=8, max_steps=1, **settings)


def test_pretrain_writes_weights_that_load_into_tiny_with_fresh_added_layers(tmp_path):
    state, recipe = _pretrain_tiny()
    path = tmp_path / "backbone.safetensors"
    write_pretrained(path, state, recipe)
    assert read_recipe(path) == recipe
    assert recipe.arch == "tiny" and recipe.generator_version == GENERATOR_VERSION
    assert (recipe.seed, recipe.data_seed, recipe.image_size, recipe.width) == (0, 1, 64, 8)
    assert 0.0 <= recipe.test_accuracy <= 1.0 and recipe.epochs == 1
    assert check_weights("tiny", path)[2] == {"width": 8}
    loaded = build_model("tiny", interpretable=True, weights=path, width=8).state_dict()
    # The 6-way classifier does not fit a 1-logit model and is skipped; the rest loads.
    assert all(torch.equal(loaded[k], v) for k, v in state.items() if not k.startswith("classif"))
    fresh = tiny(False, num_classes=6, width=8, seed=0).state_dict()
    head = [key for key in state if not is_backbone_key(key)]
    assert head and all(torch.equal(state[key], fresh[key]) for key in head)
    # One SGD step moved the backbone away from its initialisation.
    assert not torch.equal(state["backbone.0.0.weight"], fresh["backbone.0.0.weight"])


def test_pretrain_backbone_reuses_a_cache_of_this_generator_version_only(tmp_path, monkeypatch):
    calls = []
    state, recipe = _pretrain_tiny()

    def fake_pretrain(arch, **settings):
        calls.append(settings)
        return state, recipe

    monkeypatch.setattr(pretraining, "pretrain", fake_pretrain)
    cache = tmp_path / "cache.safetensors"
    backbone, record = pretrain_backbone("tiny", cache, image_size=64)
    assert (
        len(calls) == 1
        and not record["reused"]
        and set(backbone) == {k for k in state if is_backbone_key(k)}
    )
    assert pretrain_backbone("tiny", cache, image_size=64)[1]["reused"] and len(calls) == 1
    assert not pretrain_backbone("tiny", cache, reuse=False, image_size=64)[1]["reused"]
    stale = recipe.model_copy(update={"generator_version": GENERATOR_VERSION - 1})
    write_pretrained(cache, state, stale)
    assert not pretrain_backbone("tiny", cache, image_size=64)[1]["reused"] and len(calls) == 3


def test_shipped_backbones_match_the_generator_and_load_into_their_architecture():
    shipped = shipped_weights()
    assert "builtin-tiny-96" in shipped
    for entry in shipped.values():
        recipe = entry.recipe
        # A generator change makes every shipped backbone stale: pretrain and ship it again.
        assert recipe.generator_version == GENERATOR_VERSION, entry.name
        assert entry.name == f"builtin-{recipe.arch}-{recipe.image_size}"
        options = {} if recipe.width is None else {"width": recipe.width}
        assert check_weights(recipe.arch, entry.path)[2] == options
        model = build_model(
            recipe.arch, interpretable=True, weights=entry.path, input_size=recipe.image_size,
            **options,
        )  # fmt: skip
        assert model.feature_shape("conv_added")[1] == recipe.image_size // 8
        assert recipe.test_accuracy is not None and recipe.test_accuracy > 0.9
        assert entry.size_bytes < 4 * 2**20  # a few MB at most in the package
