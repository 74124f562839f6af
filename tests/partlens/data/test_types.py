import numpy as np
import pytest
import torch
from torch.utils.data._utils.pin_memory import pin_memory

from partlens.data import (
    IMAGE_MEAN,
    IMAGE_STD,
    Batch,
    Sample,
    collate_samples,
    image_to_tensor,
)


def _sample(value: int, label: int, size: int = 8) -> Sample:
    image = np.full((size, size, 3), value, dtype=np.uint8)
    return Sample(image, label, "cat", None, None, {"head": (1.0, 2.0)})


def test_image_to_tensor_normalises_per_channel():
    image = np.zeros((4, 5, 3), dtype=np.uint8)
    image[..., 1] = 255
    tensor = image_to_tensor(image)
    assert tensor.shape == (3, 4, 5) and tensor.dtype == torch.float32
    assert tensor[0, 0, 0].item() == pytest.approx(-IMAGE_MEAN[0] / IMAGE_STD[0], rel=1e-5)
    assert tensor[1, 3, 4].item() == pytest.approx((1 - IMAGE_MEAN[1]) / IMAGE_STD[1], rel=1e-5)


@pytest.mark.parametrize(
    "bad", [np.zeros((4, 4, 3), dtype=np.float32), np.zeros((4, 4), dtype=np.uint8)]
)
def test_image_to_tensor_rejects_bad_images(bad):
    with pytest.raises(ValueError, match="image"):
        image_to_tensor(bad)


def test_collate_keeps_samples_and_labels():
    samples = [_sample(0, 1), _sample(255, 0)]
    batch = collate_samples(samples)
    assert batch.images.shape == (2, 3, 8, 8)
    assert batch.labels.dtype == torch.int64 and batch.labels.tolist() == [1, 0]
    assert batch.samples[0].landmarks == {"head": (1.0, 2.0)}
    assert batch.images[1].mean() > batch.images[0].mean()


def test_collate_rejects_mixed_sizes_and_empty():
    with pytest.raises(ValueError, match="same shape"):
        collate_samples([_sample(0, 1, 8), _sample(0, 1, 9)])
    with pytest.raises(ValueError, match="at least one"):
        collate_samples([])


def test_pin_memory_pins_the_tensors_and_keeps_the_samples(monkeypatch):
    # No accelerator is needed: Tensor.pin_memory is replaced by a recording copy.
    calls = []

    def fake_pin(tensor):
        pinned = tensor.clone()
        calls.append((tensor, pinned))
        return pinned

    monkeypatch.setattr(torch.Tensor, "pin_memory", fake_pin)
    batch = collate_samples([_sample(0, 1), _sample(255, 0)])
    # What a DataLoader with pin_memory=True applies to each batch.
    result = pin_memory(batch)
    assert isinstance(result, Batch) and result is not batch
    assert len(calls) == 2
    assert calls[0][0] is batch.images and result.images is calls[0][1]
    assert calls[1][0] is batch.labels and result.labels is calls[1][1]
    assert torch.equal(result.images, batch.images) and result.labels.tolist() == [1, 0]
    assert result.samples is batch.samples
