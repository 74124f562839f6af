"""Architectures: the paper's four (AlexNet, VGG-M, VGG-S, VGG-16), ResNet-18 and a tiny net.

Each builder returns the torchvision-layout network split into backbone / top conv block /
classifier, so that torchvision weights load by their usual keys before the split.

- ``alexnet``, ``vgg16``, ``resnet18``: torchvision models. VGG-16's top conv (conv5_3) gives
  14x14 maps at 224 px, AlexNet's conv5 13x13.
- ``vgg_m``, ``vgg_s``: Chatfield et al. (BMVC 2014), not in torchvision; built here with
  Caffe's ceil-mode pooling and LRN. Top maps at 224 px: 13x13 (VGG-M), 18x18 (VGG-S).
- ``resnet18`` (beyond the paper): the last residual block of layer4 is the masked "top conv"
  layer, its conv is ``layer4[-1].conv2``; masks sit after the residual sum and ReLU. 7x7 maps
  at 224 px. The paper skips residual nets because skips mix filters: an extension.
- ``tiny``: a from-scratch CPU net, conv -> BN -> ReLU throughout (docs/method.md §8: without
  normalisation the filter loss inflates activations without bound), 8x downsampling: top
  maps of 14x14 at its default 112 px, 16x16 at 128 px, 8x8 at 64 px.

Pretrained architectures keep their top block as-is; their added layer has no BatchNorm by
default and starts as the identity (``identity_init``) so fine-tuning starts from the
pretrained function. ``batch_norm=True`` adds BN to the added layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from torch import nn
from torchvision import models as tv

from partlens.models.registry import (
    PAPER_INPUT_SIZE,
    TINY_INPUT_SIZE,
    Split,
    register_architecture,
)
from partlens.models.weights import load_pretrained


def _replace_last_linear(classifier: nn.Sequential, num_classes: int) -> nn.Sequential:
    last = cast(nn.Linear, classifier[-1])
    classifier[-1] = nn.Linear(last.in_features, num_classes)
    return classifier


def _vgg_like_split(network: nn.Module, top_index: int, channels: int) -> Split:
    features = cast(nn.Sequential, network.features)
    return Split(
        backbone=features[:top_index],
        top_block=nn.Sequential(features[top_index], features[top_index + 1]),
        top_conv_path="0",
        channels=channels,
        classifier=nn.Sequential(
            *features[top_index + 2 :],
            cast(nn.Module, network.avgpool),
            nn.Flatten(1),
            cast(nn.Module, network.classifier),
        ),
        pretrained_family=True,
    )


def _conv_bn_relu(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()
    )


@register_architecture("tiny", input_size=TINY_INPUT_SIZE)
def tiny(num_classes: int, weights: Path | None, *, width: int = 128) -> Split:
    """A from-scratch CPU net (conv-BN-ReLU, 8x downsampling, ``width`` top filters)."""
    if width < 8:
        raise ValueError(f"tiny: width must be at least 8, got {width}")
    if weights is not None:
        # Only a PartModel-layout file fits tiny (it has no torchvision counterpart); build_model
        # loads those into the built model and passes nothing here.
        raise ValueError(
            f"{weights} is not a partlens state dict of tiny (keys backbone.*, head.*, "
            "classifier.*): tiny has no torchvision layout"
        )
    backbone = nn.Sequential(
        _conv_bn_relu(3, width // 4),
        nn.MaxPool2d(2),
        _conv_bn_relu(width // 4, width // 2),
        nn.MaxPool2d(2),
        _conv_bn_relu(width // 2, width),
        nn.MaxPool2d(2),
    )
    # Global *max* pooling, for both twins: behind the part masks only a few units per map are
    # non-zero, so average pooling shrinks the task signal ~n^2/5-fold and the interpretable
    # twin stayed at chance (bird vs rest, 64 px, 4 epochs of 800 images: test accuracy 0.58
    # vs 0.91 ordinary). With max pooling: 0.96 interpretable (exact-mi), 0.82 ordinary.
    classifier = nn.Sequential(
        nn.AdaptiveMaxPool2d(1), nn.Flatten(1), nn.Linear(width, num_classes)
    )
    return Split(backbone, _conv_bn_relu(width, width), "0", width, classifier, False)


class _ChatfieldNet(nn.Module):
    """VGG-M / VGG-S in torchvision layout (``features``, ``avgpool``, ``classifier``)."""

    def __init__(self, features: nn.Sequential) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 6 * 6, 4096),
            nn.ReLU(),
            nn.Dropout(),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Dropout(),
            nn.Linear(4096, 1000),
        )


def _lrn() -> nn.LocalResponseNorm:
    # Caffe's LRN of the Chatfield models: size 5, alpha 5e-4, beta 0.75, k 2.
    return nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)


def _vgg_m_network() -> _ChatfieldNet:
    return _ChatfieldNet(
        nn.Sequential(
            nn.Conv2d(3, 96, 7, stride=2),
            nn.ReLU(),
            _lrn(),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            nn.Conv2d(96, 256, 5, stride=2, padding=1),
            nn.ReLU(),
            _lrn(),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            nn.Conv2d(256, 512, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(512, 512, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(512, 512, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(3, 2, ceil_mode=True),
        )
    )


def _vgg_s_network() -> _ChatfieldNet:
    return _ChatfieldNet(
        nn.Sequential(
            nn.Conv2d(3, 96, 7, stride=2),
            nn.ReLU(),
            _lrn(),
            nn.MaxPool2d(3, 3, ceil_mode=True),
            nn.Conv2d(96, 256, 5, stride=1, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2, 2, ceil_mode=True),
            nn.Conv2d(256, 512, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(512, 512, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(512, 512, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(3, 3, ceil_mode=True),
        )
    )


def _load(network: nn.Module, weights: Path | None, final_prefix: str) -> None:
    if weights is not None:
        load_pretrained(network, weights, replaceable_prefix=final_prefix)


def _vgg_family(
    network: nn.Module, num_classes: int, weights: Path | None, top: int, channels: int
) -> Split:
    classifier = cast(nn.Sequential, network.classifier)
    final = len(classifier) - 1
    _load(network, weights, f"classifier.{final}.")
    _replace_last_linear(classifier, num_classes)
    return _vgg_like_split(network, top, channels)


@register_architecture("alexnet", input_size=PAPER_INPUT_SIZE)
def alexnet(num_classes: int, weights: Path | None) -> Split:
    """AlexNet (torchvision); the masked top conv is conv5 (13x13 maps at 224 px)."""
    return _vgg_family(tv.alexnet(weights=None), num_classes, weights, top=10, channels=256)


@register_architecture("vgg_m", input_size=PAPER_INPUT_SIZE)
def vgg_m(num_classes: int, weights: Path | None) -> Split:
    """VGG-M (Chatfield et al. 2014); conv5 gives 13x13 maps at 224 px."""
    return _vgg_family(_vgg_m_network(), num_classes, weights, top=12, channels=512)


@register_architecture("vgg_s", input_size=PAPER_INPUT_SIZE)
def vgg_s(num_classes: int, weights: Path | None) -> Split:
    """VGG-S (Chatfield et al. 2014); conv5 gives 18x18 maps at 224 px."""
    return _vgg_family(_vgg_s_network(), num_classes, weights, top=11, channels=512)


@register_architecture("vgg16", input_size=PAPER_INPUT_SIZE)
def vgg16(num_classes: int, weights: Path | None) -> Split:
    """VGG-16 (torchvision); conv5_3 gives 14x14 maps at 224 px."""
    return _vgg_family(tv.vgg16(weights=None), num_classes, weights, top=28, channels=512)


@register_architecture("resnet18", input_size=PAPER_INPUT_SIZE)
def resnet18(num_classes: int, weights: Path | None) -> Split:
    """ResNet-18 (torchvision); the last block of layer4 is masked (7x7 maps at 224 px)."""
    network = tv.resnet18(weights=None)
    _load(network, weights, "fc.")
    network.fc = nn.Linear(network.fc.in_features, num_classes)
    backbone = nn.Sequential(
        network.conv1,
        network.bn1,
        network.relu,
        network.maxpool,
        network.layer1,
        network.layer2,
        network.layer3,
        network.layer4[:-1],
    )
    classifier = nn.Sequential(network.avgpool, nn.Flatten(1), network.fc)
    return Split(backbone, network.layer4[-1], "conv2", 512, classifier, True)
