"""InterpretableLayer / InterpretableHead: the two interpretable layers and their ordinary twin."""

import pytest
import torch
from torch import nn

from partlens.nn.head import (
    LAYER_NAMES,
    InterpretableHead,
    InterpretableLayer,
    added_conv_block,
)
from partlens.nn.mask import PartMask
from partlens.nn.templates import template_shapes


def _top_block(in_channels: int = 3, channels: int = 4) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, channels, 3, padding=1), nn.ReLU())


def _expected_mask(x: torch.Tensor, beta: float = 4.0, norm: str = "l1") -> torch.Tensor:
    """relu(x * T_mu_hat) per image and filter, written out with an explicit loop."""
    n_h, n_w = x.shape[-2:]
    shapes = template_shapes(n_h, n_w, beta=beta, norm=norm)
    out = torch.empty_like(x)
    for b in range(x.shape[0]):
        for f in range(x.shape[1]):
            mu = int(x[b, f].flatten().argmax())
            out[b, f] = torch.relu(x[b, f] * shapes[mu])
    return out


def test_layer_names_are_the_papers_two_layers():
    assert LAYER_NAMES == ("conv_top", "conv_added")


def test_interpretable_layer_output_is_masked_map_and_returns_unmasked():
    torch.manual_seed(0)
    layer = InterpretableLayer(_top_block(), "0", PartMask(4))
    output, unmasked = layer(torch.randn(2, 3, 7, 7))
    assert output.shape == unmasked.shape == (2, 4, 7, 7)
    assert (unmasked >= 0).all()  # post-ReLU
    torch.testing.assert_close(output, _expected_mask(unmasked))
    # The mask keeps each map's peak and zeroes units at L1 distance >= n / beta.
    assert torch.equal(output.flatten(2).amax(-1), unmasked.flatten(2).amax(-1))
    assert (output <= unmasked).all()
    assert (output == 0).sum() > (unmasked == 0).sum()


def test_interpretable_layer_without_mask_is_the_identity_path():
    block = _top_block()
    layer = InterpretableLayer(block, "0", None)
    x = torch.randn(2, 3, 5, 6)
    output, unmasked = layer(x)
    assert output is unmasked
    torch.testing.assert_close(output, block(x))


def test_conv_property_resolves_the_path_inside_the_block():
    block = nn.Sequential(nn.Identity(), nn.Sequential(nn.Conv2d(3, 4, 1), nn.ReLU()))
    layer = InterpretableLayer(block, "1.0", None)
    assert layer.conv is block[1][0]
    # A path, not a second reference: the conv's weights are saved once.
    assert list(layer.state_dict()) == ["block.1.0.weight", "block.1.0.bias"]
    with pytest.raises(TypeError, match="not Conv2d"):
        _ = InterpretableLayer(block, "1.1", None).conv


@pytest.mark.parametrize("batch_norm", [False, True])
def test_added_conv_block_layout(batch_norm):
    block = added_conv_block(6, batch_norm=batch_norm, identity_init=False)
    kinds = [type(m) for m in block]
    assert kinds == ([nn.Conv2d, nn.BatchNorm2d, nn.ReLU] if batch_norm else [nn.Conv2d, nn.ReLU])
    conv = block[0]
    assert conv.in_channels == conv.out_channels == 6
    assert conv.kernel_size == (3, 3) and conv.padding == (1, 1) and conv.bias is not None
    assert block(torch.randn(2, 6, 5, 7)).shape == (2, 6, 5, 7)  # same size as its input


def test_identity_init_weights_and_passes_nonnegative_input_exactly():
    block = added_conv_block(3, batch_norm=False, identity_init=True)
    conv = block[0]
    expected = torch.zeros(3, 3, 3, 3)
    expected[[0, 1, 2], [0, 1, 2], 1, 1] = 1.0
    assert torch.equal(conv.weight, expected) and torch.equal(conv.bias, torch.zeros(3))
    x = torch.rand(2, 3, 4, 5)
    assert torch.equal(block(x), x)
    # Without identity init the layer is a random conv, not the identity.
    torch.manual_seed(0)
    assert not torch.allclose(added_conv_block(3, batch_norm=False, identity_init=False)(x), x)


