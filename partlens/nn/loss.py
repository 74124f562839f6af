"""The filter loss Loss_f = -MI(X; T) (paper Eq. 2-5, docs/method.md §3).

Two computations are offered:

- :func:`mutual_information_loss`: the exact -MI over a batch, every image against every
  template, with ``Z_T`` and ``p(x)`` taken over the batch and back-propagated by autograd.
- :func:`assigned_template_loss`: the paper's practical loss (Eq. 4). Each image only counts
  under its assigned template ``T_hat`` (``T_mu_hat`` for images of the filter's target
  category, ``T^-`` otherwise); ``Z_T`` and ``p(x)`` are constants supplied by the caller
  (running estimates across batches, footnote 2) and the gradient is exactly Eq. 4:
  ``p(T_hat) t_hat_ij / Z_T_hat * exp(tr(x . T_hat)) * {tr(x . T_hat) - log Z_T_hat - log p(x)}``,
  with the sign that *raises* the MI under gradient descent.

Everything is in log space: ``log p(x|T) = tr(x . T) - log Z_T`` with ``log Z_T`` by logsumexp,
so activations in the thousands neither overflow nor produce NaN, and all-zero maps give
``MI = 0``. ``tr(x . T)`` for all templates is one matmul of the flattened maps with the
``[N + 1, N]`` template matrix.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor


def template_scores(x: Tensor, flat_templates: Tensor) -> Tensor:
    """``tr(x . T)`` for every map and template: ``[B, F, H, W] x [K, H*W] -> [B, F, K]``."""
    if x.dim() != 4:
        raise ValueError(f"feature maps must be [B, F, H, W], got shape {tuple(x.shape)}")
    if flat_templates.shape[-1] != x.shape[2] * x.shape[3]:
        raise ValueError(
            f"templates cover {flat_templates.shape[-1]} positions but the maps have "
            f"{x.shape[2]}x{x.shape[3]}"
        )
    return x.flatten(2) @ flat_templates.to(x.dtype).t()


def _batch_log_likelihoods(x: Tensor, T: Tensor, prior: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``log p(x|T)`` ``[B, F, K]``, ``log p(x)`` ``[B, F]`` and ``log p(T)`` ``[K]``, with
    ``Z_T`` summed over the batch (dim 0), in float32 (float64 for float64 input)."""
    if T.dim() != 3 or prior.shape != (T.shape[0],):
        raise ValueError(
            f"T must be [K, H, W] with prior [K], got {tuple(T.shape)} and {tuple(prior.shape)}"
        )
    compute_dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    scores = template_scores(x.to(compute_dtype), T.reshape(T.shape[0], -1))
    # log p(x|T) = tr(x . T) - log Z_T.
    log_p_x_given_t = scores - torch.logsumexp(scores, dim=0, keepdim=True)
    log_prior = prior.to(compute_dtype).log()
    log_p_x = torch.logsumexp(log_p_x_given_t + log_prior, dim=-1)
    return log_p_x_given_t, log_p_x, log_prior


def mutual_information_loss(x: Tensor, T: Tensor, prior: Tensor) -> Tensor:
    """Exact ``Loss_f = -MI(X; T)`` per filter, ``Z_T`` and ``p(x)`` over the batch X.

    ``x``: post-ReLU maps ``[B, F, H, W]``; ``T``: ``[K, H, W]`` from
    :func:`partlens.nn.templates`; ``prior``: ``p(T)``, ``[K]``. Returns ``[F]``.
    """
    log_p_x_given_t, log_p_x, log_prior = _batch_log_likelihoods(x, T, prior)
    terms = log_prior.exp() * log_p_x_given_t.exp() * (log_p_x_given_t - log_p_x.unsqueeze(-1))
    return -terms.sum(dim=(0, 2))


