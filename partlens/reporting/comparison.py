"""Comparing interpretable and ordinary twins: per-twin summaries of the top interpretable
layer, their ratios, the average over categories (the paper's "Avg." rows) and the
reproduction's targets (docs/reproduction.md). A run on a dataset without part masks has no
part interpretability: its figures, and the ratios that need them, are None."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from partlens.evaluation.schema import LayerMetrics, RunMetrics, as_run_metrics

TWINS = ("interpretable", "ordinary")
# The two metrics compared per layer and which way is better.
METRIC_DIRECTIONS = {
    "location_instability": "lower is better",
    "part_interpretability": "higher is better",
}
# The reproduction's targets for --budget small (reported, never tuned for).
TARGETS = {
    "location_instability_ratio": ("<=", 0.65),
    "part_interpretability_ratio": (">=", 1.8),
    "single_accuracy_difference_points": (">=", -2.0),
    "multi_accuracy_difference_points": (">=", 0.0),
}
_INSTABILITY_FIELDS = {"mean", "random_reference", "oracle_reference", "excluded"}
_INTERPRETABILITY_FIELDS = {
    "mean",
    "oracle_reference",
    "rf_radius",
    "best_part_histogram",
    "best_part_share",
    "best_part_entropy",
    "radius_sensitivity",
}
# Diversity of the best-part histogram, reported per layer next to the two metrics' means.
DIVERSITY_FIELDS = ("best_part_share", "best_part_entropy")


def twin_summary(metrics: RunMetrics | Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """The figures of one twin's top interpretable layer (the full metrics stay in its run's
    metrics.json), plus ``extra`` fields such as timings.

    ``metrics``: a RunMetrics, or decoded metrics.json content (validated; StaleMetricsError).
    """
    run = as_run_metrics(metrics)
    top = run.top
    parts = top.part_interpretability
    summary = {
        "run_id": run.run_id,
        "accuracy": run.accuracy,
        "location_instability": top.location_instability.model_dump(
            mode="json", include=_INSTABILITY_FIELDS
        ),
        "part_interpretability": (
            None
            if parts is None
            else parts.model_dump(mode="json", include=_INTERPRETABILITY_FIELDS)
        ),
        "layers": {
            layer: {**layer_means(values), **layer_diversity(values)}
            for layer, values in run.layers.items()
        },
        **extra,
    }
    if run.part_interpretability_absent is not None:
        summary["part_interpretability_absent"] = run.part_interpretability_absent
    if run.per_category_accuracy is not None:
        summary["per_category_accuracy"] = dict(run.per_category_accuracy)
    return summary


def layer_means(layer: LayerMetrics) -> dict[str, float | None]:
    """mean_f mean_k D_fk and mean_f P_f of one layer, keyed like METRIC_DIRECTIONS (P_f None
    without part masks)."""
    parts = layer.part_interpretability
    return {
        "location_instability": layer.location_instability.mean,
        "part_interpretability": None if parts is None else parts.mean,
    }


def layer_diversity(layer: LayerMetrics) -> dict[str, float | None]:
    """The largest best-part share and the normalised best-part entropy of one layer (None
    without part masks)."""
    interpretability = layer.part_interpretability
    return {name: getattr(interpretability, name, None) for name in DIVERSITY_FIELDS}


def ratio(interpretable: float | None, ordinary: float | None) -> float | None:
    """interpretable / ordinary; None when either is undefined or the ordinary one is 0."""
    return interpretable / ordinary if interpretable is not None and ordinary else None


def difference_points(interpretable: float | None, ordinary: float | None) -> float | None:
    """100 x (interpretable - ordinary): an accuracy difference in points."""
    if interpretable is None or ordinary is None:
        return None
    return 100.0 * (interpretable - ordinary)


def layer_ratios(
    interpretable: RunMetrics, ordinary: RunMetrics
) -> dict[str, dict[str, float | None]]:
    """Per layer of the interpretable twin, the interpretable / ordinary ratio of each metric
    of METRIC_DIRECTIONS (None where the ordinary twin lacks the layer or a mean)."""
    ratios = {}
    for name, layer in interpretable.layers.items():
        mine = layer_means(layer)
        theirs = layer_means(ordinary.layers[name]) if name in ordinary.layers else {}
        ratios[name] = {key: ratio(mine[key], theirs.get(key)) for key in METRIC_DIRECTIONS}
    return ratios


def twin_ratios(interpretable: Mapping[str, Any], ordinary: Mapping[str, Any]) -> dict[str, Any]:
    """Interpretable / ordinary ratio of both metrics' means, and the accuracy difference in
    points, for two twin summaries (see `twin_summary`)."""
    return {
        **{
            metric: ratio(_figure(interpretable, metric, "mean"), _figure(ordinary, metric, "mean"))
            for metric in METRIC_DIRECTIONS
        },
        "accuracy_difference_points": difference_points(
            interpretable["accuracy"], ordinary["accuracy"]
        ),
    }


def average_twins(single: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Mean over the categories of each twin's figures (the paper's "Avg." row) and their
    ratios; single maps a category to {"interpretable", "ordinary"} summaries."""

    def mean(values: list[float | None]) -> float | None:
        present = [v for v in values if v is not None]
        return sum(present) / len(present) if present else None

    twins: dict[str, dict[str, Any]] = {}
    for kind in TWINS:
        runs = [pair[kind] for pair in single.values()]
        twins[kind] = {
            "accuracy": mean([run["accuracy"] for run in runs]),
            **{
                metric: {"mean": mean([_figure(run, metric, "mean") for run in runs])}
                for metric in ("location_instability", "part_interpretability")
            },
        }
        references = [
            ("location_instability", "random_reference"),
            ("location_instability", "oracle_reference"),
            ("part_interpretability", "oracle_reference"),
            *(("part_interpretability", name) for name in DIVERSITY_FIELDS),
        ]
        for metric, reference in references:
            twins[kind][metric][reference] = mean([_figure(run, metric, reference) for run in runs])
    return {**twins, "ratios": twin_ratios(twins["interpretable"], twins["ordinary"])}


def _figure(summary: Mapping[str, Any], metric: str, name: str) -> float | None:
    """``summary[metric][name]``; None where the metric is absent (no part masks)."""
    values = summary.get(metric)
    return None if values is None else values.get(name)


def check_targets(average: Mapping[str, Any], multi: Mapping[str, Any]) -> dict[str, Any]:
    """The reproduction's targets next to the measured values (a report, never a pass/fail gate)."""
    measured = {
        "location_instability_ratio": average["ratios"]["location_instability"],
        "part_interpretability_ratio": average["ratios"]["part_interpretability"],
        "single_accuracy_difference_points": average["ratios"]["accuracy_difference_points"],
        "multi_accuracy_difference_points": multi["ratios"]["accuracy_difference_points"],
    }
    targets = {}
    for name, (relation, bound) in TARGETS.items():
        value = measured[name]
        met = None if value is None else (value <= bound if relation == "<=" else value >= bound)
        targets[name] = {"target": f"{relation} {bound:g}", "measured": value, "met": met}
    return targets