def test_head_masks_each_layer_and_feeds_the_masked_map_upward():
    torch.manual_seed(1)
    head = InterpretableHead(_top_block(3, 4), "0", 4, interpretable=True, batch_norm=False)
    head.eval()
    x = torch.randn(2, 3, 8, 8)
    out, outputs, unmasked = head(x)
    assert list(outputs) == list(unmasked) == list(LAYER_NAMES)
    for name in LAYER_NAMES:
        assert outputs[name].shape == unmasked[name].shape == (2, 4, 8, 8)
        torch.testing.assert_close(outputs[name], _expected_mask(unmasked[name]))
    assert out is outputs["conv_added"]
    # The added layer sees the *masked* top map, not the unmasked one.
    added = head.layers["conv_added"].block
    torch.testing.assert_close(unmasked["conv_added"], added(outputs["conv_top"]))
    assert not torch.allclose(unmasked["conv_added"], added(unmasked["conv_top"]))


def test_head_mask_options_reach_both_masks():
    head = InterpretableHead(
        _top_block(), "0", 4, interpretable=True, mask_options={"beta": 2.0, "norm": "l2"}
    )
    masks = [head.layers[name].mask for name in LAYER_NAMES]
    assert all(isinstance(m, PartMask) for m in masks)
    assert masks[0] is not masks[1]
    assert [(m.beta, m.norm) for m in masks] == [(2.0, "l2"), (2.0, "l2")]
    head.eval()
    _, outputs, unmasked = head(torch.randn(1, 3, 6, 6))
    torch.testing.assert_close(outputs["conv_top"], _expected_mask(unmasked["conv_top"], 2.0, "l2"))


def test_ordinary_twin_has_no_mask_and_same_parameters():
    torch.manual_seed(2)
    kwargs = {"batch_norm": True}
    interpretable = InterpretableHead(_top_block(), "0", 4, interpretable=True, **kwargs)
    twin = InterpretableHead(_top_block(), "0", 4, interpretable=False, **kwargs)
    assert all(layer.mask is None for layer in twin.layers.values())
    assert not any(isinstance(m, PartMask) for m in twin.modules())
    shapes = {k: v.shape for k, v in twin.state_dict().items()}
    masked_shapes = {k: v.shape for k, v in interpretable.state_dict().items() if ".mask." not in k}
    assert shapes == masked_shapes
    # With the same weights: the twin's top layer gives the interpretable net's unmasked map,
    # and its added layer reads that unmasked map (conv -> BN -> ReLU, twice, nothing else).
    missing, unexpected = twin.load_state_dict(interpretable.state_dict(), strict=False)
    assert missing == [] and all(".mask." in k for k in unexpected) and unexpected
    twin.eval()
    interpretable.eval()
    x = torch.randn(2, 3, 6, 6)
    out, outputs, unmasked = twin(x)
    _, _, reference = interpretable(x)
    for name in LAYER_NAMES:
        assert outputs[name] is unmasked[name]
    torch.testing.assert_close(outputs["conv_top"], reference["conv_top"])
    torch.testing.assert_close(out, twin.layers["conv_added"].block(outputs["conv_top"]))
    assert not torch.allclose(out, reference["conv_added"])


def test_gradient_flows_through_x_only_and_reaches_both_convs():
    torch.manual_seed(3)
    head = InterpretableHead(_top_block(), "0", 4, interpretable=True, batch_norm=False)
    x = torch.randn(2, 3, 6, 6, requires_grad=True)
    out, _, _ = head(x)
    out.sum().backward()
    for name in LAYER_NAMES:
        weight = head.layers[name].conv.weight
        assert weight.grad is not None and weight.grad.abs().sum() > 0
    assert x.grad is not None and x.grad.abs().sum() > 0
    # The mask is a constant: d(masked)/dx equals the mask value (where positive) at every unit.
    layer = InterpretableLayer(nn.ReLU(), "", PartMask(2))
    z = torch.rand(1, 2, 5, 5, requires_grad=True)
    masked, _ = layer(z)
    masked.sum().backward()
    shapes = template_shapes(5, 5)
    for f in range(2):
        mu = int(z[0, f].detach().flatten().argmax())
        expected = torch.where(masked[0, f] > 0, shapes[mu], torch.zeros(()))
        torch.testing.assert_close(z.grad[0, f], expected)
    # The unmasked map (the loss input) also carries gradient to the convs.
    head.zero_grad()
    unmasked_loss = sum(m.sum() for m in head(torch.randn(1, 3, 6, 6))[2].values())
    unmasked_loss.backward()
    assert head.layers["conv_top"].conv.weight.grad.abs().sum() > 0
