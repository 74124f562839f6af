"""Training: the interpretable / ordinary training loop and backbone pretraining."""

from partlens.training.config import TrainConfig, resolve_device
from partlens.training.loop import train
from partlens.training.progress import TrainCallback, TrainProgress, TrainResult
from partlens.training.step import StepValues, TrainingDiverged, train_step

__all__ = [
    "StepValues",
    "TrainCallback",
    "TrainConfig",
    "TrainProgress",
    "TrainResult",
    "TrainingDiverged",
    "resolve_device",
    "train",
    "train_step",
]
