import numpy as np
import pytest
import torch
from torch import nn

from partlens.metrics.receptive_field import (
    ConvGeometry,
    ZeroInputGradient,
    compose_geometry,
    effective_rf_radius,
    measured_rf_radius,
    radius_holding_mass,
    trace_receptive_field,
    unit_input_gradients,
)


class _Block(nn.Module):
    """A residual block in torchvision naming: the downsample branch is not on the RF path."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=2))

    def forward(self, x):
        return torch.relu(self.conv2(torch.relu(self.conv1(x))) + self.downsample(x))


class _ContractModel(nn.Module):
    """A small model following the PartModel contract (layer_convs, input_size)."""

    def __init__(self) -> None:
        super().__init__()
        self.input_size = 40
        self.stem = nn.Sequential(
            nn.Conv2d(3, 4, 5, stride=1, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True)
        )
        self.block = _Block(4, 6)
        self.top = nn.Conv2d(6, 6, 3, padding=2, dilation=2)
        self.added = nn.Conv2d(6, 6, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)

    def layer_convs(self) -> dict[str, nn.Conv2d]:
        return {"conv_top": self.top, "conv_added": self.added}

    def forward(self, x):
        x = torch.relu(self.added(torch.relu(self.top(self.block(self.stem(x))))))
        return self.pool(x).flatten(1)


def test_conv_geometry_normalises_pairs_and_rejects_bad_values():
    assert ConvGeometry(3, 2, 1).kernel == (3, 3)
    assert ConvGeometry((3, 5)).kernel == (3, 5)
    assert ConvGeometry.from_module(nn.Conv2d(1, 1, 3, padding="same")).padding == (1, 1)
    with pytest.raises(ValueError, match="stride"):
        ConvGeometry(3, 0)
    with pytest.raises(ValueError, match="kernel"):
        ConvGeometry((3, 3, 3))
    with pytest.raises(ValueError, match="Linear"):
        ConvGeometry.from_module(nn.Linear(2, 2))


def test_compose_known_values():
    # AlexNet conv1 (k11 s4 p2) on 224: 55 units, unit 0 spans pixels -2..8 (centre 3.5).
    alex = compose_geometry([ConvGeometry(11, 4, 2)], (224, 224))
    assert alex.map_shape == (55, 55)
    assert alex.start == (3.5, 3.5) and alex.size == (11, 11) and alex.jump == (4, 4)
    # Two 3x3 convs and a 2x2 pool: size 6, jump 2, unit 0 centred between pixels 0 and 1.
    vgg = compose_geometry(
        [ConvGeometry(3, 1, 1), ConvGeometry(3, 1, 1), ConvGeometry(2, 2)], (8, 6)
    )
    assert vgg.map_shape == (4, 3)
    assert vgg.size == (6, 6) and vgg.jump == (2, 2) and vgg.start == (1.0, 1.0)
    assert vgg.unit_centers()[3, 2].tolist() == [5.0, 7.0]
    assert vgg.center(3, 2) == (5.0, 7.0)
    dilated = compose_geometry([ConvGeometry((3, 1), 1, 0, (2, 1))], (10, 10))
    assert dilated.size == (1, 5) and dilated.map_shape == (6, 10)


@pytest.mark.parametrize("seed", range(6))
def test_composed_map_shape_matches_torch(seed):
    rng = np.random.default_rng(seed)
    layers, ops = [], []
    for _ in range(4):
        k, s, p, d = (int(v) for v in (rng.integers(1, 5), rng.integers(1, 3), 0, 1))
        p = int(rng.integers(0, k // 2 + 1))
        if rng.uniform() < 0.5:
            d = int(rng.integers(1, 3))
            layers.append(nn.Conv2d(1, 1, k, s, p, d))
        else:
            ceil = bool(rng.uniform() < 0.5)
            layers.append(nn.MaxPool2d(k, s, p, d, ceil_mode=ceil))
        ops.append(ConvGeometry.from_module(layers[-1]))
    side = int(rng.integers(40, 60))
    out = nn.Sequential(*layers)(torch.zeros(1, 1, side, side + 3))
    assert compose_geometry(ops, (side, side + 3)).map_shape == tuple(out.shape[-2:])


def test_compose_rejects_too_small_inputs():
    with pytest.raises(ValueError, match="too small"):
        compose_geometry([ConvGeometry(5)], (3, 3))
    with pytest.raises(ValueError, match="empty"):
        compose_geometry([], (3, 3))


def test_trace_skips_downsample_and_stops_at_the_layer():
    model = _ContractModel()
    top = trace_receptive_field(model, "conv_top")
    added = trace_receptive_field(model, "conv_added")
    features = {}
    model.top.register_forward_hook(lambda m, i, o: features.setdefault("top", o))
    model(torch.zeros(1, 3, 40, 40))
    assert top.map_shape == tuple(features["top"].shape[-2:])
    # conv 5 (size 5), pool 3/2 (size 7, jump 2), block 3/2 and 3 (size 11, jump 4; size 19),
    # dilated 3 (span 5: size 35), added 3 (size 43).
    assert top.size == (35, 35) and top.jump == (4, 4)
    assert added.size == (43, 43) and added.map_shape == top.map_shape
    assert model.training  # restored
    with pytest.raises(ValueError, match="unknown layer"):
        trace_receptive_field(model, "conv_nope")


def _geometry_probe(model: nn.Module) -> nn.Module:
    """Positive weights and average pools: every pixel of the RF gets a non-zero gradient."""
    for name, module in list(model.named_modules()):
        if isinstance(module, nn.MaxPool2d):
            parent = model.get_submodule(name.rpartition(".")[0]) if "." in name else model
            pool = nn.AvgPool2d(module.kernel_size, module.stride, module.padding, module.ceil_mode)
            setattr(parent, name.rpartition(".")[2], pool)
        elif isinstance(module, nn.Conv2d):
            with torch.no_grad():
                module.weight.fill_(1.0 / module.weight[0].numel())
                if module.bias is not None:
                    module.bias.fill_(0.01)
    return model


def _assert_matches_empirical_rf(model: nn.Module, layer: str, side: int) -> None:
    geometry = trace_receptive_field(model, layer, side)
    h, w = geometry.map_shape
    probe = _geometry_probe(model)
    units = [(0, 0), (h - 1, w - 1), (h // 2, w // 2)]
    gradients = unit_input_gradients(probe, layer, torch.ones(len(units), 3, side, side), units)
    for gradient, unit in zip(gradients, units, strict=True):
        rows, cols = np.nonzero(gradient > 0)
        cx, cy = geometry.center(*unit)
        half_x, half_y = geometry.size[0] / 2, geometry.size[1] / 2
        # The support is the analytic RF [centre - size/2, centre + size/2) clipped to the image.
        assert cols.min() == max(0, round(cx - half_x)) and cols.max() + 1 == min(
            side, round(cx + half_x)
        )
        assert rows.min() == max(0, round(cy - half_y)) and rows.max() + 1 == min(
            side, round(cy + half_y)
        )


def test_empirical_rf_of_a_contract_model():
    model = _ContractModel()
    for layer in ("conv_top", "conv_added"):
        _assert_matches_empirical_rf(model, layer, 40)


def test_empirical_rf_of_tiny():
    models = pytest.importorskip("partlens.models")
    model = models.build_model("tiny", interpretable=False, width=16)
    geometry = trace_receptive_field(model, "conv_added")
    assert geometry.map_shape == model.feature_shape("conv_added")[1:]
    assert geometry.jump == (8, 8)
    for layer in model.layer_names:
        _assert_matches_empirical_rf(model, layer, 112)


def test_empirical_rf_of_vgg16():
    models = pytest.importorskip("partlens.models")
    model = models.build_model("vgg16", interpretable=False)
    top = trace_receptive_field(model, "conv_top")
    assert top.size == (196, 196) and top.jump == (16, 16)  # conv5_3, the textbook value
    assert top.map_shape == (14, 14)
    assert trace_receptive_field(model, "conv_added").size == (228, 228)  # + 2 units of 16 px
    _assert_matches_empirical_rf(model, "conv_added", 256)


def test_trace_every_registered_architecture():
    models = pytest.importorskip("partlens.models")
    # AlexNet (k11 s4, overlapping pools) and ResNet-18 (residual downsample branches) stress
    # the tracer; VGG-M/S have the same op types and cost seconds to build.
    for arch in ("tiny", "alexnet", "resnet18"):
        model = models.build_model(arch, interpretable=True)
        for layer in model.layer_names:
            geometry = trace_receptive_field(model, layer)
            assert geometry.map_shape == model.feature_shape(layer)[1:], (arch, layer)


def test_radius_holding_mass_known_values():
    gradient = np.zeros((11, 11))
    gradient[5, 10] = 1.0  # one pixel 5 px right of the centre (5.5, 5.5)
    assert radius_holding_mass(gradient, (5.5, 5.5), 0.8) == pytest.approx(5.0)
    gradient[5, 5] = 4.0  # 80% of the mass now sits at the centre
    assert radius_holding_mass(gradient, (5.5, 5.5), 0.8) == pytest.approx(0.0)
    assert radius_holding_mass(gradient, (5.5, 5.5), 0.9) == pytest.approx(5.0)
    assert np.isnan(radius_holding_mass(np.zeros((3, 3)), (1.5, 1.5), 0.5))


def test_effective_rf_radius_is_below_the_theoretical_rf_and_grows_with_mass():
    model = _ContractModel()
    geometry = trace_receptive_field(model, "conv_added")
    half = effective_rf_radius(model, "conv_added", mass=0.5)
    most = effective_rf_radius(model, "conv_added", mass=0.9)
    assert 0 < half < most <= geometry.rf_size / np.sqrt(2)
    images = torch.randn(2, 3, 40, 40, generator=torch.Generator().manual_seed(1))
    assert effective_rf_radius(model, "conv_added", images=images) > 0
    with pytest.raises(ValueError, match="mass"):
        effective_rf_radius(model, "conv_added", mass=1.0)


def test_measured_rf_radius_falls_back_when_no_gradient_reaches_the_layer():
    model = _ContractModel()
    geometry = trace_receptive_field(model, "conv_added")
    noise = torch.randn(2, 3, 40, 40, generator=torch.Generator().manual_seed(1))
    radius, source = measured_rf_radius(model, "conv_added", noise)
    assert (radius, source) == (effective_rf_radius(model, "conv_added", images=noise), "effective")
    # The stem's ReLUs all off on blank images: silent there, alive on noise inputs.
    with torch.no_grad():
        model.stem[0].bias.fill_(-1.0)
    blank = torch.zeros(2, 3, 40, 40)
    with pytest.raises(ZeroInputGradient):
        effective_rf_radius(model, "conv_added", images=blank)
    radius, source = measured_rf_radius(model, "conv_added", blank)
    assert source == "effective on noise" and 0 < radius < geometry.rf_size
    # No input reaches the layer at all: half the theoretical RF.
    with torch.no_grad():
        model.top.weight.zero_()
    assert measured_rf_radius(model, "conv_added", blank) == (geometry.rf_size / 2, "theoretical")


def test_unit_input_gradients_rejects_bad_units():
    model = _ContractModel()
    with pytest.raises(ValueError, match="outside"):
        unit_input_gradients(model, "conv_top", torch.zeros(1, 3, 40, 40), [(99, 0)])
    with pytest.raises(ValueError, match="images"):
        unit_input_gradients(model, "conv_top", torch.zeros(1, 40, 40), [(0, 0)])


def test_unit_input_gradients_see_the_layer_after_its_batch_norm():
    models = pytest.importorskip("partlens.models")
    model = models.build_model("tiny", interpretable=True, input_size=64, width=8)
    block = model.head.layers["conv_top"].block
    norm = next(module for module in block.modules() if isinstance(module, nn.BatchNorm2d))
    images = torch.rand(1, 3, 64, 64)
    assert unit_input_gradients(model, "conv_top", images, [(3, 3)]).sum() > 0
    with torch.no_grad():
        norm.bias.fill_(-1e4)  # every unit below zero after BN: the post-ReLU map is silent
    assert unit_input_gradients(model, "conv_top", images, [(3, 3)]).sum() == 0
