"""The runs table's data: each run's headline numbers from its metrics.json, its ETA, and the
orders the table can be sorted in.

A runs list is asked for every few seconds by every open runs page, so a summary is read once
per published metrics.json (keyed by the file's identity) and kept small: four numbers, not
the parsed metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from backend.core.caching import identity
from backend.schemas import RunPublic, RunSummary
from partlens.evaluation.schema import StaleMetricsError, load_run_metrics
from partlens.reporting.comparison import layer_means
from partlens.store import Run, RunArtifacts, RunStatus

RunOrder = Literal[
    "created", "name", "status", "accuracy", "location_instability", "part_interpretability"
]


def run_summary(runs_dir: Path, run_id: str) -> RunSummary | None:
    """Test accuracy and the top layer's metric means of an evaluated run; None before its
    evaluation or when its metrics.json is stale (its own page says why)."""
    path = RunArtifacts(runs_dir, run_id).metrics_path
    try:
        return _summary(str(path), identity(path))
    except (FileNotFoundError, StaleMetricsError):
        return None


@lru_cache(maxsize=4096)
def _summary(path: str, file_identity: str) -> RunSummary:
    # Keyed by the file's identity: a re-evaluated run is read again.
    metrics = load_run_metrics(Path(path))
    means = layer_means(metrics.layers[metrics.top_layer])
    return RunSummary(layer=metrics.top_layer, test_accuracy=metrics.accuracy, **means)


def eta_seconds(run: Run, now: datetime | None = None) -> float | None:
    """Seconds of training left, from the pace so far: elapsed * (1 - progress) / progress
    (None unless the run is running with 0 < progress < 1)."""
    progress = run.progress or 0.0
    if run.status != RunStatus.running or run.started_at is None or not 0 < progress < 1:
        return None
    started = run.started_at if run.started_at.tzinfo else run.started_at.replace(tzinfo=UTC)
    elapsed = ((now or datetime.now(UTC)) - started).total_seconds()
    return max(elapsed, 0.0) * (1 - progress) / progress


def public_run(run: Run, runs_dir: Path) -> RunPublic:
    """``run`` as the API shows it: its row plus its summary and ETA."""
    public = RunPublic.model_validate(run)
    return public.model_copy(
        update={"summary": run_summary(runs_dir, run.id), "eta_s": eta_seconds(run)}
    )


def _summary_value(field: str) -> Callable[[RunPublic], Any]:
    return lambda run: None if run.summary is None else getattr(run.summary, field)


_ORDER_KEYS: dict[str, Callable[[RunPublic], Any]] = {
    "created": lambda run: run.created_at,
    "name": lambda run: run.name.casefold(),
    "status": lambda run: run.status,
    "accuracy": _summary_value("test_accuracy"),
    "location_instability": _summary_value("location_instability"),
    "part_interpretability": _summary_value("part_interpretability"),
}


def sort_runs(runs: list[RunPublic], order: RunOrder, descending: bool) -> list[RunPublic]:
    """``runs`` by ``order``; runs without that value (not evaluated, no part masks) last
    either way."""
    key = _ORDER_KEYS[order]
    known = [run for run in runs if key(run) is not None]
    unknown = [run for run in runs if key(run) is None]
    return sorted(known, key=key, reverse=descending) + unknown
