import math

import pytest
import torch

from partlens.nn import (
    assigned_mutual_information_loss,
    assigned_template_loss,
    mutual_information_loss,
    template_scores,
    templates,
)
from partlens.nn.loss import batch_log_mean_exp, lambda_schedule


def direct_minus_mi(x, T, prior):
    """Independent float64 -MI per filter, straight from the definition (no log space)."""
    x, T, prior = x.double(), T.double(), prior.double()
    batch, filters = x.shape[:2]
    result = []
    for f in range(filters):
        e = torch.stack(
            [
                torch.stack([torch.exp((x[b, f] * T[k]).sum()) for k in range(len(T))])
                for b in range(batch)
            ]
        )
        p_x_t = e / e.sum(dim=0, keepdim=True)
        p_x = (p_x_t * prior).sum(dim=1, keepdim=True)
        result.append(-(prior * p_x_t * torch.log(p_x_t / p_x)).sum())
    return torch.stack(result)


def test_matches_direct_computation():
    torch.manual_seed(0)
    T, prior = templates(3, 3, tau=0.4)
    x = torch.rand(5, 2, 3, 3, dtype=torch.float64) * 3
    assert torch.allclose(mutual_information_loss(x, T, prior), direct_minus_mi(x, T, prior))


def test_gradient_matches_finite_differences():
    torch.manual_seed(1)
    T, prior = templates(3, 3, tau=0.3)
    x = (torch.rand(4, 2, 3, 3, dtype=torch.float64) * 2).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda v: mutual_information_loss(v, T.double(), prior.double()), (x,)
    )


def test_stable_for_huge_and_zero_inputs():
    T, prior = templates(7, 7)
    huge = torch.zeros(4, 3, 7, 7)
    huge[:, :, 2, 3] = 1e4
    huge[0, 0] = 1e4
    huge.requires_grad_()
    loss = mutual_information_loss(huge, T, prior)
    loss.sum().backward()
    assert torch.isfinite(loss).all() and torch.isfinite(huge.grad).all()
    zeros = torch.zeros(4, 3, 7, 7)
    assert torch.allclose(mutual_information_loss(zeros, T, prior), torch.zeros(3), atol=1e-7)


def test_prefers_one_peak_over_spread_or_repeated():
    n = 7
    T, prior = templates(n, n, tau=1.0)
    batch = 8
    peaked = torch.zeros(batch, 1, n, n)
    spread = torch.zeros(batch, 1, n, n)
    repeated = torch.zeros(batch, 1, n, n)
    for b in range(batch):
        i, j = b % n, (2 * b) % n
        peaked[b, 0, i, j] = 9.0
        spread[b, 0] = 9.0 / (n * n)
        repeated[b, 0, i, j] = repeated[b, 0, (i + 3) % n, (j + 3) % n] = 4.5
    peaked_loss = mutual_information_loss(peaked, T, prior).item()
    assert peaked_loss < mutual_information_loss(spread, T, prior).item()
    assert peaked_loss < mutual_information_loss(repeated, T, prior).item()


def test_negatives_prefer_silence():
    n = 5
    T, prior = templates(n, n, tau=1.0)
    positives = torch.zeros(4, 1, n, n)
    positives[:, 0, 2, 2] = 6.0
    silent = torch.cat([positives, torch.zeros(4, 1, n, n)])
    active = torch.cat([positives, torch.full((4, 1, n, n), 0.5)])
    assert mutual_information_loss(silent, T, prior) < mutual_information_loss(active, T, prior)


def test_assigned_loss_gradient_is_eq4():
    torch.manual_seed(2)
    n = 4
    T, prior = templates(n, n, tau=0.5)
    flat = T.reshape(len(T), -1).double()
    x = (torch.rand(3, 2, n, n, dtype=torch.float64) * 2).requires_grad_()
    scores = template_scores(x, flat)
    log_mean_exp = batch_log_mean_exp(scores)
    assigned = torch.tensor([[5, 16], [16, 0], [3, 16]])
    loss = assigned_template_loss(scores, assigned, prior.double(), log_mean_exp)
    loss.sum().backward()
    # Eq. 4 by hand: -p(T) t_hat / Z * exp(tr) * (tr - log Z - log p(x)).
    log_z = log_mean_exp + math.log(3)
    expected = torch.zeros_like(x)
    value = torch.zeros(2, dtype=torch.float64)
    for b in range(3):
        for f in range(2):
            k = assigned[b, f]
            s = scores[b, f].detach()
            log_p_x = torch.logsumexp(prior.double().log() + s - log_z[f], dim=0)
            term = prior[k] * torch.exp(s[k] - log_z[f, k]) * (s[k] - log_z[f, k] - log_p_x)
            expected[b, f] = -term * T[k].double()
            value[f] -= term
    assert torch.allclose(x.grad, expected)
    assert torch.allclose(loss.detach(), value)