class _AssignedMutualInformation(torch.autograd.Function):
    """Forward and hand-written backward of :func:`assigned_mutual_information_loss`.

    Autograd through the two logsumexps keeps about ten ``[B, F, K]`` intermediates and runs
    twice as many passes over them as the closed-form gradient below (docs/filter-loss.md).
    With ``l_bk = log p(x_b|T_k)``, ``q_k = log p(T_k)``, ``w_b = p(T_hat) p(x_b|T_hat)`` and
    the posterior ``r_bk = p(T_k|x_b)``, the loss ``-sum_b w_b (l_b,hat - log p(x_b))`` has
    ``dLoss/dl_bk = w_b r_bk - [k = hat] w_b (l_b,hat - log p(x_b) + 1)``, and since
    ``l_bk = s_bk - log Z_k``: ``dLoss/ds_bk = G_bk - p(x_b|T_k) sum_b' G_b'k``.

    Both logsumexps are written out so that their exponentials serve the backward pass too
    (two ``exp`` passes over ``[B, F, K]`` in all). Over the batch,
    ``e_bk = exp(s_bk - max_b s)`` with ``Z_k = sum_b e_bk`` gives ``p(x_b|T_k) = e_bk / Z_k``;
    over the templates, ``u_bk = exp(l_bk + q_k - max_k)`` with ``S_b = sum_k u_bk`` gives
    ``log p(x_b) = max_k + log S_b`` and ``r_bk = u_bk / S_b``. Each sum is at least 1 (its
    largest term is exp(0)), so the logs stay finite where a probability underflows; ``1 / Z``
    and ``1 / S`` are applied to ``[F, K]`` and ``[B, F]`` factors, not to the big tensors.
    """

    @staticmethod
    def forward(
        ctx: Any,
        flat_x: Tensor,
        flat_templates: Tensor,
        log_prior: Tensor,
        assigned: Tensor,
        scale: Tensor,
    ) -> Tensor:
        # The maps are scored at ``scale * x`` but the gradient reaches x unscaled (see
        # FilterObjective.loss_scale): the scale multiplies the scores, not the backward pass.
        scores = (flat_x @ flat_templates.t()).mul_(scale[:, None])
        shifted = scores.sub_(scores.amax(dim=0))  # s - max_b s, in place
        e = shifted.exp()
        z = e.sum(dim=0)
        log_z = z.log()
        index = assigned.unsqueeze(-1)
        log_z_hat = log_z.expand_as(shifted).gather(-1, index)
        log_hat = (shifted.gather(-1, index) - log_z_hat).squeeze(-1)  # log p(x|T_hat)
        # l + q = (s - max_b s) - (log Z - q): the prior joins an [F, K] term, not a pass.
        joint = shifted.sub_(log_z - log_prior)
        top = joint.amax(dim=-1, keepdim=True)
        u = joint.sub_(top).exp_()
        s = u.sum(dim=-1)
        log_p_x = top.squeeze(-1) + s.log()
        weight = (log_prior[assigned] + log_hat).exp()
        ctx.save_for_backward(flat_templates, index, e, z, u, s, log_p_x, log_hat, weight)
        return -(weight * (log_hat - log_p_x)).sum(dim=0)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        flat_templates, index, e, z, u, s, log_p_x, log_hat, weight = ctx.saved_tensors
        weighted = weight * grad
        # G = w r - [k = hat] w (l_hat - log p(x) + 1), with r = u / S.
        grad_lik = u * (weighted / s).unsqueeze(-1)
        hat_term = -weighted * (log_hat - log_p_x + 1.0)
        grad_lik.scatter_add_(-1, index, hat_term.unsqueeze(-1))
        # G - p(x|T) sum_b G, with p(x|T) = e / Z.
        grad_scores = grad_lik.addcmul_(e, grad_lik.sum(dim=0) / z, value=-1.0)
        return grad_scores @ flat_templates, None, None, None, None


