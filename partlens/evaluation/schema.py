"""The typed contract of a run's ``metrics.json`` (paper Sec. 5.2), written by
:func:`partlens.evaluation.run.evaluate_run` and read by the tables, the twin comparison, the API
and (through the API) the UI.

Symbols: T_f, the activation threshold of filter f; p(mu), a unit's receptive-field (RF) centre;
p(mu_hat), the inferred part position of a filter (its top unit's RF centre); D_fk, the
location deviation of filter f from landmark k; P_f = max_k P_fk, the part interpretability of
f. Floats the metrics leave undefined (no evaluable image, part or filter) are ``None`` (JSON
has no NaN). Fields that only multi-category runs have are omitted for single-category runs.
Datasets that annotate landmarks but no part masks (CUB-200, ILSVRC Animal-Part) have no part
interpretability: each layer's ``part_interpretability`` is None and
``RunMetrics.part_interpretability_absent`` says why.

A file of another ``schema_version``, or one that does not validate, is stale:
:func:`load_run_metrics` raises :class:`StaleMetricsError` and the run must be re-evaluated.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)

from partlens.metrics.part_interpretability import best_part_diversity

SCHEMA_VERSION: Final = 1  # the Literal of RunMetrics.schema_version; bump both together


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


# A float the metric may leave undefined: NaN and infinities become None on construction.
MaybeFloat = Annotated[float | None, AfterValidator(_finite_or_none)]


class _Contract(BaseModel):
    """Strict base: unknown (e.g. renamed) fields are errors; the fields listed in
    ``_omit_if_none`` are left out of the JSON when None (they exist for some tasks only)."""

    model_config = ConfigDict(extra="forbid")
    _omit_if_none: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler):
        # No return annotation on purpose: pydantic then keeps each model's own JSON schema.
        data = handler(self)
        for name in self._omit_if_none:
            if data.get(name) is None:
                data.pop(name, None)
        return data


class EvaluationSettings(_Contract):
    """The protocol the metrics were computed with (constants of evaluate_run)."""

    images: Literal["positives of the category", "all test images"] = Field(
        description="Images evaluated: the category's positives (single) or all test images."
    )
    quantile: float = Field(description="p(x_ij > T_f): share of activations above T_f.")
    iou_threshold: float = Field(description="IoU above which S_f counts as matching a part.")
    top_k: int = Field(description="Images with the highest top-unit score used for D_fk.")
    rf_mass: float = Field(description="Input-gradient mass inside the effective RF radius.")


class LayerGeometry(_Contract):
    """Receptive-field geometry of one layer's units and the thresholds T_f used."""

    unit_centers: list[list[tuple[float, float]]] = Field(
        description="p(mu) of every unit, [h][w] of (x, y) in input pixels."
    )
    rf_size: int = Field(description="Theoretical RF side in pixels (the larger one).")
    rf_jump: float = Field(description="Distance in pixels between neighbouring units' p(mu).")
    rf_radius: float = Field(
        description="Measured effective RF radius (pixels), the radius of the disks of S_f."
    )
    rf_radius_source: str = Field(
        default="effective",
        description='How rf_radius was measured: "effective" (on the evaluation images), '
        '"effective on noise" (the layer was silent on them) or "theoretical" (no gradient '
        "reaches it: half the theoretical RF).",
    )
    thresholds: list[MaybeFloat] = Field(
        description="T_f per filter; None where a filter has no image of its category c_hat."
    )


class LocationInstabilityMetrics(_Contract):
    """Location instability mean_f mean_k D_fk (lower is better) with its references."""

    mean: MaybeFloat = Field(
        description="mean_f mean_k D_fk (multi: mean_f min_c mean_{k in Part_c} D_fk)."
    )
    per_filter: list[MaybeFloat] = Field(
        description="mean_k D_fk per filter; None for excluded filters."
    )
    excluded: int = Field(description="Filters without enough images to measure D_fk.")
    landmarks: list[str] = Field(description="Landmark names k.")
    random_reference: MaybeFloat = Field(
        description="The same figure for p(mu_hat) drawn at random unit centres (upper scale)."
    )
    oracle_reference: MaybeFloat = Field(
        description="The same figure for a part-locked oracle filter (lower scale)."
    )


class RadiusSensitivityPoint(_Contract):
    """mean_f P_f when the disks of S_f have another radius."""

    radius: float = Field(description="RF radius in pixels.")
    mean: MaybeFloat = Field(description="mean_f P_f at that radius.")
    source: str = Field(
        description='Where the radius comes from: "effective x<factor>" or "theoretical".'
    )


