from __future__ import annotations

from partlens.runs.history import HistoryRecorder, read_history, truncate_history
from partlens.training.loop import TrainProgress


def _progress(step: int, epoch: int = 1) -> TrainProgress:
    return TrainProgress(epoch, 2, step, 10, 0.5, -1.0, 0.75, 100.0, filter_lambda=3.0, lr=0.01)


def test_steps_are_throttled_and_epochs_always_kept(tmp_path):
    path = tmp_path / "run" / "history.jsonl"
    recorder = HistoryRecorder(path, interval_s=3600, attempt=2)
    for step in range(1, 6):
        recorder.on_step(_progress(step))
    recorder.on_epoch_end(_progress(5))
    points = read_history(path)
    assert [(p.kind, p.step) for p in points] == [("step", 1), ("epoch", 5)]
    epoch = points[1]
    assert (epoch.task_loss, epoch.filter_loss, epoch.accuracy) == (0.5, -1.0, 0.75)
    assert (epoch.filter_lambda, epoch.lr, epoch.attempt) == (3.0, 0.01, 2)
    assert epoch.eta_s is not None and epoch.eta_s >= 0


def test_a_partial_last_line_is_ignored_and_non_finite_values_are_null(tmp_path):
    path = tmp_path / "history.jsonl"
    recorder = HistoryRecorder(path, interval_s=0)
    progress = _progress(1)
    progress.task_loss = float("nan")
    recorder.on_step(progress)
    with path.open("a") as handle:
        handle.write('{"kind": "step", "ti')  # a writer mid-line
    points = read_history(path)
    assert len(points) == 1 and points[0].task_loss is None
    assert read_history(tmp_path / "absent.jsonl") == []


def test_truncate_drops_points_past_the_resumed_step(tmp_path):
    path = tmp_path / "history.jsonl"
    recorder = HistoryRecorder(path, interval_s=0)
    for step in range(1, 7):
        recorder.on_step(_progress(step))
    truncate_history(path, 4)
    assert [p.step for p in read_history(path)] == [1, 2, 3, 4]
    truncate_history(tmp_path / "absent.jsonl", 0)
    assert not (tmp_path / "absent.jsonl").exists()


def test_flush_writes_the_last_throttled_step_once(tmp_path):
    from types import SimpleNamespace

    from partlens.runs.history import HistoryRecorder, read_history

    def progress(step):
        return SimpleNamespace(
            step=step, steps_total=10, epoch=1, epochs=1, task_loss=1.0, filter_loss=0.5,
            filter_lambda=1.0, accuracy=0.5, lr=0.01, images_per_s=10.0,
        )  # fmt: skip

    recorder = HistoryRecorder(tmp_path / "h.jsonl", interval_s=3600)
    for step in (1, 2, 3):
        recorder.on_step(progress(step))
    recorder.flush()
    recorder.flush()
    assert [p.step for p in read_history(tmp_path / "h.jsonl")] == [1, 3]
