import pytest
import torch

from partlens.models import build_model
from partlens.training.compiled import CompiledModel, CompiledOrEager, inductor_available
from partlens.training.config import TrainConfig
from partlens.training.loop import train
from tests.partlens.training.test_loop import SquaresDataset

needs_inductor = pytest.mark.skipif(
    not inductor_available(), reason="torch.compile's inductor backend does not work here"
)


def tiny(**options):
    torch.manual_seed(0)
    return build_model("tiny", width=16, **options)


def maps(model, size=32, batch=8, seed=0):
    generator = torch.Generator().manual_seed(seed)
    model.train()
    _, unmasked = model.forward_train(torch.randn(batch, 3, size, size, generator=generator))
    return unmasked


@needs_inductor
def test_one_compiled_step_gives_the_eager_weights_within_float_tolerance():
    data = SquaresDataset(size=8)
    config = dict(epochs=1, batch_size=8, lr=0.05, device="cpu", seed=3, max_steps=1)
    eager = train(tiny(), data, TrainConfig(**config)).model.state_dict()
    compiled = train(tiny(), data, TrainConfig(**config, compile=True)).model.state_dict()
    assert eager.keys() == compiled.keys()
    for key, value in eager.items():
        torch.testing.assert_close(compiled[key], value, rtol=1e-5, atol=1e-6, msg=key)


@needs_inductor
def test_the_compiled_multi_category_loss_and_statistics_match_the_eager_ones():
    labels = torch.tensor([0, 1, 2, 1, 0, 2, 2, 1])
    eager_model, compiled_model = tiny(num_classes=3), tiny(num_classes=3)
    functions = CompiledModel(compiled_model)
    expected = eager_model.filter_losses(maps(eager_model), labels)
    actual = functions.filter_losses(maps(compiled_model), labels)
    assert functions.loss.compiled and actual.keys() == expected.keys()
    for name in expected:
        torch.testing.assert_close(actual[name], expected[name], rtol=1e-5, atol=1e-7)
    eager_stats, compiled_stats = eager_model.state_dict(), compiled_model.state_dict()
    for key in ("mean_max", "class_activation", "class_seen"):
        name = f"objectives.conv_top.{key}"
        torch.testing.assert_close(compiled_stats[name], eager_stats[name])


def broken_backend(graph, example_inputs):
    raise RuntimeError("no C++ compiler in this test")


def test_a_failed_compile_falls_back_to_the_eager_function_once():
    eager_model, fallback_model = tiny(), tiny()
    labels = torch.tensor([0, 1, 1, 0, 1, 0, 0, 1])
    functions = CompiledModel(fallback_model, backend=broken_backend)
    with pytest.warns(RuntimeWarning, match=r"filter loss failed, training continues eagerly"):
        actual = functions.filter_losses(maps(fallback_model), labels)
    assert not functions.loss.compiled and "no C++ compiler" in (functions.loss.error or "")
    expected = eager_model.filter_losses(maps(eager_model), labels)
    assert all(torch.equal(actual[name], expected[name]) for name in expected)
    # Nothing ran before the compile failed: the running statistics were updated once.
    eager_stats, fallback_stats = eager_model.state_dict(), fallback_model.state_dict()
    assert all(torch.equal(eager_stats[k], fallback_stats[k]) for k in eager_stats)


def test_a_failed_compile_of_the_forward_pass_trains_as_eager():
    calls = []

    def double(x):
        calls.append(x)
        return x * 2

    function = CompiledOrEager(double, "doubling", backend=broken_backend)
    with pytest.warns(RuntimeWarning, match="doubling failed"):
        assert torch.equal(function(torch.ones(2)), torch.full((2,), 2.0))
    assert len(calls) == 1 and not function.compiled
    assert torch.equal(function(torch.ones(3)), torch.full((3,), 2.0)) and len(calls) == 2
