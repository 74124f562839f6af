"""End-to-end training throughput and accuracy of both twins on the built-in dataset.

Unlike ``train_step.py`` (one step on synthetic tensors) this runs the real loop: generated
images, DataLoader workers, ``partlens.training.train`` (AMP + channels_last on CUDA), then test
accuracy. Both twins use the same data, seed and budget, one after the other.

    .venv/bin/python bench/train_throughput.py                                  # tiny, CPU
    PYTHONPATH=$PWD python3 bench/train_throughput.py --arch vgg16 --device cuda --workers 12
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.utils.data import DataLoader

from partlens.data import collate_samples, load_dataset
from partlens.metrics import multi_category_accuracy, single_category_accuracy
from partlens.models import build_model, default_input_size
from partlens.training.loop import TrainConfig, resolve_device, train


def test_accuracy(model: torch.nn.Module, dataset, task: str, device: torch.device) -> float:
    """Accuracy of ``model`` on ``dataset`` (eval mode, no gradient)."""
    loader = DataLoader(dataset, batch_size=64, collate_fn=collate_samples)
    logits, labels = [], []
    model.eval()
    with torch.no_grad():
        for batch in loader:
            logits.append(model(batch.images.to(device)).float().cpu())
            labels.append(batch.labels)
    score = single_category_accuracy if task == "single" else multi_category_accuracy
    return score(torch.cat(logits), torch.cat(labels))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="tiny")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--task", default="single", choices=["single", "multi"])
    parser.add_argument("--image-size", type=int, default=None)
    parser.add_argument("--train-size", type=int, default=512)
    parser.add_argument("--test-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=None, help="default: TrainConfig's")
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    size = args.image_size or default_input_size(args.arch)
    options = {"task": args.task, "seed": 0}
    if args.task == "single":
        options["category"] = "bird"
    train_set = load_dataset(
        "builtin", "train", size, size=args.train_size, augment=True, **options
    )
    test_set = load_dataset("builtin", "test", size, size=args.test_size, **options)
    num_classes = 1 if args.task == "single" else len(train_set.categories)
    device = resolve_device(args.device)
    extra = {} if args.lr is None else {"lr": args.lr}
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        task=args.task,
        device=str(device),
        num_workers=args.workers,
        **extra,
    )
    print(
        f"{args.arch} {size}px {args.task} on {device} "
        f"({torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu'}), "
        f"{args.train_size} images x {args.epochs} epochs, batch {args.batch_size}"
    )
    print(
        f"{'twin':<14}{'wall s':>8}{'img/s':>8}{'task loss':>11}{'filter loss':>13}{'test acc':>10}"
    )
    walls = {}
    for interpretable in (False, True):
        torch.manual_seed(0)
        model = build_model(args.arch, interpretable=interpretable, num_classes=num_classes)
        start = time.perf_counter()
        result = train(model, train_set, config)
        if device.type == "cuda":
            torch.cuda.synchronize()
        wall = time.perf_counter() - start
        last = result.history[-1]
        kind = "interpretable" if interpretable else "ordinary"
        walls[kind] = wall
        images = args.train_size * args.epochs
        accuracy = test_accuracy(result.model, test_set, args.task, device)
        print(
            f"{kind:<14}{wall:>8.1f}{images / wall:>8.1f}{last.task_loss:>11.4f}"
            f"{last.filter_loss:>13.4f}{accuracy:>10.3f}"
        )
    print(
        f"wall-time ratio interpretable/ordinary: {walls['interpretable'] / walls['ordinary']:.3f}"
    )


if __name__ == "__main__":
    main()
