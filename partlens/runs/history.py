"""A run's training history: an append-only JSON-lines file readable while the run trains.

The worker appends a point per step (at most one every ``interval_s``) and one at every epoch
end; the API and the dashboard read it to draw curves. A reader ignores a last line that is
still being written. A resumed run first drops the points past its checkpoint, so the curve
has no steps twice.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from partlens.store.atomic_io import atomic_write_bytes

HISTORY_FILE = "history.jsonl"


class HistoryPoint(BaseModel):
    """One point of the training curves."""

    kind: Literal["step", "epoch"] = Field(description="A step, or the means of an epoch.")
    time: float = Field(description="Unix time of the point.")
    attempt: int = Field(default=1, description="Which execution of the run wrote it.")
    step: int
    steps_total: int
    epoch: int
    epochs: int
    task_loss: float | None
    filter_loss: float | None
    filter_lambda: float | None = Field(description="lambda of Eq. 3 in this epoch.")
    accuracy: float | None
    lr: float | None
    images_per_s: float | None
    eta_s: float | None = Field(description="Seconds of training left, from this attempt's pace.")


def read_history(path: Path) -> list[HistoryPoint]:
    """Every complete point of the file at ``path`` (none when it does not exist yet)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    points = []
    for line in text.splitlines(keepends=True):
        if not line.endswith("\n"):
            break  # the writer is still appending this one
        try:
            points.append(HistoryPoint.model_validate_json(line))
        except ValidationError:
            continue
    return points


def truncate_history(path: Path, last_step: int) -> None:
    """Keeps only the points up to ``last_step`` (the step a resumed run restarts from)."""
    points = [p for p in read_history(path) if p.step <= last_step]
    if path.exists():
        atomic_write_bytes(path, "".join(p.model_dump_json() + "\n" for p in points).encode())


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if value == value and abs(value) != float("inf") else None


class HistoryRecorder:
    """A training callback appending :class:`HistoryPoint` s to ``path``."""

    def __init__(self, path: Path, *, interval_s: float = 2.0, attempt: int = 1) -> None:
        self.path = path
        self.interval_s = interval_s
        self.attempt = attempt
        self._last = float("-inf")  # the first step is always recorded
        self._started: tuple[float, int] | None = None
        self._pending: Any = None  # the newest step not written (throttled away)
        path.parent.mkdir(parents=True, exist_ok=True)

    def _eta(self, progress: Any) -> float | None:
        """Seconds left at this attempt's pace since the first step it saw."""
        now = time.monotonic()
        if self._started is None:
            self._started = (now, progress.step)
        start, first_step = self._started
        done = progress.step - first_step
        if done <= 0:
            return None
        return (now - start) / done * max(progress.steps_total - progress.step, 0)

    def _append(self, kind: Literal["step", "epoch"], progress: Any) -> None:
        point = HistoryPoint(
            kind=kind,
            time=time.time(),
            attempt=self.attempt,
            step=progress.step,
            steps_total=progress.steps_total,
            epoch=progress.epoch,
            epochs=progress.epochs,
            task_loss=_finite(progress.task_loss),
            filter_loss=_finite(progress.filter_loss),
            filter_lambda=_finite(progress.filter_lambda),
            accuracy=_finite(progress.accuracy),
            lr=_finite(getattr(progress, "lr", None)),
            images_per_s=_finite(progress.images_per_s),
            eta_s=self._eta(progress),
        )
        # One write of one whole line: readers see it complete or not at all.
        with self.path.open("a") as handle:
            handle.write(json.dumps(point.model_dump(mode="json")) + "\n")

    def on_step(self, progress: Any) -> None:
        """A step point, at most one every ``interval_s``."""
        now = time.monotonic()
        if self._started is None:
            self._started = (now, progress.step)
        if now - self._last >= self.interval_s:
            self._last = now
            self._pending = None
            self._append("step", progress)
        else:
            self._pending = progress

    def on_epoch_end(self, progress: Any) -> None:
        """The epoch's means, always."""
        self._pending = None
        self._append("epoch", progress)

    def flush(self) -> None:
        """Write the last step if throttling held it back (call when training ends, so the
        curve reaches the final step)."""
        if self._pending is not None:
            self._append("step", self._pending)
            self._pending = None
