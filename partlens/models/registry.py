"""The architecture registry and :func:`build_model`, which adds the interpretable head.

Architectures register a builder with :func:`register_architecture`; a builder takes
``(num_classes, weights)`` plus its own typed keyword-only options (``tiny``'s ``width``) and
returns the network cut at its top conv layer (:class:`Split`). The built-in ones are in
:mod:`partlens.models.architectures`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from torch import nn

from partlens.models.part_model import PartModel, PartModelConfig
from partlens.models.weights import is_partlens_layout, load_partlens_weights, read_state_dict
from partlens.nn import DEFAULT_ACTIVATION_PEAK, DEFAULT_FILTER_LOSS, InterpretableHead
from partlens.registry import Registry

# Input sides the architectures are built for (top maps: tiny 14x14, VGG-16 14x14).
TINY_INPUT_SIZE = 112
PAPER_INPUT_SIZE = 224


@dataclass
class Split:
    """A network cut at its top conv layer."""

    backbone: nn.Module
    top_block: nn.Module
    top_conv_path: str
    channels: int
    classifier: nn.Module
    pretrained_family: bool


Builder = Callable[..., Split]


@dataclass(frozen=True)
class Architecture:
    """A registered architecture: its builder and the input side it is built for."""

    name: str
    build: Builder
    input_size: int
    description: str

    @property
    def options(self) -> list[str]:
        """The builder's own keyword-only options (``width`` for ``tiny``)."""
        parameters = inspect.signature(self.build).parameters.values()
        return [p.name for p in parameters if p.kind is p.KEYWORD_ONLY]


ARCHITECTURES: Registry[Architecture] = Registry("architecture")


def register_architecture(name: str, *, input_size: int) -> Callable[[Builder], Builder]:
    """A decorator registering a builder as architecture ``name`` (inputs of ``input_size``)."""

    def decorate(build: Builder) -> Builder:
        description = (build.__doc__ or name).strip().splitlines()[0]
        ARCHITECTURES.add(name, Architecture(name, build, input_size, description))
        return build

    return decorate


def default_input_size(arch: str) -> int:
    """The input side (pixels) an architecture is built for: 224 as in the paper, 112 for tiny."""
    return ARCHITECTURES.get(arch).input_size


def list_architectures() -> list[str]:
    """Names accepted by :func:`build_model`."""
    return ARCHITECTURES.names()


_HEAD_OPTIONS = {f.name for f in fields(PartModelConfig)} - {
    "arch",
    "interpretable",
    "num_classes",
    "builder_options",
}


def build_model(
    arch: str,
    *,
    interpretable: bool = True,
    num_classes: int = 1,
    weights: str | Path | None = None,
    **options: Any,
) -> PartModel:
    """Builds ``arch`` with the paper's interpretable head (or its ordinary twin).

    Options: ``filter_loss`` (a name of :data:`partlens.nn.FILTER_LOSS_VARIANTS`),
    ``batch_norm`` (BN in the added layer; default True for ``tiny``, False for pretrained
    architectures), ``identity_init`` (default: not ``batch_norm``), ``beta``, ``norm``
    ("l1" | "l2"), ``activation_peak`` (the loss's activation scale, see
    :class:`partlens.nn.FilterObjective`; None: raw activations), ``input_size`` (default input
    side), and the architecture's own options (``width`` for ``tiny``: top-layer filters).
    """
    architecture = ARCHITECTURES.get(arch)
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {num_classes}")
    unknown = sorted(set(options) - _HEAD_OPTIONS - set(architecture.options))
    if unknown:
        raise ValueError(f"unknown option(s) for {arch}: {unknown}")
    builder_options = {k: v for k, v in options.items() if k in architecture.options}
    # A PartModel-layout file loads into the built model; a torchvision one at build time, by
    # the torchvision keys, before the network is split.
    # Read once: a PartModel-layout state is loaded from this copy, not from the file again.
    state = read_state_dict(weights) if weights is not None else None
    partlens_state = state if state is not None and is_partlens_layout(state) else None
    build_weights = Path(weights) if weights and partlens_state is None else None
    split = architecture.build(num_classes, build_weights, **builder_options)
    batch_norm = bool(options.get("batch_norm", not split.pretrained_family))
    config = PartModelConfig(
        arch=arch,
        interpretable=interpretable,
        num_classes=num_classes,
        input_size=int(options.get("input_size", architecture.input_size)),
        filter_loss=options.get("filter_loss", DEFAULT_FILTER_LOSS),
        batch_norm=batch_norm,
        identity_init=bool(options.get("identity_init", not batch_norm)),
        beta=float(options.get("beta", 4.0)),
        norm=options.get("norm", "l1"),
        activation_peak=options.get("activation_peak", DEFAULT_ACTIVATION_PEAK),
        builder_options=builder_options,
    )
    head = InterpretableHead(
        split.top_block,
        split.top_conv_path,
        split.channels,
        interpretable=interpretable,
        batch_norm=config.batch_norm,
        identity_init=config.identity_init,
        mask_options={"beta": config.beta, "norm": config.norm},
    )
    model = PartModel(config, split.backbone, head, split.classifier)
    if partlens_state is not None:
        load_partlens_weights(model, partlens_state, source=str(weights))
    return model
