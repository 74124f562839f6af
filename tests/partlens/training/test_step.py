import math

import pytest
import torch

from partlens.models import build_model
from partlens.training.config import TrainConfig
from partlens.training.step import (
    StepValues,
    TrainingDiverged,
    check_labels,
    train_step,
)


class Batch:
    def __init__(self, labels, size=32, seed=0):
        generator = torch.Generator().manual_seed(seed)
        self.labels = torch.tensor(labels)
        self.images = torch.randn(len(labels), 3, size, size, generator=generator)


def step(model, labels, **config):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    values = dict(epochs=1, batch_size=len(labels), device="cpu")
    values.update(config)
    model.train()
    return train_step(
        model, optimizer, Batch(labels), TrainConfig(**values), 1, torch.device("cpu")
    )


def tiny(**options):
    torch.manual_seed(0)
    return build_model("tiny", width=16, input_size=32, **options)


def test_a_step_returns_its_values_on_the_device_and_reads_them_once():
    values = step(tiny(), [0, 1, 1, 0])
    assert isinstance(values, StepValues) and values.values.shape == (4,)
    assert values.images == 4 and values.epoch == 1 and values.lr == pytest.approx(0.01)
    task, filter_value, correct, lam = values.read()
    assert math.isfinite(task) and task > 0 and math.isfinite(filter_value) and filter_value != 0
    assert correct in (0.0, 0.25, 0.5, 0.75, 1.0) and lam > 0


def test_the_ordinary_twin_reports_no_filter_loss_and_no_lambda():
    _, filter_value, _, lam = step(tiny(interpretable=False), [0, 1]).read()
    assert filter_value == 0.0 and lam == 0.0


def test_a_python_lambda_is_reported_too():
    # official: lambda = weight / t, a float, not a device tensor.
    _, _, _, lam = step(tiny(filter_loss="official"), [0, 1], filter_loss="official").read()
    assert lam == pytest.approx(5.0)


def test_reading_a_diverged_step_raises_with_advice():
    values = StepValues(torch.tensor([float("nan"), -0.1, 0.5, 2.0]), 8, 3, 0.01)
    with pytest.raises(TrainingDiverged, match=r"epoch 3: task loss nan.*lower the learning rate"):
        values.read()


def test_labels_are_checked_before_the_step():
    check_labels(torch.tensor([0, 1]), "single", 1)
    check_labels(torch.tensor([0, 2]), "multi", 3)
    with pytest.raises(ValueError, match="0 \\(negative\\) or 1"):
        check_labels(torch.tensor([0, 2]), "single", 1)
    with pytest.raises(ValueError, match=r"label 3 outside 0\.\.2"):
        check_labels(torch.tensor([0, 3]), "multi", 3)
    with pytest.raises(ValueError, match=r"label -1 outside 0\.\.2"):
        step(tiny(num_classes=3, interpretable=False), [0, -1], task="multi")
