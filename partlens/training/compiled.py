"""``TrainConfig.compile``: the training forward pass and the filter loss under ``torch.compile``.

:class:`CompiledModel` stands in for a :class:`partlens.models.PartModel` in
:func:`partlens.training.step.train_step`: its ``forward_train`` (backbone, head and part masks)
and ``filter_losses`` (both layers' ``Loss_f``: statistics, mu_hat, template scores and the
closed-form gradient) are each compiled as one graph, which fuses the many small elementwise
passes. ``fullgraph=True`` makes every failure (no C++ compiler, an operation dynamo cannot
trace, too many recompilations) surface at a call before anything of it ran, so the eager
function then takes over for the rest of the run without repeating or skipping an update of a
running statistic. Measurements (CPU, ``tiny``: a step about 10 % faster, 5-60 s to compile)
are in docs/filter-loss.md.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor

from partlens.models import PartModel

__all__ = ["RECOMPILE_LIMIT", "CompiledModel", "CompiledOrEager", "inductor_available"]

# Each configuration (variant, classes, map size, batch size) compiles its own graph of the same
# code; a process that trains many (reproduce, the tests) needs more than dynamo's default of 8.
RECOMPILE_LIMIT = 64


class CompiledOrEager:
    """``function`` compiled on first use; ``function`` itself for the rest of the run (with a
    ``RuntimeWarning``) once compiling fails or when ``torch.compile`` is unavailable."""

    def __init__(self, function: Callable[..., Any], what: str, *, backend: Any = "inductor"):
        self.function, self.what = function, what
        self.error: str | None = None
        self._compiled: Callable[..., Any] | None = None
        try:
            self._compiled = torch.compile(function, fullgraph=True, backend=backend)
        except RuntimeError as error:  # a platform torch.compile does not support
            self._fall_back(error)

    @property
    def compiled(self) -> bool:
        """False once the run fell back to the eager function."""
        return self._compiled is not None

    def _fall_back(self, error: Exception) -> None:
        self._compiled = None
        # dynamo wraps a backend's failure (e.g. no C++ compiler): report the original one.
        cause = getattr(error, "inner_exception", None) or error.__cause__ or error
        lines = str(cause).strip().splitlines() or [""]
        self.error = f"{type(cause).__name__}: {lines[0]}"
        warnings.warn(
            f"torch.compile of {self.what} failed, training continues eagerly ({self.error})",
            RuntimeWarning,
            stacklevel=4,
        )

    def __call__(self, *args: Any) -> Any:
        """``function(*args)``, compiled when it can be."""
        if self._compiled is not None:
            # Imported here: torch._dynamo takes a second to import; only compiled runs need it.
            from torch._dynamo.exc import FailOnRecompileLimitHit, TorchDynamoException

            try:
                with torch._dynamo.config.patch(recompile_limit=RECOMPILE_LIMIT):
                    return self._compiled(*args)
            except (TorchDynamoException, FailOnRecompileLimitHit) as error:
                self._fall_back(error)
        return self.function(*args)


class CompiledModel:
    """The two functions of a model that a training step calls, each compiled or eager."""

    def __init__(self, model: PartModel, *, backend: Any = "inductor") -> None:
        self.model = model
        self.forward_pass = CompiledOrEager(
            model.forward_train, "the training forward pass", backend=backend
        )
        self.loss = CompiledOrEager(model.filter_losses, "the filter loss", backend=backend)

    def forward_train(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """As :meth:`partlens.models.PartModel.forward_train`."""
        logits, unmasked = self.forward_pass(x)
        return logits, unmasked

    def filter_losses(self, unmasked: Mapping[str, Tensor], labels: Tensor) -> dict[str, Tensor]:
        """As :meth:`partlens.models.PartModel.filter_losses`."""
        losses: dict[str, Tensor] = self.loss(dict(unmasked), labels)
        return losses


def inductor_available() -> bool:
    """True when ``torch.compile``'s default backend compiles and runs a small function here
    (it needs a C++ compiler on CPU)."""
    try:
        probe = torch.compile(lambda x: (x * 2.0).exp().sum(), fullgraph=True)
        return bool(torch.isfinite(probe(torch.ones(3))))
    except RuntimeError:  # TorchDynamoException (compiler errors included) is one
        return False
