import pytest
import torch
from safetensors.torch import save_file

from partlens.models import build_model, save_checkpoint
from partlens.training.pretraining import backbone_state, load_backbone, read_backbone


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
