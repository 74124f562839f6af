import dataclasses

import numpy as np
import pytest
import torch

from partlens.data import Sample
from partlens.models import build_model, load_model
from partlens.training.loop import TrainCallback, TrainConfig, train


class SquaresDataset(torch.utils.data.Dataset):
    """Positives (label 1) carry a bright square at a random place; negatives are noise."""

    def __init__(self, size=24, side=32, classes=2, seed=0):
        rng = np.random.default_rng(seed)
        self.samples = []
        for index in range(size):
            image = rng.integers(0, 60, (side, side, 3), dtype=np.uint8)
            label = index % classes
            if label:
                y, x = rng.integers(0, side - 10, 2)
                image[y : y + 10, x : x + 10, label % 3] = 250
            category = "background" if label == 0 else f"c{label}"
            self.samples.append(Sample(image, label, category, None, None, {}, index))

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        return self.samples[index]


def config(**overrides):
    values = dict(epochs=2, batch_size=8, lr=0.05, device="cpu", seed=3)
    values.update(overrides)
    return TrainConfig(**values)


def tiny(**options):
    torch.manual_seed(0)
    return build_model("tiny", width=16, **options)


class Recorder(TrainCallback):
    def __init__(self, stop_after=None):
        self.steps, self.epochs, self.stop_after = [], [], stop_after

    def on_step(self, progress):
        self.steps.append(progress)

    def on_epoch_end(self, progress):
        self.epochs.append(progress)

    def should_stop(self):
        return self.stop_after is not None and len(self.steps) >= self.stop_after


def test_training_lowers_the_task_loss_and_reports_progress():
    recorder = Recorder()
    result = train(tiny(), SquaresDataset(size=32), config(epochs=5), callbacks=[recorder])
    assert not result.cancelled and result.epochs_completed == 5
    assert len(recorder.steps) == 20 and recorder.steps[-1].steps_total == 20
    assert recorder.epochs[-1].task_loss < recorder.epochs[0].task_loss
    assert all(p.filter_lambda > 0 and p.images_per_s > 0 for p in recorder.steps)
    assert all(np.isfinite(p.filter_loss) for p in recorder.steps)


def test_deterministic_given_the_seed():
    first = train(tiny(), SquaresDataset(), config()).model.state_dict()
    second = train(tiny(), SquaresDataset(), config()).model.state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)


@pytest.mark.parametrize(
    "options", [{"interpretable": True}, {"interpretable": False}, {"filter_loss": "official"}]
)
def test_same_weights_in_one_process_whatever_ran_before(options):
    data = SquaresDataset(size=16)
    first = train(tiny(**options), data, config(epochs=1, max_steps=2)).model.state_dict()
    # Another run in between (other map size, other classes, other RNG state) must leave
    # no state behind that changes the next run.
    train(tiny(num_classes=3), SquaresDataset(size=8, side=48, classes=3), config(task="multi"))
    torch.manual_seed(12345)
    torch.rand(7)
    second = train(tiny(**options), data, config(epochs=1, max_steps=2)).model.state_dict()
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_deterministic_kernels_are_scoped_to_the_run():
    assert not torch.are_deterministic_algorithms_enabled()
    seen = []

    class Probe(TrainCallback):
        def on_step(self, progress):
            seen.append(torch.are_deterministic_algorithms_enabled())

    reference = train(tiny(), SquaresDataset(size=16), config(epochs=1)).model.state_dict()
    strict = train(
        tiny(), SquaresDataset(size=16), config(epochs=1, deterministic=True), callbacks=[Probe()]
    ).model.state_dict()
    assert seen == [True, True] and not torch.are_deterministic_algorithms_enabled()
    # On CPU the deterministic kernels are the ones used anyway: the same weights.
    assert all(torch.equal(reference[k], strict[k]) for k in reference)


@pytest.mark.parametrize("variant", ["paper-approx", "exact-mi", "assigned-mi", "official"])
def test_resume_gives_the_same_weights(tmp_path, variant):
    data = SquaresDataset()
    reference = train(tiny(), data, config(epochs=3, filter_loss=variant)).model
    stopped = train(
        tiny(),
        data,
        config(epochs=3, filter_loss=variant),
        callbacks=[Recorder(stop_after=4)],
        checkpoint_dir=tmp_path,
    )
    assert stopped.cancelled and stopped.steps == 4
    resumed = train(tiny(), data, config(epochs=3, filter_loss=variant), checkpoint_dir=tmp_path)
    assert not resumed.cancelled and resumed.steps == 9
    expected, actual = reference.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(expected[k], actual[k]) for k in expected)
    assert load_model(tmp_path).filter_loss == variant


