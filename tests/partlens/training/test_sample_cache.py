import torch

from partlens.data import load_dataset
from partlens.models import build_model
from partlens.training.loop import TrainConfig, train
from partlens.training.sample_cache import CachedSamples, cache_training_samples


def builtin(size=16, augment=True):
    return load_dataset("builtin", "train", 32, size=size, augment=augment, category="bird")


class CountingDataset(torch.utils.data.Dataset):
    """Counts how often each sample is generated."""

    def __init__(self, dataset):
        self.dataset, self.calls = dataset, 0

    @property
    def augment(self):
        return self.dataset.augment

    @augment.setter
    def augment(self, value):
        self.dataset.augment = value

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        self.calls += 1
        return self.dataset[index]


def test_cached_training_ends_with_the_same_weights():
    def run(cache):
        torch.manual_seed(0)
        model = build_model("tiny", width=16, input_size=32)
        config = TrainConfig(epochs=2, batch_size=8, device="cpu", seed=1, cache_samples=cache)
        return train(model, builtin(), config).model.state_dict()

    plain, cached = run(False), run(True)
    assert all(torch.equal(plain[key], cached[key]) for key in plain)


def test_each_sample_is_generated_once_and_flipped_like_the_dataset():
    counting = CountingDataset(builtin(size=4))
    cached = CachedSamples(counting)
    torch.manual_seed(5)
    first = [cached[i].image for i in range(4) for _ in range(3)]
    assert counting.calls == 4 and counting.augment  # the flag is restored
    torch.manual_seed(5)
    reference = [builtin(size=4)[i].image for i in range(4) for _ in range(3)]
    assert all((a == b).all() for a, b in zip(first, reference, strict=True))
    assert cached[0].part_masks is None


def test_no_cache_with_workers_without_augment_flag_or_over_budget():
    data = builtin(size=4)
    assert isinstance(cache_training_samples(data, num_workers=0), CachedSamples)
    assert cache_training_samples(data, num_workers=2) is data
    assert cache_training_samples(data, num_workers=0, max_bytes=100) is data
    plain = [data[i] for i in range(4)]
    assert cache_training_samples(plain, num_workers=0) is plain
