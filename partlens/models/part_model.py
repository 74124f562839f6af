"""PartModel: a backbone, the interpretable head and a classifier, with the filter objective.

The contract (docs/interfaces.md) is ``forward``, ``forward_features``, ``layer_convs``,
``layer_names``, ``feature_shape`` and ``input_size``; ``forward_train`` and ``filter_losses``
are what the training loop uses.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from partlens.nn import (
    DEFAULT_ACTIVATION_PEAK,
    DEFAULT_FILTER_LOSS,
    FILTER_LOSSES,
    LAYER_NAMES,
    FilterObjective,
    InterpretableHead,
)


class PartModel(nn.Module):
    """A CNN whose top conv layer and an added 3x3 layer carry part masks and the filter loss.

    ``interpretable=False`` gives the ordinary twin: the same layers without mask or loss.
    """

    def __init__(
        self,
        arch: str,
        backbone: nn.Module,
        head: InterpretableHead,
        classifier: nn.Module,
        *,
        input_size: int,
        interpretable: bool,
        num_classes: int,
        filter_loss: str = DEFAULT_FILTER_LOSS,
        options: dict | None = None,
    ) -> None:
        super().__init__()
        if filter_loss not in FILTER_LOSSES:
            raise ValueError(f"filter_loss must be one of {FILTER_LOSSES}, got {filter_loss!r}")
        self.arch = arch
        self.input_size = input_size
        self.interpretable = interpretable
        self.num_classes = num_classes
        # Everything build_model needs to rebuild this model (JSON-serialisable).
        self.options = dict(options or {})
        self.backbone = backbone
        self.head = head
        self.classifier = classifier
        self.objectives = nn.ModuleDict(
            {
                name: FilterObjective(
                    head.channels,
                    num_classes,
                    beta=float(self.options.get("beta", 4.0)),
                    norm=self.options.get("norm", "l1"),
                    activation_peak=self.options.get("activation_peak", DEFAULT_ACTIVATION_PEAK),
                )
                for name in LAYER_NAMES
            }
            if interpretable
            else {}
        )
        self.configure_filter_loss(filter_loss)
        self._shape_cache: dict[int, dict[str, tuple[int, int, int]]] = {}

    @property
    def layer_names(self) -> list[str]:
        """The interpretable layers, bottom to top."""
        return list(LAYER_NAMES)

    @property
    def filter_loss(self) -> str:
        """The filter-loss variant this model trains with (see :mod:`partlens.nn.objective`)."""
        return self.options["filter_loss"]

    def configure_filter_loss(self, variant: str) -> None:
        """Selects the loss variant; ``"official"`` also switches the masks to centroid mu."""
        if variant not in FILTER_LOSSES:
            raise ValueError(f"filter_loss must be one of {FILTER_LOSSES}, got {variant!r}")
        self.options["filter_loss"] = variant
        official = variant == "official"
        for objective in self.objectives.values():
            objective.variant = variant
            objective.position = "centroid" if official else "argmax"
        for layer in self.head.layers.values():
            if layer.mask is not None:
                layer.mask.official = official
                layer.mask.position = "centroid" if official else "argmax"

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

    def forward_train(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """Logits and each layer's *unmasked* post-ReLU map x (what Loss_f is computed on)."""
        top, _, unmasked = self._run(x)
        return self.classifier(top), unmasked

    def filter_losses(self, unmasked: dict[str, Tensor], labels: Tensor) -> dict[str, Tensor]:
        """``Loss_f`` per filter ``[F]`` for every interpretable layer (empty for the twin)."""
        return {name: self.objectives[name](unmasked[name], labels) for name in self.objectives}

    def mean_max_activation(self) -> Tensor:
        """Running ``mean_x max_ij x_ij`` over the interpretable layers (for lambda), a scalar
        tensor on the model's device (no host sync)."""
        if not self.objectives:
            return torch.zeros(())
        values = [objective.mean_max for objective in self.objectives.values()]
        return torch.stack(values).mean()

    def layer_convs(self) -> dict[str, nn.Conv2d]:
        """The conv module of each interpretable layer."""
        return {name: layer.conv for name, layer in self.head.layers.items()}

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
        return {name: tuple(out.shape[1:]) for name, out in outputs.items()}
