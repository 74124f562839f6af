"""End-to-end training throughput and accuracy of both twins on the built-in dataset.

Unlike ``train_step.py`` (one step on synthetic tensors) this runs the real loop: generated
images, DataLoader workers, ``partlens.training.train`` (AMP + channels_last on CUDA), then test
accuracy. Both twins use the same data, seed and budget, one after the other.

    .venv/bin/python bench/train_throughput.py                                  # tiny, CPU
    .venv/bin/python bench/train_throughput.py --demo    # the demo's setup (cat, 96 px, width 64)
    PYTHONPATH=$PWD python3 bench/train_throughput.py --arch vgg16 --device cuda --workers 12

``--modes plain,cached`` (the default) trains both twins once with every sample generated anew
each epoch (``cache_samples=False``, the loop before the sample cache) and once with the cache
(``partlens.training.sample_cache``), and prints the images/s of each and their ratio.
``--compile`` trains with ``TrainConfig.compile`` (the filter loss under ``torch.compile``; its
compile time is part of the interpretable twin's wall time).
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.utils.data import DataLoader

from partlens.cli import demo_run_config
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
    parser.add_argument("--lr-final", type=float, default=None)
    parser.add_argument("--width", type=int, default=None, help="tiny only")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--modes", default="plain,cached", help="plain and/or cached, in order")
    parser.add_argument("--compile", action="store_true", help="TrainConfig.compile")
    parser.add_argument(
        "--demo", action="store_true", help="the setup of make demo (partlens.cli.DEMO_RUN)"
    )
    args = parser.parse_args()
    category = "bird"
    if args.demo:
        # The demo's own run config, so that this setup follows any change to `make demo`.
        demo = demo_run_config()
        args.image_size, args.width = demo.dataset.image_size, demo.width
        args.lr, args.lr_final = demo.lr, demo.lr_final
        args.epochs, args.batch_size = demo.epochs, demo.batch_size
        category = demo.dataset.category
    size = args.image_size or default_input_size(args.arch)
    options = {"task": args.task, "seed": 0}
    if args.task == "single":
        options["category"] = category
    train_set = load_dataset(
        "builtin", "train", size, size=args.train_size, augment=True, **options
    )
    test_set = load_dataset("builtin", "test", size, size=args.test_size, **options)
    num_classes = 1 if args.task == "single" else len(train_set.categories)
    device = resolve_device(args.device)
    extra: dict = {} if args.lr is None else {"lr": args.lr}
    if args.lr_final is not None:
        extra["lr_final"] = args.lr_final
    model_options = {} if args.width is None else {"width": args.width}
    print(
        f"{args.arch} {size}px {args.task} on {device} "
        f"({torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu'}), "
        f"{args.train_size} images x {args.epochs} epochs, batch {args.batch_size}"
    )
    print(
        f"{'mode':<8}{'twin':<14}{'wall s':>8}{'img/s':>8}{'task loss':>11}"
        f"{'filter loss':>13}{'test acc':>10}"
    )
    rates: dict[tuple[str, str], float] = {}
    for mode in args.modes.split(","):
        if mode not in ("plain", "cached"):
            parser.error(f"--modes: unknown mode {mode!r}; choose plain and/or cached")
        config = TrainConfig(
            epochs=args.epochs,
            batch_size=args.batch_size,
            task=args.task,
            device=str(device),
            num_workers=args.workers,
            cache_samples=mode == "cached",
            compile=args.compile,
            **extra,
        )
        for interpretable in (False, True):
            torch.manual_seed(0)
            model = build_model(
                args.arch,
                interpretable=interpretable,
                num_classes=num_classes,
                input_size=size,
                **model_options,
            )
            start = time.perf_counter()
            result = train(model, train_set, config)
            if device.type == "cuda":
                torch.cuda.synchronize()
            wall = time.perf_counter() - start
            last = result.history[-1]
            kind = "interpretable" if interpretable else "ordinary"
            rates[mode, kind] = args.train_size * args.epochs / wall
            accuracy = test_accuracy(result.model, test_set, args.task, device)
            print(
                f"{mode:<8}{kind:<14}{wall:>8.1f}{rates[mode, kind]:>8.1f}"
                f"{last.task_loss:>11.4f}{last.filter_loss:>13.4f}{accuracy:>10.3f}"
            )
        ratio = rates[mode, "ordinary"] / rates[mode, "interpretable"]
        print(f"{mode}: wall-time ratio interpretable/ordinary {ratio:.3f}")
    if ("plain", "ordinary") in rates and ("cached", "ordinary") in rates:
        for kind in ("ordinary", "interpretable"):
            gain = rates["cached", kind] / rates["plain", kind]
            print(f"images/s cached / plain, {kind}: {gain:.2f}x")


if __name__ == "__main__":
    main()
