"""A run: its configuration, its lifecycle (the pipeline) and the paper's reproduction."""

from partlens.runs.config import DatasetSpec, RunConfig

__all__ = ["DatasetSpec", "RunConfig"]