class PartInterpretabilityMetrics(_Contract):
    """Part interpretability mean_f P_f (higher is better) of the region S_f: the union of disks
    of ``rf_radius`` around p(mu) of the units above T_f."""

    mean: MaybeFloat = Field(description="mean_f P_f at the effective RF radius.")
    per_filter: list[MaybeFloat] = Field(
        description="P_f = max_k P_fk per filter; None when no image contains any part."
    )
    per_filter_part: list[list[MaybeFloat]] = Field(
        default_factory=list,
        description="P_fk, [F][K] in the order of parts; None where no image contains part k "
        "(empty in metrics.json written before it was stored).",
    )
    parts: list[str] = Field(description="Part names k.")
    best_part: list[str | None] = Field(
        description="argmax_k P_fk per filter; None where P_f is 0 or undefined."
    )
    best_part_histogram: dict[str, int] = Field(
        description='Filters whose best part is each part; "none" counts the unmatched ones.'
    )
    best_part_share: MaybeFloat = Field(
        default=None,
        description="Largest share of one part among the filters that match a part "
        "(1/K: spread evenly over the K parts, 1: all on one); None when none matches.",
    )
    best_part_entropy: MaybeFloat = Field(
        default=None,
        description='Entropy of the best-part histogram (without "none") over log K: 1 '
        "spread evenly, 0 all on one part; None when no filter matches or K = 1.",
    )
    rf_radius: float = Field(description="The RF radius used (the layer's effective radius).")
    radius_sensitivity: list[RadiusSensitivityPoint] = Field(
        description="mean_f P_f at other radii (multiples of the effective one, theoretical)."
    )
    oracle_reference: MaybeFloat = Field(
        description="mean_f P_f of oracle filters firing at the annotated parts (upper scale)."
    )

    @model_validator(mode="after")
    def _diversity_from_histogram(self) -> PartInterpretabilityMetrics:
        # metrics.json written before the diversity fields existed: derive them, so that older
        # runs report the same figures as new ones.
        if self.best_part_share is None and self.best_part_entropy is None:
            diversity = best_part_diversity(self.best_part_histogram)
            self.best_part_share = _finite_or_none(diversity.share)
            self.best_part_entropy = _finite_or_none(diversity.entropy)
        return self


class LayerMetrics(_Contract):
    """Every metric of one interpretable layer."""

    _omit_if_none: ClassVar[tuple[str, ...]] = ("target_category",)

    geometry: LayerGeometry = Field(description="RF geometry and T_f.")
    location_instability: LocationInstabilityMetrics = Field(
        description="mean_f mean_k D_fk and its references."
    )
    part_interpretability: PartInterpretabilityMetrics | None = Field(
        default=None,
        description="mean_f P_f, best parts, radius sensitivity and its reference; None when "
        "the dataset has no part masks (RunMetrics.part_interpretability_absent says why).",
    )
    target_category: list[str] | None = Field(
        default=None,
        description="c_hat per filter, from the evaluation maps (multi-category runs only).",
    )

    @model_validator(mode="after")
    def _same_filters(self) -> LayerMetrics:
        lengths = {
            "geometry.thresholds": len(self.geometry.thresholds),
            "location_instability.per_filter": len(self.location_instability.per_filter),
        }
        parts = self.part_interpretability
        if parts is not None:
            lengths["part_interpretability.per_filter"] = len(parts.per_filter)
            lengths["part_interpretability.best_part"] = len(parts.best_part)
            if parts.per_filter_part:
                lengths["part_interpretability.per_filter_part"] = len(parts.per_filter_part)
                widths = {len(row) for row in parts.per_filter_part}
                if widths != {len(parts.parts)}:
                    raise ValueError(
                        f"per_filter_part rows have {sorted(widths)} entries for "
                        f"{len(parts.parts)} parts"
                    )
        if self.target_category is not None:
            lengths["target_category"] = len(self.target_category)
        if len(set(lengths.values())) > 1:
            raise ValueError(f"per-filter lists disagree on the number of filters: {lengths}")
        return self

    @property
    def num_filters(self) -> int:
        return len(self.geometry.thresholds)


