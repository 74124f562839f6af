"""Reproduce the paper's comparison on the built-in dataset and print its tables.

Trains interpretable and ordinary twins of ``--arch`` (single-category for every built-in
category, plus multi-category softmax) from one pretrained backbone, evaluates both with the
paper's metrics and prints paper-style tables with ratio columns. ``--budget small`` is sized for
under 25 minutes on 2 CPU cores (including the first, uncached backbone pretraining).

    .venv/bin/python bench/reproduce.py --arch tiny --budget small --json /tmp/reproduce.json

On a machine shared with other CPU jobs, ``--threads 1`` avoids thread oversubscription (with
another 2-thread job on 2 cores, one thread trained tiny at 100 images/s, two at 30).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from partlens.runs.reproduce import reproduce


def main() -> None:
    """Parses arguments, runs the reproduction with timestamped progress, prints the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="tiny")
    parser.add_argument("--budget", default="small", choices=["small", "paper"])
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--data-dir", type=Path, default=Path("partlens-data"))
    parser.add_argument("--weights", type=Path, default=None, help="backbone to start from")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (1 on a shared machine)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()

    def say(message: str) -> None:
        print(f"[{time.perf_counter() - start:7.1f}s] {message}", flush=True)

    result = reproduce(
        args.arch,
        args.budget,
        data_dir=args.data_dir,
        json_path=args.json,
        weights=args.weights,
        progress=say,
        seed=args.seed,
        device=args.device,
    )
    print(json.dumps(result["targets"], indent=2))
    print(f"wall time: {result['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
