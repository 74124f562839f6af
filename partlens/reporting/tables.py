"""Text tables shaped like the paper's Tables 1-7: one row per category plus the average, the
ordinary and the interpretable twin side by side, and their ratio.

Input is the :class:`~partlens.evaluation.schema.RunMetrics` of each run (see
:func:`partlens.evaluation.run.evaluate_run`); runs are paired into twins by architecture, task,
category and multi-category loss. Runs on a dataset without part masks have no part
interpretability: their cells of the part tables read "—" and the table says why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from partlens.evaluation.schema import PartInterpretabilityMetrics, RunMetrics, as_run_metrics
from partlens.metrics.part_interpretability import NO_PART, best_part_diversity

Pair = dict[bool, RunMetrics]  # interpretable? -> metrics
ABSENT = "—"  # the cell of a figure the run's dataset cannot give (no part masks)
Cell = float | str | None


def format_tables(metrics_by_run: Mapping[str, RunMetrics | Mapping[str, Any]]) -> str:
    """Paper-style tables (part interpretability mean_f P_f, location instability
    mean_f mean_k D_fk, accuracy, the best parts' largest share and entropy, the best-part
    histograms) of the top interpretable layer for runs given as
    {run name: RunMetrics} (or decoded metrics.json content, validated: StaleMetricsError).

    Rows: each single-category category, "Avg." over them, then each multi-category run.
    Columns: ordinary, interpretable, ratio (interpretable / ordinary; accuracy: difference
    in points), and the references that give a figure its scale. A run without a twin still
    gets its column; the ratio is then "-".
    """
    groups: dict[str, dict[tuple[str, str], Pair]] = {}
    for value in metrics_by_run.values():
        metrics = as_run_metrics(value)
        rows = groups.setdefault(metrics.arch, {})
        if metrics.task == "single":
            key = ("single", metrics.category or metrics.categories[-1])
        else:
            key = ("multi", metrics.multi_loss or "softmax")
        rows.setdefault(key, {})[metrics.interpretable] = metrics
    return "\n\n".join(_arch_tables(arch, rows) for arch, rows in groups.items())


def _arch_tables(arch: str, rows: dict[tuple[str, str], Pair]) -> str:
    single = [(name, pair) for (task, name), pair in rows.items() if task == "single"]
    multi = [(f"multi ({loss})", pair) for (task, loss), pair in rows.items() if task == "multi"]
    layer = _top_layer(rows)
    sections = [
        _table(
            f"Part interpretability of {arch} filters ({layer}; higher is better; paper "
            "Tables 1-2)",
            ["ordinary", "interpretable", "ratio", "oracle"],
            single,
            multi,
            _of_parts(lambda parts: parts.mean),
            {"oracle": _of_parts(lambda parts: parts.oracle_reference)},
        ),
        _table(
            f"Location instability of {arch} filters ({layer}; lower is better; paper Tables 3-6)",
            ["ordinary", "interpretable", "ratio", "random", "oracle"],
            single,
            multi,
            lambda m: m.top.location_instability.mean,
            {
                "random": lambda m: m.top.location_instability.random_reference,
                "oracle": lambda m: m.top.location_instability.oracle_reference,
            },
        ),
        _table(
            f"Classification accuracy of {arch} (%; paper Table 7)",
            ["ordinary", "interpretable", "diff (pts)"],
            single,
            multi,
            lambda m: 100.0 * m.accuracy if m.accuracy is not None else None,
            {},
            difference=True,
        ),
        _table(
            f"Largest best-part share of {arch} filters ({layer}; 1/K: spread over the K "
            "parts, 1: all on one part)",
            ["ordinary", "interpretable", "ratio"],
            single,
            multi,
            _of_parts(lambda parts: parts.best_part_share),
            {},
        ),
        _table(
            f"Best-part entropy / log K of {arch} filters ({layer}; 1: spread evenly, 0: all "
            "on one part)",
            ["ordinary", "interpretable", "ratio"],
            single,
            multi,
            _of_parts(lambda parts: parts.best_part_entropy),
            {},
        ),
        _histograms(arch, single + multi),
    ]
    return "\n\n".join(sections)


def _of_parts(
    figure: Callable[[PartInterpretabilityMetrics], float | None],
) -> Callable[[RunMetrics], Cell]:
    """``figure`` of the top layer's part interpretability; ABSENT for a run without one."""

    def value(metrics: RunMetrics) -> Cell:
        parts = metrics.top.part_interpretability
        return ABSENT if parts is None else figure(parts)

    return value