class RunMetrics(_Contract):
    """A run's ``metrics.json``: the paper's metrics (Sec. 5.2) for each interpretable layer."""

    _omit_if_none: ClassVar[tuple[str, ...]] = ("per_category_accuracy", "multi_loss")

    schema_version: Literal[1] = Field(description="Version of this contract (SCHEMA_VERSION).")
    run_id: str = Field(description="The run's id (its folder under runs/).")
    arch: str = Field(description="Architecture of the model.")
    interpretable: bool = Field(description="Interpretable model, or its ordinary twin.")
    task: Literal["single", "multi"] = Field(description="Single- or multi-category run.")
    categories: list[str] = Field(description="Class names, in label order.")
    category: str | None = Field(description="The category of a single-category run, else None.")
    num_images: int = Field(description="Evaluated images.")
    image_size: int = Field(description="Side of the evaluation images in pixels.")
    evaluation: EvaluationSettings = Field(description="The evaluation protocol.")
    top_layer: str = Field(description="The top interpretable layer (the paper's tables).")
    layers: dict[str, LayerMetrics] = Field(description="Metrics per interpretable layer.")
    heatmaps: dict[str, str] = Field(
        description="Fig. 6 heat map PNG per category, relative to the run folder."
    )
    heatmap_arrays: dict[str, str] = Field(
        description="Per category, an .npz (relative path) holding heat [G, G], "
        "mean_image [G, G, 3], points and images of the Fig. 6 heat map of the top layer."
    )
    annotation_arrays: str | None = Field(
        default=None,
        description="An .npz (relative path) of the evaluated images' ground truth: indices "
        "[N] (evaluation image of each row), categories [N], bboxes [N, 4] (x0, y0, x1, y1) "
        "and landmarks [N, K, 2] (x, y; NaN where absent) in image pixels, landmark_names "
        "[K]; None in metrics.json written before it was stored.",
    )
    part_interpretability_absent: str | None = Field(
        default=None,
        description="Why the layers have no part interpretability (the dataset annotates no "
        "part masks); None when they have it.",
    )
    accuracy: MaybeFloat = Field(description="Test accuracy in [0, 1].")
    per_category_accuracy: dict[str, MaybeFloat] | None = Field(
        default=None, description="Accuracy per true category (multi-category runs only)."
    )
    multi_loss: str | None = Field(
        default=None, description="Multi-category loss of the run (multi-category runs only)."
    )

    @model_validator(mode="after")
    def _top_layer_present(self) -> RunMetrics:
        if self.top_layer not in self.layers:
            raise ValueError(f"top_layer {self.top_layer!r} is not one of {list(self.layers)}")
        return self

    @model_validator(mode="after")
    def _absence_explained(self) -> RunMetrics:
        # A reader shows the reason where the figure would be: a missing figure needs one.
        missing = [name for name, m in self.layers.items() if m.part_interpretability is None]
        if missing and self.part_interpretability_absent is None:
            raise ValueError(
                f"layers {missing} have no part_interpretability and "
                "part_interpretability_absent gives no reason"
            )
        return self

    @property
    def top(self) -> LayerMetrics:
        """The metrics of the top interpretable layer."""
        return self.layers[self.top_layer]


class StaleMetricsError(ValueError):
    """A metrics.json that this version cannot read: written before the typed contract, by
    another schema version, or with missing or renamed fields."""

    def __init__(self, run_id: str, reason: str) -> None:
        self.run_id = run_id
        self.reason = reason
        super().__init__(
            f"metrics of run {run_id!r} are stale ({reason}); re-evaluate this run with "
            f"`partlens evaluate {run_id}`"
        )


def parse_run_metrics(data: Any, *, run_id: str = "<run_id>") -> RunMetrics:
    """Validate decoded metrics.json content; StaleMetricsError unless it is of this schema.

    run_id names the run in the error when the content does not.
    """
    if not isinstance(data, Mapping):
        raise StaleMetricsError(run_id, f"expected a JSON object, got {type(data).__name__}")
    run_id = str(data.get("run_id") or run_id)
    version = data.get("schema_version")
    if version is None:
        raise StaleMetricsError(run_id, "no schema_version: written before the typed contract")
    if version != SCHEMA_VERSION:
        raise StaleMetricsError(
            run_id, f"schema_version {version!r}, this partlens reads {SCHEMA_VERSION}"
        )
    try:
        return RunMetrics.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()[:3]
        )
        more = f" (+{exc.error_count() - 3} more)" if exc.error_count() > 3 else ""
        raise StaleMetricsError(run_id, f"invalid fields: {problems}{more}") from exc


def load_run_metrics(path: str | Path) -> RunMetrics:
    """Read a ``metrics.json`` (``runs/<run_id>/metrics.json``).

    FileNotFoundError while the run is not evaluated; StaleMetricsError for a file that is not
    of the current schema (its message says to run ``partlens evaluate <run_id>``).
    """
    path = Path(path)
    text = path.read_text()
    run_id = path.parent.name or "<run_id>"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StaleMetricsError(run_id, f"{path} is not valid JSON: {exc}") from exc
    return parse_run_metrics(data, run_id=run_id)


def as_run_metrics(metrics: RunMetrics | Mapping[str, Any]) -> RunMetrics:
    """``metrics`` itself, or the decoded metrics.json content it holds, validated."""
    if isinstance(metrics, RunMetrics):
        return metrics
    return parse_run_metrics(metrics)


__all__ = [
    "SCHEMA_VERSION",
    "EvaluationSettings",
    "LayerGeometry",
    "LayerMetrics",
    "LocationInstabilityMetrics",
    "MaybeFloat",
    "PartInterpretabilityMetrics",
    "RadiusSensitivityPoint",
    "RunMetrics",
    "StaleMetricsError",
    "as_run_metrics",
    "load_run_metrics",
    "parse_run_metrics",
]
