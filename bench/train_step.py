"""Median training-step time of the interpretable net vs its ordinary twin (same arch, batch).

Both twins are stepped alternately in one process (interleaved, so machine noise hits both),
and the ratio of the medians is printed with each twin's quartiles (the spread a shared
machine adds). The target is <= 1.05 (issue 15). ``--compile`` adds both twins with their
forward pass and filter loss under ``torch.compile`` (``TrainConfig.compile``; compiled in the
first warm-up step).

    .venv/bin/python bench/train_step.py                       # tiny on CPU, 112 px
    .venv/bin/python bench/train_step.py --arch vgg16 --device cuda --amp --batch-size 32
    .venv/bin/python bench/train_step.py --profile    # plus a profile of both twins' steps
    .venv/bin/python bench/train_step.py --compile    # plus both twins compiled
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from partlens.models import build_model
from partlens.nn import DEFAULT_FILTER_LOSS, filter_loss_names
from partlens.training.compiled import CompiledModel
from partlens.training.determinism import deterministic_kernels
from partlens.training.loop import TrainConfig, resolve_device, train_step

# kind -> (interpretable, compiled)
KINDS = {
    "ordinary": (False, False),
    "interpretable": (True, False),
    "ordinary-c": (False, True),
    "interpretable-c": (True, True),
}


class SyntheticBatch:
    """A batch with the fields the training step reads (images, labels)."""

    def __init__(self, batch_size: int, size: int, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.images = torch.randn(batch_size, 3, size, size, generator=generator)
        self.labels = torch.randint(0, 2, (batch_size,), generator=generator)


def _twin(args: argparse.Namespace, device: torch.device, kind: str) -> tuple:
    """A fresh model of one kind (same seed for all), its SGD optimizer and, for the compiled
    kinds, its :class:`CompiledModel` (else None)."""
    interpretable, compiled = KINDS[kind]
    torch.manual_seed(0)
    model = build_model(args.arch, interpretable=interpretable, num_classes=1).to(device)
    if device.type == "cuda" and args.amp:
        model.to(memory_format=torch.channels_last)
    if interpretable:
        model.configure_filter_loss(args.filter_loss)
    model.train()
    functions = CompiledModel(model) if compiled else None
    return model, torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9), functions


def main() -> None:
    """Parses arguments, times both twins interleaved and prints medians, ratio, images/s."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="tiny")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--image-size", type=int, default=None, help="default: the arch's")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--amp", action="store_true", help="bf16 autocast + channels_last")
    parser.add_argument("--filter-loss", default=DEFAULT_FILTER_LOSS, choices=filter_loss_names())
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--deterministic", action="store_true", help="deterministic kernels only (CUDA cost)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="torch.profiler table of both twins' steps"
    )
    parser.add_argument(
        "--compile", action="store_true", help="also both twins under torch.compile"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    config = TrainConfig(
        epochs=1,
        batch_size=args.batch_size,
        device=str(device),
        amp=args.amp,
        channels_last=args.amp,
        filter_loss=args.filter_loss,
    )
    kinds = list(KINDS) if args.compile else ["ordinary", "interpretable"]
    twins = {kind: _twin(args, device, kind) for kind in kinds}
    size = args.image_size or twins["interpretable"][0].input_size
    batch = SyntheticBatch(args.batch_size, size, seed=0)
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    with deterministic_kernels(args.deterministic):
        _time_interleaved(args, twins, batch, config, device, times)
    print(
        f"arch={args.arch} device={device} batch={args.batch_size} size={size} "
        f"amp={args.amp} filter_loss={args.filter_loss} steps={args.steps} "
        f"deterministic={args.deterministic} threads={torch.get_num_threads()}"
    )
    medians = {kind: statistics.median(times[kind]) for kind in kinds}
    for kind in kinds:
        rate = args.batch_size / medians[kind]
        q1, _, q3 = statistics.quantiles(times[kind], n=4)
        print(
            f"median step {kind:15s} {medians[kind] * 1e3:9.2f} ms  ({rate:8.1f} images/s)"
            f"  quartiles {q1 * 1e3:.2f}-{q3 * 1e3:.2f} ms"
        )
    print(f"ratio interpretable/ordinary {medians['interpretable'] / medians['ordinary']:.3f}")
    if args.compile:
        compiled_ratio = medians["interpretable-c"] / medians["ordinary-c"]
        print(f"ratio interpretable-c/ordinary-c {compiled_ratio:.3f}")
        for kind in ("ordinary", "interpretable"):
            print(f"compiled/eager {kind} {medians[kind + '-c'] / medians[kind]:.3f}")
    if args.profile:
        for kind in kinds:
            _profile(twins[kind], batch, config, device, kind)


def _step(twin: tuple, batch: SyntheticBatch, config: TrainConfig, device) -> None:
    """One training step with its values read, as the training loop does."""
    model, optimizer, compiled = twin
    train_step(model, optimizer, batch, config, 1, device, compiled=compiled).read()


def _time_interleaved(args, twins, batch, config, device, times) -> None:
    """Steps the twins in turn, rotating who goes first (warm-up steps untimed; the compiled
    twin compiles in its first), appending to ``times``."""
    kinds = list(twins)
    for step in range(args.warmup + args.steps):
        shift = step % len(kinds)
        for kind in kinds[shift:] + kinds[:shift]:
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            _step(twins[kind], batch, config, device)
            if device.type == "cuda":
                torch.cuda.synchronize()
            if step >= args.warmup:
                times[kind].append(time.perf_counter() - start)


def _profile(twin: tuple, batch: SyntheticBatch, config: TrainConfig, device, kind: str):
    """Print the operators that take the most self time over five steps of one twin."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(ProfilerActivity.CUDA)
    with profile(activities=activities) as prof:
        for _ in range(5):
            _step(twin, batch, config, device)
        if device.type == "cuda":
            torch.cuda.synchronize()
    sort = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    print(f"\n--- profile, {kind} twin, 5 steps")
    print(prof.key_averages().table(sort_by=sort, row_limit=15))


if __name__ == "__main__":
    main()
