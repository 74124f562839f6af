"""A trained run's evaluation: feature-map precompute, annotations, and its metrics."""

from partlens.evaluation.features import precompute_features
from partlens.evaluation.run import evaluate_run

__all__ = ["evaluate_run", "precompute_features"]