def test_max_steps_and_ordinary_twin():
    recorder = Recorder()
    result = train(
        tiny(interpretable=False), SquaresDataset(), config(max_steps=2), callbacks=[recorder]
    )
    assert result.steps == 2
    assert all(p.filter_loss == 0.0 and p.filter_lambda == 0.0 for p in recorder.steps)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_the_loader_pins_batches_for_a_cuda_device_only(monkeypatch, device):
    from partlens.training import loop

    options = []

    class RecordingLoader:
        def __init__(self, dataset, **kwargs):
            options.append(kwargs)

        def __iter__(self):
            return iter(())

    run = loop._Loop(tiny(), SquaresDataset(size=8), config(epochs=1), [], None)
    # The device only decides the loader's options here: no step runs on it.
    run.device = torch.device(device)
    monkeypatch.setattr(loop, "DataLoader", RecordingLoader)
    assert run.run_epoch() == 0
    assert [kwargs["pin_memory"] for kwargs in options] == [device == "cuda"]


@pytest.mark.parametrize("multi_loss", ["softmax", "logistic"])
def test_multi_category(multi_loss):
    model = tiny(num_classes=3)
    data = SquaresDataset(classes=3)
    result = train(model, data, config(task="multi", multi_loss=multi_loss, epochs=1))
    assert result.steps == 3
    targets = model.objectives["conv_top"].target_categories()
    assert targets.shape == (16,) and set(targets.tolist()) <= {0, 1, 2}


def test_configuration_errors():
    with pytest.raises(ValueError, match="filter_loss"):
        TrainConfig(filter_loss="bogus")
    with pytest.raises(ValueError, match="num_classes=1"):
        train(tiny(num_classes=3), SquaresDataset(), config())
    with pytest.raises(ValueError, match="0 \\(negative\\) or 1"):
        train(tiny(), SquaresDataset(classes=3), config())


def test_divergence_stops_training_with_a_clear_error():
    from partlens.training.loop import TrainingDiverged

    model = tiny(interpretable=True)
    with torch.no_grad():
        model.layer_convs()["conv_added"].weight.fill_(float("nan"))
    with pytest.raises(TrainingDiverged, match="lower the learning rate"):
        train(model, SquaresDataset(), config(max_steps=1))


class FlippingSquares(SquaresDataset):
    """Flips at random with torch's global RNG, as the built-in dataset's augmentation does."""

    def __getitem__(self, index):
        sample = self.samples[index]
        if bool(torch.rand(()) < 0.5):
            return dataclasses.replace(sample, image=sample.image[:, ::-1].copy())
        return sample


class Crash(TrainCallback):
    """Dies after ``after`` steps, as a killed worker would: no cancel-time checkpoint."""

    def __init__(self, after):
        self.after, self.seen = after, 0

    def on_step(self, progress):
        self.seen += 1
        if self.seen == self.after:
            raise KeyboardInterrupt


def test_time_based_checkpoints_let_a_crashed_run_resume_to_the_same_weights(tmp_path):
    data = FlippingSquares()
    reference = train(tiny(), data, config(epochs=3)).model.state_dict()
    with pytest.raises(KeyboardInterrupt):
        # Every step is "due" by time; the crash comes mid-epoch 2, after step 5's checkpoint.
        train(
            tiny(),
            data,
            config(epochs=3, checkpoint_every_s=1e-9),
            callbacks=[Crash(after=6)],
            checkpoint_dir=tmp_path,
        )
    resumed = train(tiny(), data, config(epochs=3), checkpoint_dir=tmp_path)
    assert resumed.steps == 9
    actual = resumed.model.state_dict()
    assert all(torch.equal(reference[k], actual[k]) for k in reference)


def test_progress_reports_the_learning_rate_of_the_epoch():
    recorder = Recorder()
    train(tiny(), SquaresDataset(), config(epochs=3, lr=0.04, lr_final=0.01), callbacks=[recorder])
    assert [round(p.lr, 6) for p in recorder.epochs] == [0.04, 0.02, 0.01]
