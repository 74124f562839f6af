import pytest
import torch

from partlens.training.progress import StepReporter, TrainCallback
from partlens.training.step import StepValues, TrainingDiverged


class Recorder(TrainCallback):
    def __init__(self):
        self.steps = []

    def on_step(self, progress):
        self.steps.append(progress)


def values(task, images=4, epoch=1):
    return StepValues(torch.tensor([task, -0.5 * task, 0.25, 2.0]), images, epoch, 0.01)


@pytest.mark.parametrize("lag", [0, 1, 2])
def test_every_step_is_reported_in_order_with_its_own_values(lag):
    recorder = Recorder()
    reporter = StepReporter([recorder], epochs=1, steps_total=5, lag=lag)
    for step in range(1, 6):
        reporter.record(values(float(step), images=step), step, 0.0)
        # Steps younger than the lag are held back until the next ones are queued.
        assert [p.step for p in recorder.steps] == list(range(1, max(step - lag, 0) + 1))
    reporter.flush()
    assert [p.step for p in recorder.steps] == [1, 2, 3, 4, 5]
    assert [p.task_loss for p in recorder.steps] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert all(p.filter_lambda == 2.0 and p.lr == 0.01 for p in recorder.steps)
    assert all(p.steps_total == 5 and p.images_per_s > 0 for p in recorder.steps)


def test_the_epoch_means_weigh_each_step_by_its_images():
    reporter = StepReporter([], epochs=2, steps_total=4, lag=1)
    reporter.record(values(1.0, images=3), 1, 0.0)
    reporter.record(values(2.0, images=1), 2, 0.0)
    summary = reporter.epoch_summary(1, 2, lam=1.5, lr=0.02)
    assert summary.task_loss == pytest.approx(1.25) and summary.filter_loss == -0.625
    assert summary.accuracy == 0.25 and summary.filter_lambda == 1.5 and summary.lr == 0.02
    reporter.start_epoch()
    reporter.record(values(4.0), 3, 0.0)
    assert reporter.epoch_summary(2, 3, lam=1.0, lr=0.01).task_loss == 4.0


def test_a_diverged_step_raises_when_it_is_read():
    reporter = StepReporter([], epochs=1, steps_total=2, lag=1)
    reporter.record(values(float("inf")), 1, 0.0)
    with pytest.raises(TrainingDiverged, match="task loss inf"):
        reporter.flush()