def direct_assigned_terms(x, T, prior, assigned):
    """Independent float64 assigned-template -MI per filter, from the definition."""
    x, T, prior = x.double(), T.double(), prior.double()
    batch, filters = x.shape[:2]
    result = []
    for f in range(filters):
        e = torch.exp(torch.einsum("bhw,khw->bk", x[:, f], T))
        p_x_t = e / e.sum(dim=0, keepdim=True)
        p_x = (p_x_t * prior).sum(dim=1)
        k = assigned[:, f]
        hat = p_x_t[torch.arange(batch), k]
        result.append(-(prior[k] * hat * torch.log(hat / p_x)).sum())
    return torch.stack(result)


def test_assigned_mi_matches_direct_computation_and_finite_differences():
    torch.manual_seed(3)
    T, prior = templates(3, 3, tau=0.4)
    x = (torch.rand(5, 2, 3, 3, dtype=torch.float64) * 3).requires_grad_()
    assigned = torch.tensor([[4, 9], [9, 0], [2, 9], [9, 9], [8, 3]])
    loss = assigned_mutual_information_loss(x, T, prior, assigned)
    assert torch.allclose(loss, direct_assigned_terms(x, T, prior, assigned))
    assert torch.autograd.gradcheck(
        lambda v: assigned_mutual_information_loss(v, T.double(), prior.double(), assigned), (x,)
    )


def test_assigned_mi_knows_which_images_are_the_filters_category():
    n = 5
    T, prior = templates(n, n, tau=1.0)
    negative = len(T) - 1
    # Filter 0 fires at one place on its category's images and is silent on the others;
    # filter 1 does the reverse. The label-free MI cannot tell them apart.
    x = torch.zeros(8, 2, n, n)
    x[:4, 0, 1, 3] = 6.0
    x[4:, 1, 1, 3] = 6.0
    assigned = torch.full((8, 2), negative)
    assigned[:4] = 1 * n + 3
    loss = assigned_mutual_information_loss(x, T, prior, assigned)
    assert loss[0] < loss[1]
    exact = mutual_information_loss(x, T, prior)
    assert torch.allclose(exact[0], exact[1])


def test_assigned_mi_is_stable_and_checks_shapes():
    T, prior = templates(7, 7)
    huge = torch.zeros(4, 3, 7, 7)
    huge[:, :, 2, 3] = 1e4
    huge.requires_grad_()
    assigned = torch.full((4, 3), 2 * 7 + 3)
    loss = assigned_mutual_information_loss(huge, T, prior, assigned)
    loss.sum().backward()
    assert torch.isfinite(loss).all() and torch.isfinite(huge.grad).all()
    with pytest.raises(ValueError, match="assigned must be"):
        assigned_mutual_information_loss(torch.zeros(4, 3, 7, 7), T, prior, assigned[:2])


def test_lambda_schedule():
    assert lambda_schedule(2.0, 3.0, 1) == pytest.approx(6.0)
    assert lambda_schedule(2.0, 3.0, 3) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="epoch"):
        lambda_schedule(1.0, 1.0, 0)


def test_shape_errors():
    T, prior = templates(3, 3)
    with pytest.raises(ValueError, match="positions"):
        mutual_information_loss(torch.zeros(2, 1, 4, 4), T, prior)
    with pytest.raises(ValueError, match="B, F, H, W"):
        mutual_information_loss(torch.zeros(2, 3, 3), T, prior)


