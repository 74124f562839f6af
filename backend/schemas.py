"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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
