"""PartModel: a backbone, the interpretable head and a classifier, with the filter objective.

The contract (docs/interfaces.md) is ``forward``, ``forward_features``, ``layer_convs``,
``layer_names``, ``feature_shape`` and ``input_size``; ``forward_train`` and ``filter_losses``
are what the training loop uses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import torch
from torch import Tensor, nn

from partlens.nn import (
    DEFAULT_ACTIVATION_PEAK,
    DEFAULT_FILTER_LOSS,
    LAYER_NAMES,
    FilterObjective,
    InterpretableHead,
    PartMask,
    filter_loss_variant,
    layer_filter_losses,
)


@dataclass(frozen=True)
class PartModelConfig:
    """Everything :func:`partlens.models.build_model` needs to rebuild a model.

    builder_options: the architecture builder's own options (``width`` for ``tiny``).
    """

    arch: str
    interpretable: bool
    num_classes: int
    input_size: int
    filter_loss: str = DEFAULT_FILTER_LOSS
    batch_norm: bool = True
    identity_init: bool = False
    beta: float = 4.0
    norm: str = "l1"
    activation_peak: float | None = DEFAULT_ACTIVATION_PEAK
    builder_options: dict[str, Any] = field(default_factory=dict)

    def build_options(self) -> dict[str, Any]:
        """The keyword options of ``build_model`` that rebuild this model (JSON-serialisable)."""
        options = asdict(self)
        for key in ("arch", "interpretable", "num_classes", "builder_options"):
            options.pop(key)
        return {**options, **self.builder_options}


class PartModel(nn.Module):
    """A CNN whose top conv layer and an added 3x3 layer carry part masks and the filter loss.

    ``interpretable=False`` gives the ordinary twin: the same layers without mask or loss.
    """

    def __init__(
        self,
        config: PartModelConfig,
        backbone: nn.Module,
        head: InterpretableHead,
        classifier: nn.Module,
    ) -> None:
        super().__init__()
        filter_loss_variant(config.filter_loss)
        self.config = config
        self.backbone = backbone
        self.head = head
        self.classifier = classifier
        self.objectives = nn.ModuleDict(
            {
                name: FilterObjective(
                    head.channels,
                    config.num_classes,
                    variant=config.filter_loss,
                    beta=config.beta,
                    norm=config.norm,
                    activation_peak=config.activation_peak,
                )
                for name in LAYER_NAMES
            }
            if config.interpretable
            else {}
        )
        self.configure_filter_loss(config.filter_loss)
        self._shape_cache: dict[int, dict[str, tuple[int, int, int]]] = {}

    @property
    def arch(self) -> str:
        """The registered architecture name."""
        return self.config.arch

    @property
    def input_size(self) -> int:
        """The default input side in pixels."""
        return self.config.input_size

    @property
    def interpretable(self) -> bool:
        """False for the ordinary twin (no masks, no filter loss)."""
        return self.config.interpretable

    @property
    def num_classes(self) -> int:
        """Logits: 1 for single-category models, one per category otherwise."""
        return self.config.num_classes

    @property
    def options(self) -> dict[str, Any]:
        """The ``build_model`` options that rebuild this model (stored in checkpoints)."""
        return self.config.build_options()

    @property
    def layer_names(self) -> list[str]:
        """The interpretable layers, bottom to top."""
        return list(LAYER_NAMES)

    @property
    def filter_loss(self) -> str:
        """The filter-loss variant this model trains with (see :mod:`partlens.nn.variants`)."""
        return self.config.filter_loss

    def configure_filter_loss(self, variant: str) -> None:
        """Selects the loss variant; its mu rule and beta handling also set the masks'."""
        spec = filter_loss_variant(variant)
        self.config = replace(self.config, filter_loss=variant)
        for objective in self._objectives():
            objective.configure(spec)
        for layer in self.head.layers.values():
            mask = getattr(layer, "mask", None)
            if isinstance(mask, PartMask):
                mask.adaptive_beta = spec.adaptive_beta
                mask.position = spec.mu_rule

    def _named_objectives(self) -> dict[str, FilterObjective]:
        return {n: o for n, o in self.objectives.items() if isinstance(o, FilterObjective)}

    def _objectives(self) -> list[FilterObjective]:
        return [o for o in self.objectives.values() if isinstance(o, FilterObjective)]

    def _run(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor], dict[str, Tensor]]:
        top, outputs, unmasked = self.head(self.backbone(x))
        return top, outputs, unmasked

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``[B, num_classes]`` for images ``[B, 3, H, W]``."""
        top, _, _ = self._run(x)
        return self.classifier(top)

    def forward_features(self, x: Tensor) -> dict[str, Tensor]:
        """Each interpretable layer's output ``[B, F, h, w]`` after ReLU and (if any) mask."""
        _, outputs, _ = self._run(x)
        return outputs

    def forward_with_features(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """Logits and :meth:`forward_features` from one pass (what precompute stores)."""
        top, outputs, _ = self._run(x)
        return self.classifier(top), outputs

    def forward_train(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """Logits and each layer's *unmasked* post-ReLU map x (what Loss_f is computed on)."""
        top, _, unmasked = self._run(x)
        return self.classifier(top), unmasked

    def filter_losses(self, unmasked: dict[str, Tensor], labels: Tensor) -> dict[str, Tensor]:
        """``Loss_f`` per filter ``[F]`` for every interpretable layer (empty for the twin);
        layers of one map size are scored together (:func:`partlens.nn.layer_filter_losses`)."""
        return layer_filter_losses(self._named_objectives(), unmasked, labels)

    def mean_max_activation(self) -> Tensor:
        """Running ``mean_x max_ij x_ij`` over the interpretable layers (for lambda), a scalar
        tensor on the model's device (no host sync)."""
        if not self.objectives:
            return torch.zeros(())
        values = [objective.mean_max for objective in self._objectives()]
        return torch.stack(values).mean()

    def layer_convs(self) -> dict[str, nn.Conv2d]:
        """The conv module of each interpretable layer."""
        return {name: layer.conv for name, layer in self.head.layers.items()}  # type: ignore[misc]

    def feature_shape(self, name: str, input_size: int | None = None) -> tuple[int, int, int]:
        """``(F, h, w)`` of layer ``name`` for a square input of ``input_size`` pixels."""
        if name not in LAYER_NAMES:
            raise ValueError(f"unknown layer {name!r}; layers are {list(LAYER_NAMES)}")
        size = self.input_size if input_size is None else int(input_size)
        if size not in self._shape_cache:
            self._shape_cache[size] = self._measure_shapes(size)
        return self._shape_cache[size][name]

    @torch.no_grad()
    def _measure_shapes(self, size: int) -> dict[str, tuple[int, int, int]]:
        # One dummy forward in eval mode, so that no running statistic is touched.
        was_training = self.training
        self.eval()
        try:
            parameter = next(self.parameters())
            probe = torch.zeros(1, 3, size, size, device=parameter.device, dtype=parameter.dtype)
            outputs = self.forward_features(probe)
        except RuntimeError as error:
            raise ValueError(f"{self.arch} cannot run at input size {size}: {error}") from error
        finally:
            self.train(was_training)
        return {name: (out.shape[1], out.shape[2], out.shape[3]) for name, out in outputs.items()}
