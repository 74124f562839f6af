"""Benchmark of the built-in dataset.

1. Generator throughput: images per second of CPU time on one core (single process), at
   64, 128 and 224 px, over a multi-category mix (objects) and a single-category mix (with
   background negatives).
2. Science sanity check: train the ordinary `tiny` CNN briefly (single-category) and report
   its test accuracy; it should be well above chance but not trivially 100% after one epoch.

Run: .venv/bin/python bench/dataset.py [--images 300] [--skip-train]

What it measured so far: docs/reproduction.md, "The built-in dataset's benchmark".
"""

from __future__ import annotations

import argparse
import time

import torch

from partlens.data import collate_samples, load_dataset


def generator_rate(image_size: int, images: int, task: str) -> float:
    """Images per CPU-second to generate `images` samples of `image_size` px."""
    data = load_dataset("builtin", "train", image_size, task=task, size=images, seed=11)
    data[0]  # warm caches (pixel grids, noise tiles) outside the timing
    start = time.process_time()
    for index in range(len(data)):
        data[index]
    return len(data) / (time.process_time() - start)


def sanity_train(image_size: int, train_size: int, test_size: int, epochs: int, lr: float) -> None:
    """Train the ordinary tiny CNN on bird-vs-rest and print train time and test accuracy."""
    from partlens.models import build_model
    from partlens.training.loop import TrainConfig, train

    train_set = load_dataset("builtin", "train", image_size, category="bird", size=train_size)
    test_set = load_dataset("builtin", "test", image_size, category="bird", size=test_size)
    model = build_model("tiny", interpretable=False, num_classes=1)
    config = TrainConfig(epochs=epochs, batch_size=32, lr=lr, device="cpu", amp=False)
    start = time.perf_counter()
    train(model, train_set, config)
    elapsed = time.perf_counter() - start
    model.eval()
    correct = predicted_positive = 0
    with torch.no_grad():
        for begin in range(0, test_size, 64):
            batch = collate_samples([test_set[i] for i in range(begin, min(begin + 64, test_size))])
            predicted = (model(batch.images).squeeze(1) > 0).long()
            correct += int((predicted == batch.labels).sum())
            predicted_positive += int(predicted.sum())
    print(
        f"tiny ordinary CNN, bird vs rest, {image_size} px, {train_size} train images, "
        f"{epochs} epoch(s), lr {lr} in {elapsed:.0f} s: test accuracy {correct / test_size:.3f} "
        f"on {test_size} images (chance 0.5; predicted positive share "
        f"{predicted_positive / test_size:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=300, help="images per size and task")
    parser.add_argument("--skip-train", action="store_true", help="only time the generator")
    parser.add_argument("--train-size", type=int, default=1600)
    parser.add_argument("--test-size", type=int, default=400)
    parser.add_argument("--train-image-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=0.01)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("generator throughput (images per CPU-second, one core):")
    for image_size in (64, 128, 224):
        multi = generator_rate(image_size, args.images, "multi")
        single = generator_rate(image_size, args.images, "single")
        print(f"  {image_size:3d} px: multi {multi:6.0f} img/s   single {single:6.0f} img/s")
    if not args.skip_train:
        torch.set_num_threads(max(1, torch.get_num_threads()))
        sanity_train(args.train_image_size, args.train_size, args.test_size, args.epochs, args.lr)


if __name__ == "__main__":
    main()