def assigned_mutual_information_loss(
    x: Tensor, T: Tensor, prior: Tensor, assigned: Tensor, scale: Tensor | None = None
) -> Tensor:
    """The MI terms of each image's assigned template, exact over the batch, per filter ``[F]``.

    ``-sum_x p(T_hat) p(x|T_hat) log[p(x|T_hat) / p(x)]`` with ``T_hat`` given per image and
    filter by ``assigned`` ``[B, F]`` (mu_hat for images of the filter's target category,
    ``K - 1`` = T^- otherwise; paper Eq. 4's assignment), and ``Z_T`` and ``p(x)`` over the
    batch, back-propagated exactly (a closed-form gradient, no autograd graph). Unlike
    :func:`mutual_information_loss` it knows the labels: a filter that fires on other
    categories' images and is silent on its own scores badly, while the label-free MI rewards
    either. ``x``: ``[B, F, H, W]``; ``T``: ``[K, H, W]`` or flattened ``[K, H*W]``.
    ``scale``: a detached factor per filter ``[F]`` (or a scalar) at which x is scored while
    its gradient reaches x unscaled (default 1).
    """
    if assigned.shape != x.shape[:2]:
        raise ValueError(
            f"assigned must be [B, F] = {tuple(x.shape[:2])}, got {tuple(assigned.shape)}"
        )
    if prior.shape != (T.shape[0],):
        raise ValueError(f"prior must be [K] = [{T.shape[0]}], got {tuple(prior.shape)}")
    compute_dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    flat_t = T.reshape(T.shape[0], -1).to(compute_dtype)
    if flat_t.shape[-1] != x.shape[2] * x.shape[3]:
        raise ValueError(
            f"templates cover {flat_t.shape[-1]} positions but the maps have "
            f"{x.shape[2]}x{x.shape[3]}"
        )
    factor = torch.ones((), device=x.device) if scale is None else scale.detach()
    factor = factor.to(compute_dtype).expand(x.shape[1])
    loss: Tensor = _AssignedMutualInformation.apply(
        x.to(compute_dtype).flatten(2), flat_t, prior.to(compute_dtype).log(), assigned, factor
    )
    return loss


def batch_log_mean_exp(scores: Tensor) -> Tensor:
    """``log mean_x exp(tr(x . T))`` over the batch: ``[B, F, K] -> [F, K]`` (no gradient)."""
    scores = scores.detach()
    return torch.logsumexp(scores, dim=0) - math.log(scores.shape[0])


def assigned_template_loss(
    scores: Tensor, assigned: Tensor, prior: Tensor, log_mean_exp: Tensor
) -> Tensor:
    """Eq. 4 loss per filter: each image under its assigned template T_hat only.

    ``scores``: ``tr(x . T)`` ``[B, F, K]``; ``assigned``: template index per image and filter
    ``[B, F]`` (mu_hat for target-category images, ``K - 1`` = T^- otherwise);
    ``log_mean_exp``: the running ``log mean_x exp(tr(x . T))`` ``[F, K]``, so that
    ``log Z_T = log B + log_mean_exp`` (Z_T scaled to the batch, keeping the loss magnitude
    independent of the dataset size). Z_T and p(x) are constants, as in the paper.

    The value is ``-sum_x p(T_hat) p(x|T_hat) log[p(x|T_hat) / p(x)]``; the gradient on x is
    Eq. 4 (without the ``+1`` that cancels in the exact sum over x).
    """
    batch = scores.shape[0]
    log_prior = prior.to(scores.dtype).log()
    with torch.no_grad():
        log_p_x_given_t = scores - (log_mean_exp.to(scores.dtype) + math.log(batch))
        log_p_x = torch.logsumexp(log_p_x_given_t + log_prior, dim=-1)
        log_p_x_given_hat = log_p_x_given_t.gather(-1, assigned.unsqueeze(-1)).squeeze(-1)
        weight = log_prior[assigned].exp() * log_p_x_given_hat.exp() * (log_p_x_given_hat - log_p_x)
        value = -weight.sum(dim=0)
    score_hat = scores.gather(-1, assigned.unsqueeze(-1)).squeeze(-1)
    # d(surrogate)/dx = -weight * t_hat: exactly Eq. 4, with its value replaced by the -MI term.
    surrogate = -(weight * score_hat).sum(dim=0)
    return value + surrogate - surrogate.detach()


def update_log_mean_exp(running: Tensor, batch_value: Tensor, momentum: float) -> Tensor:
    """Exponential moving average of ``mean exp(tr(x . T))``, kept in log space."""
    return torch.logaddexp(running + math.log1p(-momentum), batch_value + math.log(momentum))


def lambda_schedule(
    weight: float, mean_max_activation: float | Tensor, epoch: int
) -> float | Tensor:
    """The paper's ``lambda = weight * (1/t) * mean_x max_ij x_ij`` in epoch t (1-based)."""
    if epoch < 1:
        raise ValueError(f"epoch is 1-based, got {epoch}")
    return weight * mean_max_activation / epoch
