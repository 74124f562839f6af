import pytest
import torch
from safetensors.torch import save_file
from torchvision import models as tv

from partlens.models import build_model, list_architectures

EXPECTED_TOP = {"alexnet": 13, "vgg_m": 13, "vgg_s": 18, "vgg16": 14, "resnet18": 7}


def test_registry_lists_the_contract_architectures():
    assert set(list_architectures()) == {"tiny", "alexnet", "vgg_m", "vgg_s", "vgg16", "resnet18"}


@pytest.mark.parametrize("interpretable", [True, False])
def test_tiny_contract(interpretable):
    model = build_model("tiny", interpretable=interpretable, num_classes=3)
    assert model.arch == "tiny" and model.num_classes == 3
    assert model.interpretable is interpretable
    assert model.layer_names == ["conv_top", "conv_added"]
    assert model.input_size == 112
    assert model.feature_shape("conv_top") == (128, 14, 14)
    assert model.feature_shape("conv_added", 128) == (128, 16, 16)
    x = torch.randn(2, 3, 64, 64)
    assert model(x).shape == (2, 3)
    features = model.forward_features(x)
    assert {k: tuple(v.shape) for k, v in features.items()} == {
        "conv_top": (2, 128, 8, 8),
        "conv_added": (2, 128, 8, 8),
    }
    assert all((v >= 0).all() for v in features.values())
    assert set(model.layer_convs()) == {"conv_top", "conv_added"}
    assert all(isinstance(c, torch.nn.Conv2d) for c in model.layer_convs().values())


def test_masked_features_have_one_part_per_map():
    model = build_model("tiny", width=16).eval()
    features = model.forward_features(torch.randn(1, 3, 64, 64))["conv_added"]
    # Far from mu_hat (distance > 1/beta of the map) every unit is zero.
    flat = features.flatten(2)
    peak = flat.argmax(-1)
    far = torch.tensor(
        [[abs(p // 8 - i // 8) + abs(p % 8 - i % 8) > 2 for i in range(64)] for p in peak[0]]
    )
    assert (flat[0][far] == 0).all()


@pytest.mark.parametrize("arch", sorted(EXPECTED_TOP))
def test_paper_architectures_build_and_forward(arch):
    model = build_model(arch, num_classes=1).eval()
    side = EXPECTED_TOP[arch]
    assert model.input_size == 224
    assert model.feature_shape("conv_top")[1:] == (side, side)
    with torch.no_grad():
        assert model(torch.randn(1, 3, 224, 224)).shape == (1, 1)


def test_torchvision_weights_load_from_a_local_file(tmp_path):
    network = tv.alexnet(weights=None)
    path = tmp_path / "alexnet.safetensors"
    save_file({k: v.contiguous() for k, v in network.state_dict().items()}, str(path))
    model = build_model("alexnet", weights=path, num_classes=2)
    assert torch.equal(model.layer_convs()["conv_top"].weight, network.features[10].weight)
    torch_path = tmp_path / "alexnet.pth"
    torch.save(network.state_dict(), torch_path)
    model = build_model("alexnet", weights=torch_path)
    assert torch.equal(model.backbone[0].weight, network.features[0].weight)


def test_weight_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"missing\.pth"):
        build_model("alexnet", weights=tmp_path / "missing.pth")
    state = tv.alexnet(weights=None).state_dict()
    state["features.0.weight"] = torch.zeros(1, 3, 11, 11)
    path = tmp_path / "bad.safetensors"
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    with pytest.raises(ValueError, match=r"features\.0\.weight"):
        build_model("alexnet", weights=path)
    vgg_path = tmp_path / "resnet.safetensors"
    save_file(
        {k: v.contiguous() for k, v in tv.resnet18(weights=None).state_dict().items()},
        str(vgg_path),
    )
    with pytest.raises(ValueError, match="does not match"):
        build_model("alexnet", weights=vgg_path)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown architecture"):
        build_model("lenet")
    with pytest.raises(ValueError, match="num_classes"):
        build_model("tiny", num_classes=0)
    with pytest.raises(ValueError, match="option"):
        build_model("vgg16", width=8)


def test_tiny_loads_its_own_state_dict_into_either_twin(tmp_path):
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(1)
    ordinary = build_model("tiny", interpretable=False, width=8, num_classes=6)
    path = tmp_path / "tiny.safetensors"
    save_file({k: v.contiguous() for k, v in ordinary.state_dict().items()}, str(path))
    # Another number of classes: the final linear layer starts fresh, everything else loads.
    twin = build_model("tiny", interpretable=True, width=8, num_classes=1, weights=path)
    own = twin.state_dict()
    for key, value in ordinary.state_dict().items():
        if not key.startswith("classifier.2."):
            assert torch.equal(own[key], value), key
    assert own["classifier.2.weight"].shape == (1, 8)


def test_mismatched_state_dicts_list_every_problem(tmp_path):
    import torch

    state = dict(build_model("tiny", interpretable=False, width=8).state_dict())
    state["backbone.0.0.weight"] = torch.zeros(3, 3, 3, 3)
    del state["head.layers.conv_top.block.1.bias"]
    state["backbone.9.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "bad.pth")
    with pytest.raises(ValueError) as error:
        build_model("tiny", width=8, weights=tmp_path / "bad.pth")
    message = str(error.value)
    assert "missing key head.layers.conv_top.block.1.bias" in message
    assert "unexpected key backbone.9.weight" in message
    assert "backbone.0.0.weight has shape (3, 3, 3, 3), the model expects (2, 3, 3, 3)" in message


def test_activation_peak_reaches_the_objectives_and_survives_a_checkpoint(tmp_path):
    from partlens.models import load_model, save_checkpoint

    default = build_model("tiny", width=8, input_size=64)
    assert default.options["activation_peak"] == 300.0
    assert all(o.activation_peak == 300.0 for o in default.objectives.values())
    raw = build_model("tiny", width=8, input_size=64, activation_peak=None)
    save_checkpoint(raw, tmp_path)
    reloaded = load_model(tmp_path)
    assert all(o.activation_peak is None for o in reloaded.objectives.values())
    with pytest.raises(ValueError, match="activation_peak"):
        build_model("tiny", width=8, input_size=64, activation_peak=-1.0)
