"""Named starting points for a run's configuration: the paper's protocol one click away.

A preset is a partial :class:`partlens.runs.config.RunConfig` (plus ``with_twin``): the form,
the API and ``partlens train --preset`` start from it and every field stays editable; fields
given explicitly win over the preset's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from partlens.registry import Registry


@dataclass(frozen=True)
class RunPreset:
    """A partial run configuration with a description for the UI."""

    name: str
    description: str
    values: dict[str, Any] = field(default_factory=dict)


PRESETS: Registry[RunPreset] = Registry("preset")


def register_preset(preset: RunPreset) -> RunPreset:
    """Add ``preset`` to :data:`PRESETS` under its name."""
    return PRESETS.add(preset.name, preset)


# The paper's fine-tuning (Zhang et al. 2018, Sec. 4.1): VGG-16 from pretrained weights, bbox
# crops at 224 px with flipped positives, SGD with momentum 0.9 and weight decay 5e-4 (the
# training loop's defaults), lr decaying 1e-4 -> 1e-5, each net with its ordinary twin.
_PAPER = {
    "arch": "vgg16",
    "epochs": 30,
    "batch_size": 32,
    "lr": 1e-4,
    "lr_final": 1e-5,
    "with_twin": True,
}
register_preset(
    RunPreset(
        "paper-single",
        "The paper's single-category protocol: VGG-16, 224 px bbox crops, fine-tune from the "
        "chosen weights, lr 1e-4 -> 1e-5, with its ordinary twin.",
        {**_PAPER, "dataset": {"task": "single", "image_size": 224}},
    )
)
register_preset(
    RunPreset(
        "paper-multi",
        "The paper's multi-category protocol (softmax over the categories), otherwise as "
        "paper-single.",
        {**_PAPER, "multi_loss": "softmax", "dataset": {"task": "multi", "image_size": 224}},
    )
)
register_preset(
    RunPreset(
        "quick",
        "A few minutes on a CPU: tiny at 64 px on 512 built-in images, with its twin.",
        {
            "arch": "tiny",
            "epochs": 3,
            "batch_size": 32,
            "lr": 0.01,
            "with_twin": True,
            "dataset": {"image_size": 64, "train_size": 512, "eval_size": 64},
        },
    )
)


def apply_preset(name: str | None, given: dict[str, Any]) -> dict[str, Any]:
    """The preset's values with ``given`` (the fields set explicitly) merged over them; the
    dataset spec is merged key by key. ``given`` itself when no preset is named."""
    if name is None:
        return dict(given)
    values = PRESETS.get(name).values
    merged = {**values, **given}
    if "dataset" in values or "dataset" in given:
        merged["dataset"] = {**values.get("dataset", {}), **given.get("dataset", {})}
    return merged
