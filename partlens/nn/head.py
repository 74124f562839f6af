"""Interpretable layers: a conv block with a part mask, and the head the paper adds.

The paper (Sec. 3, docs/method.md §1) makes two layers interpretable: the backbone's top conv
layer and one *added* 3x3 conv layer, M -> M filters, zero padding, on top of it. Both get a
part mask and the filter loss. :class:`InterpretableHead` wraps a given top conv block and adds
the new layer; with ``interpretable=False`` it is the ordinary twin (same layers, no mask).

Each layer's loss is computed on its post-ReLU, *unmasked* map x (a known defect of public
ports is to use the masked map, docs/method.md §5), which the layers return next to the masked
one. The mask itself is docs/method.md §2.3.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from partlens.nn.mask import PartMask

LAYER_NAMES = ("conv_top", "conv_added")


class InterpretableLayer(nn.Module):
    """``block`` (conv [-> BN] -> ReLU) followed by a :class:`PartMask` when interpretable."""

    def __init__(self, block: nn.Module, conv_path: str, mask: PartMask | None) -> None:
        super().__init__()
        self.block = block
        # A path, not a second reference: shared tensors would be saved twice (and safetensors
        # refuses them).
        self.conv_path = conv_path
        self.mask = mask

    @property
    def conv(self) -> nn.Conv2d:
        """The conv module of this layer (inside ``block``)."""
        conv = self.block.get_submodule(self.conv_path)
        if not isinstance(conv, nn.Conv2d):
            raise TypeError(
                f"{self.conv_path!r} in the block is a {type(conv).__name__}, not Conv2d"
            )
        return conv

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Returns ``(output, x)``: the (masked) output and the unmasked post-ReLU map."""
        features = self.block(x)
        return (self.mask(features) if self.mask is not None else features), features


def added_conv_block(channels: int, *, batch_norm: bool, identity_init: bool) -> nn.Sequential:
    """The paper's added layer: 3x3 conv M -> M, padding 1, bias [-> BN] -> ReLU.

    ``identity_init`` starts the conv as the identity on its (non-negative) input, so that a
    pretrained backbone's function is unchanged at the start of fine-tuning.
    """
    conv = nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=True)
    if identity_init:
        with torch.no_grad():
            conv.weight.zero_()
            conv.weight[torch.arange(channels), torch.arange(channels), 1, 1] = 1.0
            if conv.bias is not None:  # always, as built above (bias=True)
                conv.bias.zero_()
    layers: list[nn.Module] = [conv]
    if batch_norm:
        layers.append(nn.BatchNorm2d(channels))
    layers.append(nn.ReLU(inplace=False))
    return nn.Sequential(*layers)


class InterpretableHead(nn.Module):
    """The backbone's top conv layer made interpretable, plus the added 3x3 M -> M layer."""

    def __init__(
        self,
        top_block: nn.Module,
        top_conv_path: str,
        channels: int,
        *,
        interpretable: bool,
        batch_norm: bool = True,
        identity_init: bool = False,
        mask_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        mask_options = mask_options or {}

        def make_mask() -> PartMask | None:
            return PartMask(channels, **mask_options) if interpretable else None

        added = added_conv_block(channels, batch_norm=batch_norm, identity_init=identity_init)
        self.channels = channels
        self.layers = nn.ModuleDict(
            {
                LAYER_NAMES[0]: InterpretableLayer(top_block, top_conv_path, make_mask()),
                LAYER_NAMES[1]: InterpretableLayer(added, "0", make_mask()),
            }
        )

    def forward(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor], dict[str, Tensor]]:
        """Returns the top output, each layer's output and each layer's unmasked map."""
        outputs: dict[str, Tensor] = {}
        unmasked: dict[str, Tensor] = {}
        for name, layer in self.layers.items():
            x, unmasked[name] = layer(x)
            outputs[name] = x
        return x, outputs, unmasked
