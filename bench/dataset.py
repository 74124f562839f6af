"""Benchmark of the built-in dataset.

1. Generator throughput: images per second of CPU time on one core (single process), at
   64, 128 and 224 px, over a multi-category mix (objects) and a single-category mix (with
   background negatives).
2. Science sanity check: train the ordinary `tiny` CNN briefly (single-category) and report
   its test accuracy; it should be well above chance but not trivially 100% after one epoch.
3. Part probe: can a *local* detector tell the parts apart? An ordinary `tiny` backbone
   (pretrained here on the multi-category task, or a given weights file such as the shipped
   one) gives its top-layer (conv_top) features at each visible landmark of head, torso, front
   leg, back leg and tail; a linear (softmax) classifier fit on half of the images predicts the
   landmark's part on the other half. Its test accuracy (chance 0.2) is printed next to the same
   probe on a randomly initialised backbone.

Run: .venv/bin/python bench/dataset.py [--images 300] [--skip-train] [--skip-probe]
     [--probe-weights FILE]

What it measured so far: docs/reproduction.md, "The built-in dataset's benchmark".
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor

from partlens.data import collate_samples, load_dataset

if TYPE_CHECKING:
    from partlens.models import PartModel

PROBE_LANDMARKS = ("head", "torso", "front_leg", "back_leg", "tail")


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


def landmark_features(model: PartModel, data: Any) -> tuple[Tensor, Tensor]:
    """conv_top features [N, C] sampled bilinearly at every visible probe landmark of every
    image of ``data``, and each one's part index into PROBE_LANDMARKS [N]."""
    features: list[Tensor] = []
    labels: list[int] = []
    model.eval()
    with torch.no_grad():
        for begin in range(0, len(data), 64):
            batch = collate_samples([data[i] for i in range(begin, min(begin + 64, len(data)))])
            maps = model.forward_features(batch.images)["conv_top"]
            size = batch.images.shape[-1]
            for k, sample in enumerate(batch.samples):
                points = [
                    (p, sample.landmarks[name])
                    for p, name in enumerate(PROBE_LANDMARKS)
                    if name in sample.landmarks
                ]
                if not points:
                    continue
                grid = torch.tensor(
                    [[[2 * x / size - 1, 2 * y / size - 1] for _, (x, y) in points]]
                )
                sampled = F.grid_sample(maps[k : k + 1], grid[:, None].float(), align_corners=False)
                features.append(sampled[0, :, 0].T)
                labels.extend(p for p, _ in points)
    return torch.cat(features), torch.tensor(labels)


def linear_probe_accuracy(
    train_x: Tensor, train_y: Tensor, test_x: Tensor, test_y: Tensor
) -> float:
    """Test accuracy of a softmax-regression classifier (standardised inputs, L2) fit by LBFGS."""
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std
    linear = torch.nn.Linear(train_x.shape[1], len(PROBE_LANDMARKS))
    optimizer = torch.optim.LBFGS(linear.parameters(), max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(linear(train_x), train_y) + 1e-3 * linear.weight.square().sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        return float((linear(test_x).argmax(1) == test_y).float().mean())


def part_probe(image_size: int, weights: Path | None, pretrain_images: int, epochs: int) -> None:
    """Print the part probe's accuracy for a pretrained and a random ordinary tiny backbone."""
    from partlens.assets.weights import inferred_options
    from partlens.models import build_model
    from partlens.models.weights import read_state_dict
    from partlens.training.loop import TrainConfig, train

    # Probe images come from other seeds than the backbone's training images.
    probe_train = load_dataset("builtin", "test", image_size, task="multi", size=300, seed=5)
    probe_test = load_dataset("builtin", "test", image_size, task="multi", size=300, seed=6)
    if weights is not None:
        options = inferred_options("tiny", read_state_dict(weights))  # the file fixes the width
        pretrained = build_model(
            "tiny", interpretable=False, num_classes=6, weights=weights, input_size=image_size,
            **options,
        )  # fmt: skip
        source = str(weights)
    else:
        torch.manual_seed(0)
        pretrained = build_model(
            "tiny", interpretable=False, num_classes=6, width=64, input_size=image_size
        )
        train_set = load_dataset(
            "builtin", "train", image_size, task="multi", augment=True, size=pretrain_images, seed=4
        )
        config = TrainConfig(
            epochs=epochs,
            batch_size=32,
            lr=0.01,
            lr_final=0.001,
            task="multi",
            device="cpu",
            amp=False,
        )
        start = time.perf_counter()
        result = train(pretrained, train_set, config)
        source = (
            f"pretrained here: {pretrain_images} images x {epochs} epochs in "
            f"{time.perf_counter() - start:.0f} s, train accuracy "
            f"{result.history[-1].accuracy:.3f}"
        )
    torch.manual_seed(0)
    width = pretrained.options.get("width", 128)
    random_net = build_model(
        "tiny", interpretable=False, num_classes=6, width=width, input_size=image_size
    )
    for name, net in (("pretrained", pretrained), ("random init", random_net)):
        train_x, train_y = landmark_features(net, probe_train)
        test_x, test_y = landmark_features(net, probe_test)
        accuracy = linear_probe_accuracy(train_x, train_y, test_x, test_y)
        print(
            f"  part probe, {name} backbone ({image_size} px, {len(train_y)} / {len(test_y)} "
            f"train / test landmarks, chance 0.2): test accuracy {accuracy:.3f}"
        )
    print(f"  backbone: {source}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=300, help="images per size and task")
    parser.add_argument("--skip-train", action="store_true", help="only time the generator")
    parser.add_argument("--train-size", type=int, default=1600)
    parser.add_argument("--test-size", type=int, default=400)
    parser.add_argument("--train-image-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--skip-probe", action="store_true", help="skip the part probe")
    parser.add_argument(
        "--probe-weights",
        type=Path,
        default=None,
        help="an ordinary tiny weights file to probe instead of pretraining one",
    )
    parser.add_argument("--probe-image-size", type=int, default=96)
    parser.add_argument("--probe-pretrain-images", type=int, default=1800)
    parser.add_argument("--probe-epochs", type=int, default=4)
    args = parser.parse_args()
    training_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    print("generator throughput (images per CPU-second, one core):")
    for image_size in (64, 128, 224):
        multi = generator_rate(image_size, args.images, "multi")
        single = generator_rate(image_size, args.images, "single")
        print(f"  {image_size:3d} px: multi {multi:6.0f} img/s   single {single:6.0f} img/s")
    if not args.skip_train:
        torch.set_num_threads(training_threads)
        sanity_train(args.train_image_size, args.train_size, args.test_size, args.epochs, args.lr)
    if not args.skip_probe:
        torch.set_num_threads(training_threads)
        print("part probe (linear classifier on conv_top features at landmarks):")
        part_probe(
            args.probe_image_size, args.probe_weights, args.probe_pretrain_images, args.probe_epochs
        )


if __name__ == "__main__":
    main()
