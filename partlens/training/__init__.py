"""Training: the interpretable / ordinary training loop and backbone pretraining."""

from partlens.training.loop import (
    TrainCallback,
    TrainConfig,
    TrainProgress,
    TrainResult,
    resolve_device,
    train,
    train_step,
)

__all__ = [
    "TrainCallback",
    "TrainConfig",
    "TrainProgress",
    "TrainResult",
    "resolve_device",
    "train",
    "train_step",
]
