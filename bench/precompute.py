"""Throughput of ``precompute_features`` vs a plain forward pass over the same images.

The plain pass is ``model(images)`` under no_grad on batches collated beforehand; precompute
also collates, stores every layer filter-major as float16, encodes the crops as PNG, computes
the per-filter statistics and publishes the folder. Both run alternately in one process
(interleaved, so machine noise hits both) on images generated once beforehand, and the ratio
of the median throughputs is printed. The target is >= 0.8.

    .venv/bin/python bench/precompute.py                       # tiny on CPU, 112 px, 256 images
    .venv/bin/python bench/precompute.py --arch vgg16 --device cuda --images 512 --image-size 224
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from partlens.data import collate_samples, load_dataset
from partlens.evaluation.features import precompute_features
from partlens.models import build_model
from partlens.store import RunArtifacts
from partlens.training.loop import resolve_device


class GeneratedImages(torch.utils.data.Dataset):
    """The built-in test images, generated once, so that neither side times the generator."""

    def __init__(self, size: int, image_size: int) -> None:
        dataset = load_dataset(
            "builtin", "test", image_size, task="single", category="bird", size=size
        )
        self.categories = list(dataset.categories)
        self.samples = [dataset[i] for i in range(len(dataset))]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> Any:
        return self.samples[index]


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _forward(model: Any, batches: list[torch.Tensor], device: torch.device) -> float:
    """Seconds for ``model(images)`` over all batches."""
    _synchronize(device)
    start = time.perf_counter()
    with torch.no_grad():
        for images in batches:
            model(images)
    _synchronize(device)
    return time.perf_counter() - start


def _precompute(model: Any, config: dict, artifacts: RunArtifacts, dataset: Any, batch: int):
    """Seconds for one publication of the features folder."""
    start = time.perf_counter()
    precompute_features(model, config, artifacts, dataset=dataset, batch_size=batch)
    return time.perf_counter() - start


def _stored_bytes(artifacts: RunArtifacts, num_images: int) -> None:
    """Bytes on disk per image and filter (maps), per image (PNG) and in all."""
    manifest = artifacts.features_manifest()
    for layer, info in manifest.layers.items():
        size = (artifacts.features_dir / f"{layer}.npy").stat().st_size
        stats = (artifacts.features_dir / f"{layer}.stats.npz").stat().st_size
        filters, h, w = info.shape
        per = size / (num_images * filters)
        print(
            f"stored {layer:10s} {per:8.1f} B per image and filter ({h}x{w} float16), "
            f"stats {stats / 1024:8.1f} KiB"
        )
    images = sum(p.stat().st_size for p in (artifacts.features_dir / "images").iterdir())
    total = sum(p.stat().st_size for p in artifacts.features_dir.rglob("*") if p.is_file())
    print(f"stored images     {images / num_images:8.1f} B per image (PNG)")
    print(f"stored in all     {total / 2**20:8.2f} MiB for {num_images} images")


def main() -> None:
    """Parses arguments, times both sides interleaved and prints images/s, ratio and bytes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="tiny")
    parser.add_argument("--width", type=int, default=None, help="tiny only; default: the arch's")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=112)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    options = {"width": args.width} if args.width is not None else {}
    torch.manual_seed(0)
    model = build_model(args.arch, input_size=args.image_size, **options).to(device).eval()
    dataset = GeneratedImages(args.images, args.image_size)
    batches = [
        collate_samples(dataset.samples[i : i + args.batch_size]).images.to(device)
        for i in range(0, len(dataset), args.batch_size)
    ]
    spec = {"name": "builtin", "task": "single", "category": "bird", "seed": 0}
    config = {"dataset": {**spec, "image_size": args.image_size, "eval_size": args.images}}
    times: dict[str, list[float]] = {"forward": [], "precompute": []}
    with tempfile.TemporaryDirectory() as root:
        artifacts = RunArtifacts(Path(root), "bench")
        for repeat in range(1 + args.repeats):  # the first round warms both up
            forward = _forward(model, batches, device)
            precompute = _precompute(model, config, artifacts, dataset, args.batch_size)
            if repeat:
                times["forward"].append(forward)
                times["precompute"].append(precompute)
        print(
            f"arch={args.arch} device={device} images={len(dataset)} batch={args.batch_size} "
            f"size={args.image_size} repeats={args.repeats}"
        )
        rates = {name: len(dataset) / statistics.median(t) for name, t in times.items()}
        for name, rate in rates.items():
            print(f"{name:10s} {rate:9.1f} images/s  (median {len(dataset) / rate:.3f} s)")
        print(f"ratio precompute/forward {rates['precompute'] / rates['forward']:.3f}")
        _stored_bytes(artifacts, len(dataset))


if __name__ == "__main__":
    main()
