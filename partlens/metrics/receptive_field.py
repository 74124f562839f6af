"""Receptive-field geometry: where each unit of a layer looks on the image plane.

Theoretical RF (composed layer by layer from kernel, stride, padding, dilation): unit (i, j) of a
map has its centre at start + index * jump and spans `size` pixels. Pixel (row r, column c) has
its centre at (c + 0.5, r + 0.5), the convention the metrics share. The effective RF (the input
gradient's spread) is far smaller than the theoretical one for top layers; its radius is the
default region size for part interpretability.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import torch
from torch import nn

# An int (both axes) or a pair; torch types its modules' sizes as tuple[int, ...], so any tuple
# is accepted here and its length checked at run time.
PairLike = int | tuple[int, ...]
_TRACED_TYPES = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)


def _pair(name: str, value: PairLike) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(int(v) for v in value)
    if len(pair) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return pair


@dataclass(frozen=True)
class ConvGeometry:
    """Geometry of one conv or pooling op; pairs are (vertical, horizontal) like torch's.

    ceil_mode: pooling's rounding of the output size (it does not move centres).
    """

    kernel: PairLike
    stride: PairLike = 1
    padding: PairLike = 0
    dilation: PairLike = 1
    ceil_mode: bool = False

    def __post_init__(self) -> None:
        for name in ("kernel", "stride", "padding", "dilation"):
            pair = _pair(name, getattr(self, name))
            minimum = 0 if name == "padding" else 1
            if min(pair) < minimum:
                raise ValueError(f"{name} must be >= {minimum}, got {getattr(self, name)!r}")
            object.__setattr__(self, name, pair)

    def along(self, axis: int) -> tuple[int, int, int, int]:
        """(kernel, stride, padding, dilation) along `axis` (0: vertical, 1: horizontal)."""
        kernel, stride, padding, dilation = (
            _pair(name, value)[axis]
            for name, value in (
                ("kernel", self.kernel),
                ("stride", self.stride),
                ("padding", self.padding),
                ("dilation", self.dilation),
            )
        )
        return kernel, stride, padding, dilation

    @classmethod
    def from_module(cls, module: nn.Module) -> ConvGeometry:
        """Geometry of an nn.Conv2d, nn.MaxPool2d or nn.AvgPool2d."""
        if isinstance(module, nn.Conv2d):
            padding = module.padding
            if isinstance(padding, str):
                padding = _string_padding(module, padding)
            return cls(module.kernel_size, module.stride, padding, module.dilation)
        if isinstance(module, nn.MaxPool2d):
            return cls(
                module.kernel_size,
                module.stride,
                module.padding,
                module.dilation,
                module.ceil_mode,
            )
        if isinstance(module, nn.AvgPool2d):
            return cls(module.kernel_size, module.stride, module.padding, 1, module.ceil_mode)
        raise ValueError(f"no receptive-field geometry for module type {type(module).__name__}")


def _string_padding(module: nn.Conv2d, padding: str) -> tuple[int, int]:
    if padding == "valid":
        return (0, 0)
    totals = [d * (k - 1) for k, d in zip(module.kernel_size, module.dilation, strict=True)]
    if any(total % 2 for total in totals):
        raise ValueError(f"padding='same' with an even kernel is asymmetric: {module}")
    return (totals[0] // 2, totals[1] // 2)


@dataclass(frozen=True)
class RFGeometry:
    """Theoretical receptive field of every unit of one layer.

    map_shape: (h, w) units. size, jump, start: (x, y) in pixels: RF side, distance between
    neighbouring units' centres (the layer's total stride), and the centre of unit (0, 0).
    image_shape: (h, w) of the input it was composed for.
    """

    map_shape: tuple[int, int]
    size: tuple[float, float]
    jump: tuple[float, float]
    start: tuple[float, float]
    image_shape: tuple[int, int]

    def unit_centers(self) -> np.ndarray:
        """RF centre (x, y) of every unit: float64 [h, w, 2], the p(mu) of the paper."""
        h, w = self.map_shape
        xs = self.start[0] + np.arange(w) * self.jump[0]
        ys = self.start[1] + np.arange(h) * self.jump[1]
        grid_x, grid_y = np.meshgrid(xs, ys)
        return np.stack([grid_x, grid_y], axis=-1)

    def center(self, row: int, col: int) -> tuple[float, float]:
        """RF centre (x, y) of unit (row, col)."""
        return (self.start[0] + col * self.jump[0], self.start[1] + row * self.jump[1])

    @property
    def rf_size(self) -> float:
        """The larger RF side in pixels (a round RF of this diameter covers the square one)."""
        return max(self.size)


def compose_geometry(ops: Sequence[ConvGeometry], image_shape: tuple[int, int]) -> RFGeometry:
    """Compose ops (bottom to top) on an input of image_shape (h, w) into the top op's RFGeometry.

    Per axis: k_eff = d (k - 1) + 1; start += ((k_eff - 1) / 2 - p) jump; size += (k_eff - 1)
    jump; jump *= s; the map size follows torch's floor (or ceil_mode) rule.
    """
    if len(ops) == 0:
        raise ValueError("ops is empty: nothing to compose")
    if len(image_shape) != 2 or min(image_shape) < 1:
        raise ValueError(f"image_shape must be (h, w) with positive sides, got {image_shape!r}")
    axes = []
    for axis in (1, 0):  # x (columns) first: results are (x, y)
        length, start, size, jump = int(image_shape[axis]), 0.5, 1.0, 1.0
        for op in ops:
            k, s, p, d = op.along(axis)
            span = d * (k - 1) + 1
            length = _output_length(length, span, s, p, op.ceil_mode)
            if length < 1:
                raise ValueError(f"input {image_shape} is too small for {op}: map size {length}")
            start += ((span - 1) / 2 - p) * jump
            size += (span - 1) * jump
            jump *= s
        axes.append((length, start, size, jump))
    (w, x_start, x_size, x_jump), (h, y_start, y_size, y_jump) = axes
    return RFGeometry(
        map_shape=(h, w),
        size=(x_size, y_size),
        jump=(x_jump, y_jump),
        start=(x_start, y_start),
        image_shape=(int(image_shape[0]), int(image_shape[1])),
    )


def _output_length(length: int, span: int, stride: int, padding: int, ceil_mode: bool) -> int:
    numerator = length + 2 * padding - span
    if numerator < 0:
        return 0
    out = (-(-numerator // stride) if ceil_mode else numerator // stride) + 1
    # torch: with ceil_mode the last window must start inside the input or its left padding.
    if ceil_mode and (out - 1) * stride >= length + padding:
        out -= 1
    return out


class _ReachedLayer(Exception):
    """Raised by the hook on the target conv to stop the forward pass there."""


def _image_shape(model: nn.Module, input_size: int | None) -> tuple[int, int]:
    size = getattr(model, "input_size", None) if input_size is None else input_size
    if size is None or int(size) < 1:
        raise ValueError(f"input_size must be a positive int, got {input_size!r}")
    return (int(size), int(size))


def _target_conv(model: nn.Module, layer_name: str) -> nn.Conv2d:
    # `layer_convs` is the models' contract (PartModel and the test doubles), not nn.Module's:
    # attribute access on a Module is typed Tensor | Module.
    layer_convs = cast(Callable[[], Mapping[str, nn.Conv2d]], model.layer_convs)
    convs = layer_convs()
    if layer_name not in convs:
        raise ValueError(f"unknown layer {layer_name!r}; the model's layers are {list(convs)}")
    return convs[layer_name]


def trace_receptive_field(
    model: nn.Module, layer_name: str, input_size: int | None = None
) -> RFGeometry:
    """RFGeometry of `model.layer_convs()[layer_name]` for a square input of input_size pixels
    (default `model.input_size`).

    Records Conv2d / MaxPool2d / AvgPool2d calls with forward hooks during one forward pass, in
    call order, up to and including the target conv; residual `downsample` branches (torchvision
    naming) are skipped because the main path bounds the RF.
    """
    target = _target_conv(model, layer_name)
    image_shape = _image_shape(model, input_size)
    recorded: list[tuple[str, ConvGeometry]] = []
    reached: dict[str, tuple[int, int]] = {}

    def hook(name: str):
        def record(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            recorded.append((name, ConvGeometry.from_module(module)))
            if module is target:
                height, width = output.shape[-2:]
                reached["shape"] = (int(height), int(width))
                raise _ReachedLayer

        return record

    handles = [
        module.register_forward_hook(hook(name))
        for name, module in model.named_modules()
        if isinstance(module, _TRACED_TYPES) and "downsample" not in name.split(".")
    ]
    was_training = model.training
    model.eval()
    try:
        parameter = next(model.parameters())
        probe = torch.zeros(1, 3, *image_shape, dtype=parameter.dtype, device=parameter.device)
        with torch.no_grad():
            model(probe)
    except _ReachedLayer:
        pass
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    if "shape" not in reached:
        raise ValueError(f"the forward pass never called the conv of layer {layer_name!r}")
    geometry = compose_geometry([op for _, op in recorded], image_shape)
    if geometry.map_shape != reached["shape"]:
        names = [name for name, _ in recorded]
        raise ValueError(
            f"composed map shape {geometry.map_shape} differs from the measured "
            f"{reached['shape']} for layer {layer_name!r}: an op on the path ({names}) changes "
            "the map size in a way the RF tracer does not model"
        )
    return geometry


def _response_module(
    model: nn.Module, layer_name: str
) -> tuple[nn.Module, Callable[[Any], torch.Tensor]]:
    """The module whose output holds the layer's post-ReLU map, and how to read it from there.

    A PartModel's interpretable layer returns (masked output, unmasked map after BN and ReLU):
    the bare conv output would miss the BatchNorm. Other models following the ``layer_convs``
    contract get ReLU of their conv's output.
    """
    conv = _target_conv(model, layer_name)
    layers = getattr(getattr(model, "head", None), "layers", None)
    if layers is not None and layer_name in layers:
        return layers[layer_name], lambda output: output[1]
    return conv, torch.relu


def unit_input_gradients(
    model: nn.Module,
    layer_name: str,
    images: torch.Tensor,
    units: Sequence[tuple[int, int]],
) -> np.ndarray:
    """|d r / d image| summed over colour channels: float64 [B, H, W], one unit per image.

    r = sum_f x_f(row, col), x the layer's unmasked map after its BatchNorm (if any) and ReLU
    for image b, so the gradient covers the unit's response as the metrics see it (all
    filters). Eval mode: batch norm uses running statistics and images stay independent.
    """
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must have shape [B, 3, H, W], got {tuple(images.shape)}")
    if len(units) != len(images):
        raise ValueError(f"units has {len(units)} entries for {len(images)} images")
    target, response_of = _response_module(model, layer_name)
    captured: dict[str, torch.Tensor] = {}

    def capture(module: nn.Module, inputs: tuple, output: Any) -> None:
        captured["output"] = response_of(output)
        raise _ReachedLayer

    parameter = next(model.parameters())
    inputs = images.detach().to(parameter.device, parameter.dtype).requires_grad_(True)
    handle = target.register_forward_hook(capture)
    was_training = model.training
    model.eval()
    try:
        model(inputs)
    except _ReachedLayer:
        pass
    finally:
        handle.remove()
        model.train(was_training)
    if "output" not in captured:
        raise ValueError(f"the forward pass never called the conv of layer {layer_name!r}")
    output = captured["output"]
    rows = torch.tensor([unit[0] for unit in units])
    cols = torch.tensor([unit[1] for unit in units])
    if (
        rows.min() < 0
        or cols.min() < 0
        or rows.max() >= output.shape[2]
        or cols.max() >= output.shape[3]
    ):
        raise ValueError(
            f"units {list(units)} fall outside the map of shape {tuple(output.shape[2:])}"
        )
    response = output[torch.arange(len(units)), :, rows, cols].sum()
    (gradient,) = torch.autograd.grad(response, inputs)
    return gradient.abs().sum(dim=1).detach().cpu().to(torch.float64).numpy()


def radius_holding_mass(gradient: np.ndarray, center: tuple[float, float], mass: float) -> float:
    """Smallest radius r around center (x, y) whose disk of pixel centres holds `mass` of the
    gradient's total; NaN when the gradient is all zero."""
    total = float(gradient.sum())
    if total <= 0:
        return float("nan")
    ys, xs = np.mgrid[0 : gradient.shape[0], 0 : gradient.shape[1]] + 0.5
    distance = np.hypot(xs - center[0], ys - center[1]).ravel()
    order = np.argsort(distance, kind="stable")
    cumulative = np.cumsum(gradient.ravel()[order]) / total
    return float(distance[order][np.searchsorted(cumulative, mass - 1e-12)])