def autograd_assigned_terms(x, T, prior, assigned, scale):
    # The loss through autograd on the rescaled map (the formulation the closed-form gradient
    # replaced): scored at scale * x, the gradient reaching x unscaled.
    scaled = x + (x * (scale - 1.0)).detach()
    scores = scaled.flatten(2) @ T.reshape(len(T), -1).t()
    log_lik = scores - torch.logsumexp(scores, dim=0, keepdim=True)
    log_p_x = torch.logsumexp(log_lik + prior.log(), dim=-1)
    hat = log_lik.gather(-1, assigned.unsqueeze(-1)).squeeze(-1)
    return -(prior[assigned] * hat.exp() * (hat - log_p_x)).sum(dim=0)


def test_assigned_mi_closed_form_gradient_matches_autograd_with_a_scale():
    torch.manual_seed(4)
    T, prior = templates(4, 4)
    x = (torch.rand(6, 3, 4, 4, dtype=torch.float64) * 2).requires_grad_()
    assigned = torch.randint(0, len(T), (6, 3))
    scale = torch.tensor(40.0, dtype=torch.float64)
    weights = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    loss = assigned_mutual_information_loss(x, T, prior, assigned, scale)
    (grad,) = torch.autograd.grad((loss * weights).sum(), x)
    reference = autograd_assigned_terms(x, T.double(), prior.double(), assigned, scale)
    (expected,) = torch.autograd.grad((reference * weights).sum(), x)
    assert torch.allclose(loss, reference) and torch.allclose(grad, expected)
    # A flattened [K, H*W] template matrix gives the same numbers.
    flat = assigned_mutual_information_loss(x, T.reshape(len(T), -1), prior, assigned, scale)
    assert torch.allclose(flat, loss)


@pytest.mark.parametrize("prior_kind", ["paper", "skewed", "with-a-zero"])
def test_assigned_mi_matches_autograd_for_any_prior(prior_kind):
    # The closed form folds log p(T) into its [F, K] normaliser term: check it against the
    # autograd formulation for priors other than the paper's uniform one.
    torch.manual_seed(6)
    T, prior = templates(4, 4)
    prior = prior.double()
    if prior_kind != "paper":
        prior = torch.rand(len(T), dtype=torch.float64) + 0.1
        if prior_kind == "with-a-zero":
            prior[3] = 0.0
        prior = prior / prior.sum()
    x = (torch.rand(6, 3, 4, 4, dtype=torch.float64) * 3).requires_grad_()
    assigned = torch.randint(0, len(T), (6, 3))
    assigned[0] = 3  # the zero-prior template, where there is one
    scale = torch.tensor(20.0, dtype=torch.float64)
    weights = torch.tensor([1.0, -0.5, 2.0], dtype=torch.float64)
    loss = assigned_mutual_information_loss(x, T, prior, assigned, scale)
    (grad,) = torch.autograd.grad((loss * weights).sum(), x)
    reference = autograd_assigned_terms(x, T.double(), prior, assigned, scale)
    (expected,) = torch.autograd.grad((reference * weights).sum(), x)
    assert torch.isfinite(loss).all() and torch.isfinite(grad).all()
    assert torch.allclose(loss, reference) and torch.allclose(grad, expected)


def test_assigned_mi_stays_finite_where_an_image_is_unlikely_under_every_template():
    # Every 7 x 7 template sums to less than 0, so a uniform map of 1e4 scores about -3e3
    # under each while the all-zero map scores 0: p(x_1|T) underflows for every T (also in
    # float64), and log p(x_1) must come from log space, not from log(sum p(x|T) p(T)).
    T, prior = templates(7, 7)
    assert (T.flatten(1).sum(dim=1) < 0).all()
    torch.manual_seed(7)
    x = torch.zeros(4, 2, 7, 7)
    x[1] = 1e4
    x[2:] = torch.rand(2, 2, 7, 7) * 400
    x.requires_grad_()
    assigned = torch.tensor([[48, 49], [10, 49], [24, 3], [49, 30]])
    loss = assigned_mutual_information_loss(x, T, prior, assigned)
    (grad,) = torch.autograd.grad(loss.sum(), x)
    reference = autograd_assigned_terms(
        x.double(), T.double(), prior.double(), assigned, torch.tensor(1.0, dtype=torch.float64)
    )
    (expected,) = torch.autograd.grad(reference.sum(), x)
    assert torch.isfinite(loss).all() and torch.isfinite(grad).all()
    torch.testing.assert_close(loss.double(), reference, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(grad, expected.float(), rtol=1e-4, atol=1e-8)
    assert grad[1].abs().max() == 0  # an image no template explains gets no gradient
