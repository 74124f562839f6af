"""Deterministic kernels for a training run (``TrainConfig.deterministic``).

On CPU a run is deterministic for a given seed and thread count without this: every kernel
the step uses (conv, matmul, argmax, gather and their backward passes) reduces in a fixed
order for a fixed number of threads. On CUDA several backward kernels (atomic adds in
``scatter_add`` / ``index_add``, cuDNN's auto-tuned convolution algorithms, split-K cuBLAS
GEMMs) are not, so two runs drift apart at the level of float rounding, and the filter loss
(an argmax on every map) turns that drift into different part assignments. The flag asks
PyTorch for deterministic kernels only; its cost is documented in ``docs/filter-loss.md``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

# cuBLAS needs a fixed workspace to be reproducible; it is read when the first handle is made.
CUBLAS_WORKSPACE = ":4096:8"


@contextmanager
def deterministic_kernels(enabled: bool) -> Iterator[None]:
    """While active, PyTorch uses deterministic algorithms only (when ``enabled``).

    Ops without a deterministic kernel warn instead of failing the run (``warn_only``), and
    cuDNN's benchmark mode is off. The previous global settings come back on exit, so one
    run's choice does not leak into the next run of the same process.
    """
    if not enabled:
        yield
        return
    previous = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.benchmark,
        torch.backends.cudnn.deterministic,
    )
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.benchmark = previous[2]
        torch.backends.cudnn.deterministic = previous[3]