class ZeroInputGradient(ValueError):
    """No input gradient reaches a layer's centre units: every path to them is switched off."""


def effective_rf_radius(
    model: nn.Module,
    layer_name: str,
    input_size: int | None = None,
    mass: float = 0.8,
    *,
    images: torch.Tensor | None = None,
    num_inputs: int = 4,
    seed: int = 0,
) -> float:
    """Effective RF radius: around a unit's RF centre, the radius holding `mass` of the unit's
    absolute input gradient, averaged over the (up to 2 x 2) units nearest the map centre
    and over inputs.

    images: [B, 3, H, W] real (normalised) inputs; default num_inputs standard-normal images of
    input_size pixels (seeded). The default `rf_radius` of part interpretability.
    """
    if not 0.0 < mass < 1.0:
        raise ValueError(f"mass must be in (0, 1), got {mass!r}")
    if images is None:
        if num_inputs < 1:
            raise ValueError(f"num_inputs must be positive, got {num_inputs!r}")
        side = _image_shape(model, input_size)[0]
        generator = torch.Generator().manual_seed(seed)
        images = torch.randn(num_inputs, 3, side, side, generator=generator)
    geometry = trace_receptive_field(model, layer_name, images.shape[-1])
    h, w = geometry.map_shape
    centre_rows, centre_cols = sorted({(h - 1) // 2, h // 2}), sorted({(w - 1) // 2, w // 2})
    centre_units = [(row, col) for row in centre_rows for col in centre_cols]
    batch = images.repeat_interleave(len(centre_units), dim=0)
    units = centre_units * len(images)
    gradients = unit_input_gradients(model, layer_name, batch, units)
    radii = [
        radius_holding_mass(gradient, geometry.center(*unit), mass)
        for gradient, unit in zip(gradients, units, strict=True)
    ]
    finite = [radius for radius in radii if math.isfinite(radius)]
    if not finite:
        raise ZeroInputGradient(f"layer {layer_name!r} has zero input gradient at its centre units")
    return float(np.mean(finite))


def measured_rf_radius(
    model: nn.Module, layer_name: str, images: torch.Tensor, mass: float = 0.8
) -> tuple[float, str]:
    """The radius of the disks of S_f and where it comes from.

    The effective RF radius on ``images`` [B, 3, H, W] ("effective"); when the layer is silent
    on them (a barely trained net whose ReLUs are all off there: no gradient reaches its
    units), on seeded noise inputs ("effective on noise"); when no gradient reaches it at all,
    half the theoretical RF ("theoretical"), so a weak model is still measured, not failed.
    """
    try:
        return effective_rf_radius(model, layer_name, mass=mass, images=images), "effective"
    except ZeroInputGradient:
        pass
    side = images.shape[-1]
    try:
        return effective_rf_radius(model, layer_name, side, mass=mass), "effective on noise"
    except ZeroInputGradient:
        return trace_receptive_field(model, layer_name, side).rf_size / 2, "theoretical"
