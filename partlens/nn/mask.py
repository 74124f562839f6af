"""The part mask of the forward pass (paper Sec. 3.1, Fig. 4; docs/method.md §2.3).

``x_masked = relu(x * shape(T_mu_hat))`` with ``mu_hat = argmax_ij x_ij`` per image and filter.
The mask uses the template *shape* ``max(1 - beta * d / n, -1)`` without tau (as the official
code does), so that activation magnitudes are kept; tau only enters the loss. The mask is a
constant with respect to mu_hat: the task loss flows through ``x`` only. Since x is a post-ReLU
map (non-negative), ``relu(x * m) = x * max(m, 0)``: the mask is clamped once (and cached)
instead of a ReLU over every map and its backward pass, the same values and, through the
layer's ReLU, the same gradients.

``position="centroid"`` and ``adaptive_beta=True`` follow the MATLAB code (the ``official``
loss variant): mu is the activation-weighted centroid (rounded) and the template lives in
normalised coordinates (``linspace(-1, 1, n)``) with a
per-filter beta (init 2) pulled, on training batches, toward ``clamp(3 / spatial std, 1.5, 3)``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from partlens.nn.templates import template_shapes

POSITIONS = ("argmax", "centroid")
BETA_MOMENTUM = 0.1


def _grid(n_h: int, n_w: int, device: torch.device, *, normalised: bool) -> tuple[Tensor, Tensor]:
    """Row and column coordinate of every position (row-major), in units or in [-1, 1]."""
    if normalised:
        # Made on the device: a host tensor moved there would be a blocking copy every step.
        rows = (
            torch.linspace(-1.0, 1.0, n_h, device=device)
            if n_h > 1
            else torch.zeros(1, device=device)
        )
        cols = (
            torch.linspace(-1.0, 1.0, n_w, device=device)
            if n_w > 1
            else torch.zeros(1, device=device)
        )
    else:
        rows = torch.arange(n_h, device=device, dtype=torch.float32)
        cols = torch.arange(n_w, device=device, dtype=torch.float32)
    return rows.repeat_interleave(n_w), cols.repeat(n_h)


def part_positions(x: Tensor, position: str = "argmax") -> Tensor:
    """mu_hat per image and filter as a row-major index ``[B, F]``.

    ``"argmax"``: the paper's ``argmax_ij x_ij``; ``"centroid"``: the activation-weighted
    centroid rounded to the nearest unit (all-zero maps fall back to the argmax).
    """
    if position not in POSITIONS:
        raise ValueError(f"position must be one of {POSITIONS}, got {position!r}")
    flat = x.detach().flatten(2)
    argmax = flat.argmax(dim=-1)
    if position == "argmax":
        return argmax
    n_h, n_w = x.shape[-2:]
    rows, cols = _grid(n_h, n_w, x.device, normalised=False)
    mass = flat.float().sum(dim=-1)
    safe_mass = mass.clamp_min(torch.finfo(torch.float32).tiny)
    row = ((flat.float() @ rows) / safe_mass).round().clamp(0, n_h - 1).long()
    col = ((flat.float() @ cols) / safe_mass).round().clamp(0, n_w - 1).long()
    return torch.where(mass > 0, row * n_w + col, argmax)


class PartMask(nn.Module):
    """Masks each filter's map with the template shape at its inferred part position mu_hat."""

    filter_beta: Tensor

    def __init__(
        self,
        channels: int,
        *,
        beta: float = 4.0,
        norm: str = "l1",
        position: str = "argmax",
        adaptive_beta: bool = False,
    ) -> None:
        super().__init__()
        if position not in POSITIONS:
            raise ValueError(f"position must be one of {POSITIONS}, got {position!r}")
        self.beta = beta
        self.norm = norm
        self.position = position
        # The official code's per-filter beta (init 2), pulled toward the maps' spatial spread
        # on training batches; the paper's mask uses the fixed ``beta``.
        self.adaptive_beta = adaptive_beta
        self.register_buffer("filter_beta", torch.full((channels,), 2.0))
        self._shape_cache: dict[tuple[int, int, str], Tensor] = {}

    def _shapes(self, n_h: int, n_w: int, device: torch.device) -> Tensor:
        key = (n_h, n_w, str(device))
        if key not in self._shape_cache:
            shapes = template_shapes(n_h, n_w, beta=self.beta, norm=self.norm)
            positive = shapes.reshape(n_h * n_w, n_h * n_w).clamp_min(0.0).to(device)
            if torch.compiler.is_compiling():
                # A constant of the graph: filling the cache from inside it would fail the
                # graph's guard on the cache and recompile it at the next call.
                return positive
            self._shape_cache[key] = positive
        return self._shape_cache[key]

    def _adaptive_beta_mask(self, x: Tensor, mu: Tensor) -> Tensor:
        n_h, n_w = x.shape[-2:]
        rows, cols = _grid(n_h, n_w, x.device, normalised=True)
        distance = (rows[mu].unsqueeze(-1) - rows).abs() + (cols[mu].unsqueeze(-1) - cols).abs()
        if self.training:
            self._pull_beta(x, rows, cols)
        beta = self.filter_beta.to(x.device)[None, :, None]
        return torch.clamp(1.0 - beta * distance, min=0.0)

    @torch.no_grad()
    def _pull_beta(self, x: Tensor, rows: Tensor, cols: Tensor) -> None:
        # Spatial std of each map's activation mass, averaged over the batch (normalised units).
        flat = x.detach().float().flatten(2)
        weights = flat / flat.sum(dim=-1, keepdim=True).clamp_min(1e-12)
        mean_r, mean_c = weights @ rows, weights @ cols
        var = weights @ (rows**2) - mean_r**2 + weights @ (cols**2) - mean_c**2
        std = var.clamp_min(1e-6).sqrt().mean(dim=0)
        target = (3.0 / std).clamp(1.5, 3.0)
        self.filter_beta.lerp_(target.to(self.filter_beta.dtype), BETA_MOMENTUM)

    def forward(self, x: Tensor) -> Tensor:
        """``relu(x * shape(T_mu_hat))`` for non-negative (post-ReLU) ``x``, computed as
        ``x * max(shape, 0)``; the mask itself carries no gradient."""
        mu = part_positions(x, self.position)
        if self.adaptive_beta:
            mask = self._adaptive_beta_mask(x, mu)
        else:
            mask = self._shapes(x.shape[-2], x.shape[-1], x.device)[mu]
        return x * mask.view_as(x).to(x.dtype)
