"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from partlens.assets import NAME_PATTERN

# GET /runs/{id}/metrics serves a run's metrics.json as the library's contract (re-exported).
from partlens.evaluation.schema import LayerMetrics as LayerMetrics
from partlens.evaluation.schema import RunMetrics as RunMetrics
from partlens.runs.config import RunConfig
from partlens.runs.history import HistoryPoint


class RunCreate(RunConfig):
    """A run to launch; ``with_twin`` also launches its ordinary (or interpretable) twin."""

    name: str = Field(default="", max_length=200)
    with_twin: bool = False
    preset: str | None = Field(
        default=None, description="A preset (GET /presets) whose values the given fields override."
    )
    queue: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="The worker queue to send it to (e.g. gpu or cpu); default: the server's.",
    )

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        # On the raw body, so that a field the client sent wins and a preset's value beats a
        # default that validation would fill in (an architecture's input size, say).
        if isinstance(data, dict) and data.get("preset") is not None:
            from partlens.runs.presets import apply_preset

            given = {key: value for key, value in data.items() if key != "preset"}
            return {**apply_preset(data["preset"], given), "preset": data["preset"]}
        return data


class Health(BaseModel):
    """What the API depends on, and whether it answers."""

    status: Literal["ok", "degraded"]
    database: str = Field(description="ok, or why the database does not answer.")
    broker: str = Field(description="The broker's scheme: redis, or sqla+sqlite (fallback).")
    workers: dict[str, list[str]] | None = Field(
        default=None,
        description="Live workers and their queues (with ?workers=true; None when unknown).",
    )


class RunPresetPublic(BaseModel):
    """A named starting point for a run (``preset`` in ``RunCreate``)."""

    name: str
    description: str
    values: dict[str, Any]


class DatasetCreate(BaseModel):
    """A dataset folder to register."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, description="How runs will name it.")
    format: Literal["pascal-part", "cub200", "ilsvrc-part"]
    root: str = Field(min_length=1, max_length=4096, description="The folder on the server.")


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
    queue: str = Field(description="The queue the run was sent to.")
    worker_id: str | None = Field(description="The worker holding (or last holding) its lease.")
    lease_expires_at: datetime | None
    attempts: int = Field(description="How many times a worker started it (>1: resumed).")
    train_s: float | None = Field(description="Seconds spent training (the last attempt).")
    evaluate_s: float | None = Field(description="Seconds spent precomputing and evaluating.")


class RunHistory(BaseModel):
    """The training curves of a run, as its worker recorded them."""

    run_id: str
    points: list[HistoryPoint]


class RunLog(BaseModel):
    """The tail of a run's own log file."""

    run_id: str
    text: str


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
    image_size: int | None = Field(description="Input side in pixels (None: not recorded).")
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


class FilterSummary(BaseModel):
    """One filter of a layer, from the statistics published with its maps."""

    filter: int
    top_image: int = Field(description="The image the filter peaks on (first one on ties).")
    peak: float = Field(description="Max of x over all evaluation images and units.")
    argmax: tuple[int, int] = Field(description="(row, col) of the peak in that image's map.")
    mean: float = Field(description="Mean activation over images and units.")
    mean_max: float = Field(description="Mean over images of the per-image max.")


class TopImages(BaseModel):
    """The images a filter fires most on, by per-image max (ties in dataset order)."""

    images: list[int]
    peaks: list[float] = Field(description="Per-image max of x, descending.")
    argmax: list[tuple[int, int]] = Field(description="(row, col) of each image's max.")


class ContactSheet(BaseModel):
    """The tiles of a layer's contact sheet (``sheet.png``) and its geometry: the tile at pixel
    (x, y) shows ``filters[(y // tile) * columns + x // tile]``."""

    filters: list[int] = Field(description="Filter of each tile, in row-major order.")
    columns: int = Field(description="Tiles per row; the sheet is columns * tile wide.")
    tile: int = Field(description="Tile side in pixels.")
    rows: int = Field(description="Rows of tiles; the sheet is rows * tile high.")
    total: int = Field(description="Filters in the layer.")
    offset: int = Field(description="Position of the first tile's filter in the full order.")


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
