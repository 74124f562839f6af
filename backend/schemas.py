"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# GET /runs/{id}/metrics serves a run's metrics.json as the library's contract (re-exported).
from partlens.evaluation.schema import LayerMetrics as LayerMetrics
from partlens.evaluation.schema import RunMetrics as RunMetrics
from partlens.runs.config import RunConfig


class RunCreate(RunConfig):
    """A run to launch; ``with_twin`` also launches its ordinary (or interpretable) twin."""

    name: str = Field(default="", max_length=200)
    with_twin: bool = False


class RunPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    config: dict[str, Any]
    twin_id: str | None
    status: str
    stage: str
    progress: float
    epoch: int
    step: int
    steps_total: int
    task_loss: float | None
    filter_loss: float | None
    accuracy: float | None
    images_per_s: float | None
    error: str | None
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RunsCreated(BaseModel):
    """The launched run first, then its twin when one was asked for."""

    runs: list[RunPublic]


class LayerPublic(BaseModel):
    name: str
    filters: int
    height: int
    width: int


class FeaturesPublic(BaseModel):
    run_id: str
    num_images: int
    image_size: int
    categories: list[str]
    layers: list[LayerPublic]


class FilterActivation(BaseModel):
    """One filter's map on one image: values, argmax unit (mu_hat) and the filter's global max."""

    run_id: str
    layer: str
    filter: int
    image: int
    map: list[list[float]]
    argmax: tuple[int, int]
    max: float
    filter_max: float


class LayerSummary(BaseModel):
    """Headline figures of one layer: mean_f mean_k D_fk with its references, and mean_f P_f."""

    location_instability: float | None = Field(description="mean_f mean_k D_fk (lower: better).")
    part_interpretability: float | None = Field(description="mean_f P_f (higher: better).")
    random_reference: float | None = Field(description="Instability of random positions.")
    oracle_reference: float | None = Field(description="Instability of a part-locked oracle.")


class ComparisonSide(BaseModel):
    """One twin of a comparison: its run and headline figures per layer."""

    run_id: str
    name: str
    accuracy: float | None
    top_layer: str
    layers: dict[str, LayerSummary]


class Comparison(BaseModel):
    """A run next to its twin, with interpretable / ordinary ratios per layer and metric."""

    interpretable: ComparisonSide
    ordinary: ComparisonSide
    ratios: dict[str, dict[str, float | None]] = Field(
        description="{layer: {metric: interpretable / ordinary}}; None where undefined."
    )
    accuracy_difference_points: float | None = Field(
        description="100 x (interpretable - ordinary accuracy)."
    )
    directions: dict[str, str] = Field(description='{metric: "lower/higher is better"}.')
