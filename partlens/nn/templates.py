"""Part templates T and their prior p(T) (paper Sec. 3.1, docs/method.md §2).

For an n x n map the paper defines n^2 positive templates, one per position mu,
``t_ij = tau * max(1 - beta * ||(i, j) - mu||_1 / n, -1)``, and one negative template
``t_ij = -tau``, with ``tau = 0.5 / n^2`` and ``p(T^-) = 1 - alpha``, ``p(T_mu) = alpha / n^2``,
``alpha = n^2 / (1 + n^2)``.

Non-square maps (n_h x n_w) generalise it by measuring each axis in units of its own side,
``d = |i - mu_i| / n_h + |j - mu_j| / n_w`` (``sqrt`` of the squared terms for ``norm="l2"``),
and by replacing n^2 with the number of positions ``N = n_h * n_w`` in tau and alpha. For
square maps this is exactly the paper's formula.
"""

from __future__ import annotations

import torch
from torch import Tensor

NORMS = ("l1", "l2")


def template_distances(n_h: int, n_w: int, *, norm: str = "l1") -> Tensor:
    """Normalised distance ``||(i, j) - mu|| / n`` between every mu and every (i, j).

    Returns ``[N, N]`` (rows: mu in row-major order, columns: positions in row-major order).
    """
    if n_h < 1 or n_w < 1:
        raise ValueError(f"map size must be positive, got n_h={n_h}, n_w={n_w}")
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
    rows = torch.arange(n_h, dtype=torch.float64).repeat_interleave(n_w) / n_h
    cols = torch.arange(n_w, dtype=torch.float64).repeat(n_h) / n_w
    d_rows = (rows[:, None] - rows[None, :]).abs()
    d_cols = (cols[:, None] - cols[None, :]).abs()
    if norm == "l1":
        return (d_rows + d_cols).float()
    return torch.sqrt(d_rows**2 + d_cols**2).float()


def template_shapes(n_h: int, n_w: int, *, beta: float = 4.0, norm: str = "l1") -> Tensor:
    """Template shapes ``max(1 - beta * d, -1)`` without tau, one per mu: ``[N, n_h, n_w]``.

    These are the mask values of the forward pass (docs/method.md §2.3: the scale without tau keeps
    activation magnitudes).
    """
    shapes = torch.clamp(1.0 - beta * template_distances(n_h, n_w, norm=norm), min=-1.0)
    return shapes.reshape(n_h * n_w, n_h, n_w)


def templates(
    n_h: int,
    n_w: int,
    *,
    beta: float = 4.0,
    tau: float | None = None,
    norm: str = "l1",
) -> tuple[Tensor, Tensor]:
    """The templates T (positive T_mu in row-major order of mu, then T^-) and the prior p(T).

    Returns ``(T, prior)`` with ``T: [N + 1, n_h, n_w]`` and ``prior: [N + 1]``, N = n_h * n_w.
    ``tau`` defaults to the paper's ``0.5 / N``; ``alpha = N / (1 + N)`` makes all N + 1
    templates equally likely.
    """
    if n_h < 1 or n_w < 1:
        raise ValueError(f"map size must be positive, got n_h={n_h}, n_w={n_w}")
    n_positions = n_h * n_w
    tau = 0.5 / n_positions if tau is None else float(tau)
    if tau <= 0:
        raise ValueError(f"tau must be positive, got {tau}")
    positive = tau * template_shapes(n_h, n_w, beta=beta, norm=norm)
    negative = torch.full((1, n_h, n_w), -tau)
    alpha = n_positions / (1.0 + n_positions)
    prior = torch.cat(
        [torch.full((n_positions,), alpha / n_positions), torch.tensor([1.0 - alpha])]
    )
    return torch.cat([positive, negative]), prior
