import pytest
import torch

from partlens.nn import template_shapes, templates


@pytest.mark.parametrize("n", [1, 2, 3, 7, 14])
def test_templates_match_the_paper_formula(n):
    T, prior = templates(n, n)
    tau, beta = 0.5 / n**2, 4.0
    assert T.shape == (n * n + 1, n, n)
    for mu_index in range(n * n):
        a, b = divmod(mu_index, n)
        for i in range(n):
            for j in range(n):
                expected = tau * max(1 - beta * (abs(i - a) + abs(j - b)) / n, -1)
                assert T[mu_index, i, j].item() == pytest.approx(expected, abs=1e-7)
    assert torch.allclose(T[-1], torch.full((n, n), -tau))
    alpha = n**2 / (1 + n**2)
    assert torch.allclose(prior[:-1], torch.full((n * n,), alpha / n**2))
    assert prior[-1].item() == pytest.approx(1 - alpha)
    assert prior.sum().item() == pytest.approx(1.0)
    # No template is all zero (a defect of a public port).
    assert (T.flatten(1).abs().sum(dim=1) > 0).all()


def test_l2_templates_are_round():
    T, _ = templates(7, 7, norm="l2", tau=1.0)
    centre = 3 * 7 + 3
    distance = ((3 - 0) ** 2 + (3 - 1) ** 2) ** 0.5 / 7
    assert T[centre, 0, 1].item() == pytest.approx(max(1 - 4 * distance, -1), abs=1e-6)
    # L2 is larger than L1 off-axis and equal on-axis.
    l1 = template_shapes(7, 7)
    l2 = template_shapes(7, 7, norm="l2")
    assert l2[centre, 2, 2] > l1[centre, 2, 2]
    assert l2[centre, 3, 4] == pytest.approx(l1[centre, 3, 4].item())


def test_non_square_uses_each_side():
    T, prior = templates(4, 8)
    assert T.shape == (33, 4, 8)
    assert prior.shape == (33,)
    tau = 0.5 / 32
    assert T[0, 1, 2].item() == pytest.approx(tau * (1 - 4 * (1 / 4 + 2 / 8)))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="norm"):
        templates(3, 3, norm="l3")
    with pytest.raises(ValueError, match="positive"):
        templates(0, 3)
    with pytest.raises(ValueError, match="tau"):
        templates(3, 3, tau=-1.0)
