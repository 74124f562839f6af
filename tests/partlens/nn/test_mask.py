import torch

from partlens.nn import InterpretableHead, PartMask, part_positions, template_shapes


def test_mask_keeps_the_peak_and_zeroes_far_units():
    n = 8
    x = torch.rand(2, 3, n, n) + 0.1
    x[0, 1, 2, 5] = 10.0
    masked = PartMask(3)(x)
    # At mu_hat the shape is 1: the activation is kept as is.
    assert masked[0, 1, 2, 5] == x[0, 1, 2, 5]
    shape = template_shapes(n, n)[2 * n + 5]
    assert torch.all(masked[0, 1][shape <= 0] == 0)
    assert torch.allclose(masked[0, 1], torch.relu(x[0, 1] * shape))


def test_centroid_position_and_zero_map():
    x = torch.zeros(1, 2, 5, 5)
    x[0, 0, 1, 1] = 1.0
    x[0, 0, 3, 3] = 1.0
    assert part_positions(x, "centroid")[0, 0] == 2 * 5 + 2
    assert part_positions(x, "argmax")[0, 0] == 1 * 5 + 1
    # An all-zero map falls back to the argmax instead of dividing by zero.
    assert part_positions(x, "centroid")[0, 1] == 0


def test_task_gradient_flows_through_the_mask():
    x = (torch.rand(2, 4, 6, 6) + 0.1).requires_grad_()
    PartMask(4)(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    # The mask is a constant: the gradient equals the (clamped) template shape at mu_hat.
    mu = part_positions(x)
    shapes = template_shapes(6, 6).reshape(36, 36)[mu].view_as(x).clamp_min(0)
    assert torch.allclose(x.grad, (shapes > 0).float() * shapes)


def test_official_mask_pulls_beta_in_training_only():
    mask = PartMask(2, position="centroid", adaptive_beta=True)
    x = torch.rand(4, 2, 7, 7)
    mask.eval()
    mask(x)
    assert torch.all(mask.filter_beta == 2.0)
    mask.train()
    mask(x)
    assert not torch.all(mask.filter_beta == 2.0)
    assert torch.all((mask.filter_beta >= 1.5) & (mask.filter_beta <= 3.0))


def test_head_adds_a_same_size_layer_and_twin_has_no_mask():
    top = torch.nn.Sequential(torch.nn.Conv2d(3, 5, 3, padding=1), torch.nn.ReLU())
    head = InterpretableHead(top, "0", 5, interpretable=True)
    out, outputs, unmasked = head(torch.rand(2, 3, 9, 9))
    assert list(outputs) == ["conv_top", "conv_added"]
    assert out.shape == (2, 5, 9, 9)
    assert all(not torch.equal(outputs[k], unmasked[k]) for k in outputs)
    twin = InterpretableHead(top, "0", 5, interpretable=False)
    _, outputs, unmasked = twin(torch.rand(2, 3, 9, 9))
    assert all(torch.equal(outputs[k], unmasked[k]) for k in outputs)
    assert head.layers["conv_top"].conv is top[0]


def test_identity_init_passes_nonnegative_input_through():
    top = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU())
    head = InterpretableHead(top, "0", 4, interpretable=False, batch_norm=False, identity_init=True)
    _, outputs, _ = head(torch.rand(1, 3, 6, 6))
    assert torch.allclose(outputs["conv_added"], outputs["conv_top"])


def test_mask_equals_relu_of_the_product_with_the_same_gradient():
    torch.manual_seed(2)
    pre = torch.randn(3, 4, 6, 6, requires_grad=True)
    x = torch.relu(pre)  # the mask acts on post-ReLU maps
    reference = torch.relu(x * template_shapes(6, 6)[part_positions(x)])
    (expected,) = torch.autograd.grad(reference.sum(), pre, retain_graph=True)
    masked = PartMask(4)(x)
    (grad,) = torch.autograd.grad(masked.sum(), pre)
    assert torch.equal(masked, reference) and torch.equal(grad, expected)
