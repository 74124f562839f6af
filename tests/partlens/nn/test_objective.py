import pytest
import torch

from partlens.nn import FilterObjective


def test_single_category_targets_label_one():
    objective = FilterObjective(3, 1)
    assert objective.target_categories().tolist() == [1, 1, 1]


def test_multi_category_targets_follow_training_batches_only():
    objective = FilterObjective(2, 3)
    x = torch.zeros(4, 2, 5, 5)
    x[0:2, 0] = 1.0  # filter 0 fires on class 2
    x[2:4, 1] = 1.0  # filter 1 fires on class 0
    labels = torch.tensor([2, 2, 0, 0])
    objective.eval()
    objective(x, labels)
    assert not objective.class_seen.any()
    objective.train()
    objective(x, labels)
    assert objective.target_categories().tolist() == [2, 0]


@pytest.mark.parametrize("variant", ["paper-approx", "exact-mi", "assigned-mi", "official"])
def test_variants_give_finite_losses_and_gradients(variant):
    objective = FilterObjective(3, 1, variant=variant)
    objective.position = "centroid" if variant == "official" else "argmax"
    x = (torch.rand(6, 3, 7, 7) * 50).requires_grad_()
    loss = objective(x, torch.tensor([1, 0, 1, 0, 1, 0]))
    assert loss.shape == (3,)
    loss.sum().backward()
    assert torch.isfinite(loss).all() and torch.isfinite(x.grad).all()
    assert x.grad.abs().sum() > 0


@pytest.mark.parametrize("variant", ["exact-mi", "assigned-mi", "paper-approx"])
def test_activation_peak_makes_the_loss_blind_to_the_activation_scale(variant):
    # Without it the loss rewards raising every activation (exp(tr(x . T)) grows with scale),
    # and BN-sized activations leave tr(x . T) ~ tau: a loss that is ~0 and does nothing.
    torch.manual_seed(4)
    x = torch.rand(6, 3, 7, 7)
    labels = torch.tensor([1, 0, 1, 0, 1, 0])
    losses = [
        FilterObjective(3, 1, variant=variant, activation_peak=50.0)(x * scale, labels)
        for scale in (1.0, 100.0)
    ]
    assert torch.allclose(losses[0], losses[1], rtol=1e-4, atol=1e-6)
    # The gradient reaches x as if unscaled: equal for x and 100 x, so that lambda (which
    # grows with the mean max activation) keeps the paper's meaning.
    gradients = []
    for scale in (1.0, 100.0):
        scaled = (x * scale).requires_grad_()
        FilterObjective(3, 1, variant=variant, activation_peak=50.0)(
            scaled, labels
        ).sum().backward()
        gradients.append(scaled.grad)
    assert gradients[0].abs().sum() > 0
    assert torch.allclose(gradients[0], gradients[1], rtol=1e-3, atol=1e-7)
    raw = FilterObjective(3, 1, variant=variant, activation_peak=None)
    assert not torch.allclose(raw(x, labels), raw(x * 100.0, labels))


def test_activation_peak_sets_the_scale_the_loss_sees():
    objective = FilterObjective(2, 1, activation_peak=40.0)
    x = torch.zeros(2, 2, 3, 3)
    x[:, :, 1, 1] = 4.0
    objective.train()
    objective(x, torch.tensor([1, 0]))
    assert objective.mean_max.item() == pytest.approx(4.0)
    assert objective.loss_scale(x).item() == pytest.approx(10.0)
    with pytest.raises(ValueError, match="activation_peak"):
        FilterObjective(2, 1, activation_peak=0.0)


@pytest.mark.parametrize("variant", ["exact-mi", "assigned-mi", "paper-approx", "official"])
def test_all_zero_maps_give_a_finite_loss_and_gradient(variant):
    objective = FilterObjective(3, 1, variant=variant)
    x = torch.zeros(4, 3, 6, 6, requires_grad=True)
    loss = objective(x, torch.tensor([1, 0, 1, 0]))
    loss.sum().backward()
    assert objective.mean_max.item() == 0.0
    assert torch.isfinite(loss).all() and torch.isfinite(x.grad).all()


def test_running_z_is_updated_and_reloaded_at_its_size():
    objective = FilterObjective(2, 1, variant="paper-approx")
    objective(torch.rand(4, 2, 6, 6), torch.tensor([1, 0, 1, 0]))
    assert objective.log_mean_exp.shape == (2, 37)
    fresh = FilterObjective(2, 1)
    fresh.load_state_dict(objective.state_dict())
    assert torch.equal(fresh.log_mean_exp, objective.log_mean_exp)


def test_bad_variant_and_label():
    with pytest.raises(ValueError, match="filter_loss"):
        FilterObjective(2, 1, variant="nope")
    with pytest.raises(ValueError, match="label 5"):
        FilterObjective(2, 3)(torch.rand(2, 2, 4, 4), torch.tensor([0, 5]))


@pytest.mark.parametrize("variants", [("assigned-mi", "assigned-mi"), ("assigned-mi", "exact-mi")])
def test_layers_scored_together_give_each_layer_s_own_loss_and_gradient(variants):
    from partlens.nn import layer_filter_losses

    torch.manual_seed(5)
    labels = torch.tensor([1, 0, 1, 1, 0])
    maps = {"a": torch.rand(5, 3, 6, 6) * 4, "b": torch.rand(5, 2, 6, 6) * 9}

    def run(together):
        objectives = {
            n: FilterObjective(m.shape[1], 1, variant=v)
            for (n, m), v in zip(maps.items(), variants, strict=True)
        }
        inputs = {n: m.clone().requires_grad_() for n, m in maps.items()}
        if together:
            losses = layer_filter_losses(objectives, inputs, labels, batched=True)
        else:
            losses = {n: objectives[n](inputs[n], labels) for n in objectives}
        sum(loss.sum() for loss in losses.values()).backward()
        return losses, {n: x.grad for n, x in inputs.items()}, objectives

    together, grads_together, objectives = run(True)
    alone, grads_alone, reference = run(False)
    assert list(together) == ["a", "b"] and together["b"].shape == (2,)
    for name in maps:
        assert torch.allclose(together[name], alone[name], atol=1e-6)
        assert torch.allclose(grads_together[name], grads_alone[name], atol=1e-6)
        assert torch.equal(objectives[name].mean_max, reference[name].mean_max)


def test_multi_category_statistics_blend_seen_classes_and_seed_new_ones():
    objective = FilterObjective(1, 3)
    objective.train()
    first = torch.zeros(2, 1, 2, 2)
    first[0] = 1.0  # class 0: sum 4
    objective(first, torch.tensor([0, 0]))
    assert objective.class_seen.tolist() == [True, False, False]
    assert objective.class_activation[:, 0].tolist() == [2.0, 0.0, 0.0]  # mean of 4 and 0
    objective(torch.ones(2, 1, 2, 2), torch.tensor([0, 2]))
    assert objective.class_seen.tolist() == [True, False, True]
    assert objective.class_activation[:, 0].tolist() == pytest.approx([2.2, 0.0, 4.0])
