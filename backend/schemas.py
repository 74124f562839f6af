"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from partlens.assets import NAME_PATTERN

# GET /runs/{id}/metrics serves a run's metrics.json as the library's contract (re-exported).
from partlens.evaluation.schema import LayerMetrics as LayerMetrics
from partlens.evaluation.schema import RunMetrics as RunMetrics
from partlens.runs.config import RunConfig
from partlens.runs.history import HistoryPoint


def _aware(value: datetime | None) -> datetime | None:
    # The DB stores UTC; SQLite hands it back naive, and RFC 3339 date-times need an offset.
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


UtcDatetime = Annotated[datetime, AfterValidator(_aware)]
# (row, col) or (x, y): a list of two in the JSON schema (a tuple's prefixItems trips OpenAPI
# tooling), validated to exactly two.
IntPair = Annotated[list[int], Field(min_length=2, max_length=2)]
FloatPair = Annotated[list[float], Field(min_length=2, max_length=2)]


class ErrorMessage(BaseModel):
    """An error body: a message, or FastAPI's list of field errors (422)."""

    detail: str | list[dict[str, Any]] = Field(
        description="What is wrong; a 422 may name the field (loc) of each problem."
    )


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


class RunSummary(BaseModel):
    """A run's headline numbers once evaluated: test accuracy and its top interpretable
    layer's means (the runs table's columns)."""

    layer: str = Field(description="The top interpretable layer the means are of.")
    test_accuracy: float | None = Field(description="Test accuracy in [0, 1].")
    location_instability: float | None = Field(description="mean_f mean_k D_fk (lower: better).")
    part_interpretability: float | None = Field(
        description="mean_f P_f (higher: better); null on datasets without part masks."
    )


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
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None
    queue: str = Field(description="The queue the run was sent to.")
    worker_id: str | None = Field(description="The worker holding (or last holding) its lease.")
    lease_expires_at: UtcDatetime | None
    attempts: int = Field(description="How many times a worker started it (>1: resumed).")
    train_s: float | None = Field(description="Seconds spent training (the last attempt).")
    evaluate_s: float | None = Field(description="Seconds spent precomputing and evaluating.")
    summary: RunSummary | None = Field(
        default=None, description="Accuracy and the two metrics once evaluated, else null."
    )
    eta_s: float | None = Field(
        default=None,
        description="Estimated seconds of training left (running runs with progress), else null.",
    )


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
    """One filter's map x on one image: values, argmax unit mu_hat, the filter's global max,
    the mask T_mu_hat and the masked map relu(x * T_mu_hat) (the paper's Fig. 4)."""

    run_id: str
    layer: str
    filter: int
    image: int
    map: list[list[float]]
    argmax: IntPair
    max: float
    filter_max: float
    mask: list[list[float]] = Field(description="T_mu_hat, the template at the argmax, -1..1.")
    masked: list[list[float]] = Field(description="relu(x * T_mu_hat), the masked map.")


class FilterSummary(BaseModel):
    """One filter of a layer, from the statistics published with its maps."""

    filter: int
    top_image: int = Field(description="The image the filter peaks on (first one on ties).")
    peak: float = Field(description="Max of x over all evaluation images and units.")
    argmax: IntPair = Field(description="(row, col) of the peak in that image's map.")
    mean: float = Field(description="Mean activation over images and units.")
    mean_max: float = Field(description="Mean over images of the per-image max.")
    target_category: str | None = Field(
        default=None, description="c_hat: the category the filter serves (once evaluated)."
    )
    part_score: float | None = Field(
        default=None, description="P_f = max_k P_fk, its part interpretability (evaluated)."
    )
    best_part: str | None = Field(
        default=None, description="argmax_k P_fk; None where P_f is 0 or undefined."
    )
    instability: float | None = Field(
        default=None, description="D_f = mean_k D_fk, its location instability (evaluated)."
    )


class TopImages(BaseModel):
    """The images a filter fires most on, by per-image max (ties in dataset order)."""

    images: list[int]
    peaks: list[float] = Field(description="Per-image max of x, descending.")
    argmax: list[IntPair] = Field(description="(row, col) of each image's max.")
    positions: list[FloatPair] | None = Field(
        default=None,
        description="p(mu_hat), the inferred part: (x, y) in image pixels of the unit at each "
        "image's max; None until the run is evaluated (the RF geometry comes with it).",
    )