def _top_layer(rows: dict[tuple[str, str], Pair]) -> str:
    layers = {m.top_layer for pair in rows.values() for m in pair.values()}
    return ", ".join(sorted(layers))


def _table(
    title: str,
    columns: Sequence[str],
    single: list[tuple[str, Pair]],
    multi: list[tuple[str, Pair]],
    value: Callable[[RunMetrics], Cell],
    references: Mapping[str, Callable[[RunMetrics], Cell]],
    *,
    difference: bool = False,
) -> str:
    def row(pair: Pair) -> list[Cell]:
        ordinary = value(pair[False]) if False in pair else None
        interpretable = value(pair[True]) if True in pair else None
        # References depend on the images (and the measured RF), so read them from the baseline.
        baseline = pair[False] if False in pair else pair[True]
        refs = [reference(baseline) for reference in references.values()]
        return [ordinary, interpretable, _compare(interpretable, ordinary, difference), *refs]

    body = [(name, row(pair)) for name, pair in single]
    if len(single) > 1:
        averages = [_mean([values[i] for _, values in body]) for i in range(len(columns))]
        averages[2] = _compare(averages[1], averages[0], difference)
        body.append(("Avg.", averages))
    body += [(name, row(pair)) for name, pair in multi]
    table = _render(title, ["category", *columns], body, percent=difference)
    reasons = {
        reason
        for _, pair in [*single, *multi]
        for metrics in pair.values()
        if value(metrics) == ABSENT and (reason := metrics.part_interpretability_absent)
    }
    return "\n".join([table, *(f"{ABSENT} {reason}" for reason in sorted(reasons))])


def _compare(interpretable: Cell, ordinary: Cell, difference: bool) -> float | None:
    if not isinstance(interpretable, float | int) or not isinstance(ordinary, float | int):
        return None
    if difference:
        return interpretable - ordinary
    return interpretable / ordinary if ordinary else None


def _mean(values: Sequence[Cell]) -> Cell:
    present = [v for v in values if isinstance(v, float | int)]
    if not present:
        return ABSENT if values and all(v == ABSENT for v in values) else None
    return sum(present) / len(present)


def _render(
    title: str, header: Sequence[str], body: Sequence[tuple[str, Sequence]], percent: bool
) -> str:
    def cell(value: Cell) -> str:
        if value is None:
            return "-"
        if isinstance(value, str):
            return value
        return f"{value:.1f}" if percent else f"{value:.3f}"

    cells = [[name, *(cell(v) for v in values)] for name, values in body]
    widths = [max(len(row[i]) for row in [list(header), *cells]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        first = row[0].ljust(widths[0])
        rest = (text.rjust(width) for text, width in zip(row[1:], widths[1:], strict=True))
        return "  ".join([first, *rest])

    rule = "-" * len(line(header))
    return "\n".join([title, rule, line(header), rule, *(line(row) for row in cells), rule])


def _histograms(arch: str, rows: list[tuple[str, Pair]]) -> str:
    """Which part each filter of the top layer matches best, per twin, and the share of the
    most common part: a low instability with all filters on one part is collapse, not parts."""
    lines = [f"Best-matching part of each {arch} filter (interpretable | ordinary)"]
    for name, pair in rows:
        texts = []
        for interpretable in (True, False):
            if interpretable not in pair:
                texts.append("-")
                continue
            parts = pair[interpretable].top.part_interpretability
            if parts is None:
                texts.append(f"{ABSENT} (no part masks)")
                continue
            histogram = parts.best_part_histogram
            counts = " ".join(f"{part} {count}" for part, count in histogram.items())
            texts.append(f"{counts} ({_largest_share(histogram)})")
        lines.append(f"  {name}: {texts[0]} | {texts[1]}")
    return "\n".join(lines)


def _largest_share(histogram: Mapping[str, int]) -> str:
    """``"75% head"``: the most common best-matching part and its share of the filters that
    match a part (:func:`partlens.metrics.best_part_diversity`)."""
    if not sum(histogram.values()):
        return "no filters"
    matched = {part: n for part, n in histogram.items() if part != NO_PART}
    share = best_part_diversity(histogram).share
    if not math.isfinite(share):
        return "no part matched"
    return f"{100 * share:.0f}% {max(matched, key=lambda part: matched[part])}"