class PositionPoint(BaseModel):
    """p(mu_hat) of a filter on one evaluation image, in the frame of that image's object box."""

    image: int = Field(description="The evaluation image.")
    x: float = Field(description="0: the box's left edge, 1: its right edge (beyond: outside).")
    y: float = Field(description="0: the box's top edge, 1: its bottom edge (beyond: outside).")
    score: float = Field(description="The filter's max of x on that image.")


class LandmarkPosition(BaseModel):
    """A landmark's mean position over the images of a filter's points, in the box frame."""

    name: str
    x: float
    y: float


class FilterPositionsPublic(BaseModel):
    """Where a filter places its part, image by image, next to the annotated landmarks."""

    frame: str = Field(description="The coordinate frame of every x and y.")
    points: list[PositionPoint] = Field(
        description="One per evaluation image the filter fires on (max of x > 0; multi-category "
        "runs: images of its target category c_hat) that has an object box, by image."
    )
    landmarks: list[LandmarkPosition] = Field(
        description="Each landmark's mean position over the images of points (landmarks "
        "absent from all of them are left out)."
    )


class ContactSheet(BaseModel):
    """The tiles of a layer's contact sheet (``sheet.png``) and its geometry: the tile at pixel
    (x, y) shows ``filters[(y // tile) * columns + x // tile]``."""

    filters: list[int] = Field(description="Filter of each tile, in row-major order.")
    columns: int = Field(description="Tiles per row; the sheet is columns * tile wide.")
    tile: int = Field(description="Tile side in pixels.")
    rows: int = Field(description="Rows of tiles; the sheet is rows * tile high.")
    total: int = Field(description="Filters in the layer.")
    offset: int = Field(description="Position of the first tile's filter in the full order.")


class HeatmapIndex(BaseModel):
    """The categories with a Fig. 6 heat map (of the run's top interpretable layer)."""

    run_id: str
    layer: str = Field(description="The layer whose inferred part positions are mapped.")
    categories: list[str]


class HeatmapArrays(BaseModel):
    """One Fig. 6 heat map as numbers: where the layer's filters place parts in the object box."""

    category: str
    grid: int = Field(description="Raster side G: heat is G x G.")
    heat: list[list[float]] = Field(description="Density of p(mu_hat), [G][G], row = y.")
    points: int = Field(description="Inferred positions counted.")
    images: int = Field(description="Images they come from.")


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


class SampleLandmark(BaseModel):
    """A visible landmark of a dataset sample, in pixels of its image."""

    name: str
    x: float
    y: float


class DatasetSampleItem(BaseModel):
    """One sample of a dataset split: its category, box, parts with a mask, landmarks."""

    index: int
    category: str
    bbox: Annotated[list[float], Field(min_length=4, max_length=4)] | None = Field(
        description="(x0, y0, x1, y1) in pixels of the sample's image; None when unknown."
    )
    parts: list[str] = Field(description="Parts with a non-empty mask in this image.")
    landmarks: list[SampleLandmark]


class DatasetSamples(BaseModel):
    """A page of a dataset split's samples (``samples/{index}.png`` draws each one)."""

    total: int = Field(description="Samples in the split.")
    items: list[DatasetSampleItem]


class ProbeLayer(BaseModel):
    """An interpretable layer of a probe."""

    name: str
    filters: int


class ProbePublic(BaseModel):
    """A probe: a run's model applied to an uploaded image (``POST /runs/{id}/probes``)."""

    id: str
    run_id: str
    image_size: int = Field(description="Side of the model's input crop in pixels.")
    layers: list[ProbeLayer]


class ProbeFilter(BaseModel):
    """One filter's response to the probe image."""

    filter: int
    peak: float = Field(description="Max of x over the map.")
    mean: float = Field(description="Mean of x over the map.")
    position: FloatPair = Field(
        description="p(mu_hat): (x, y) in pixels of the probe image of the top unit's RF centre."
    )


class ProbeActivation(BaseModel):
    """One filter's map x on the probe image, its argmax mu_hat, the mask T_mu_hat and the
    masked map relu(x * T_mu_hat); ``filter_max`` is the heat scale (the run's max)."""

    probe_id: str
    run_id: str
    layer: str
    filter: int
    image: int = Field(description="Always 0: a probe has one image.")
    map: list[list[float]]
    argmax: IntPair
    max: float
    filter_max: float
    mask: list[list[float]] = Field(description="T_mu_hat, in -1..1.")
    masked: list[list[float]] = Field(description="relu(x * T_mu_hat).")
