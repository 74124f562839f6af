"""A run's configuration and how it turns into a dataset, a model and a training config.

One schema serves the CLI (``partlens train``), the API (``POST /runs``) and the worker, so a
run launched from any of them means the same thing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)


class DatasetSpec(BaseModel):
    """Which images a run trains and evaluates on."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        default="builtin", description="builtin, or a dataset registered with the server."
    )
    task: Literal["single", "multi"] = "single"
    category: str | None = Field(
        default="bird", description="Target category for single-category runs."
    )
    image_size: int | None = Field(
        default=None, ge=32, le=512, description="Input side in pixels; default: the arch's."
    )
    train_size: int = Field(default=256, ge=4, le=100_000)
    eval_size: int = Field(default=64, ge=2, le=20_000)
    seed: int = Field(default=0, ge=0)
    # Filled by the server from the registered dataset (partlens.assets.datasets) before the
    # run is queued, so that the worker needs no lookup and the run records what it used.
    format: str | None = Field(default=None, description="Set by the server.")
    root: str | None = Field(default=None, description="Set by the server.")
    categories: list[str] | None = Field(default=None, description="Set by the server.")

    @model_validator(mode="after")
    def _category_known(self) -> DatasetSpec:
        from partlens.data import BUILTIN_CATEGORIES

        if self.name != "builtin":
            # Checked against the registered dataset's categories when the server resolves it.
            if self.task == "multi":
                self.category = None
            return self
        if self.task == "single":
            if self.category not in BUILTIN_CATEGORIES:
                raise ValueError(
                    f"unknown category {self.category!r}; choose one of "
                    f"{', '.join(BUILTIN_CATEGORIES)}"
                )
        else:
            self.category = None
        return self


class RunConfig(BaseModel):
    """Everything needed to reproduce one training run."""

    model_config = ConfigDict(extra="forbid")

    arch: str = "tiny"
    interpretable: bool = True
    dataset: DatasetSpec = Field(default_factory=DatasetSpec)
    epochs: int = Field(default=2, ge=1, le=1000)
    batch_size: int = Field(default=32, ge=1, le=4096)
    lr: float = Field(default=0.01, gt=0, le=10)
    lr_final: float | None = Field(
        default=None, gt=0, le=10, description="Decay lr geometrically to this by the last epoch."
    )
    width: int | None = Field(
        default=None, ge=8, le=4096, description="tiny only: filters of its top layers."
    )
    weights: str | None = Field(
        default=None,
        description="Weights registered with the server (or, from the CLI, a local file): a "
        "partlens or torchvision state dict loaded into the network at build time.",
    )
    weights_file: str | None = Field(
        default=None, description="Set by the server: the registered weights' stored file."
    )
    from_scratch: bool = Field(
        default=False,
        description="Train from randomly initialised weights: no shipped backbone even where "
        "one fits the run (which a run naming no weights otherwise starts from). Excludes "
        "weights.",
    )
    filter_loss: str = Field(default="assigned-mi", description="A registered filter-loss variant.")
    filter_loss_weight: float | None = Field(
        default=None, ge=0, le=1000, description="lambda's weight; default: the variant's own."
    )
    multi_loss: Literal["softmax", "logistic"] = "softmax"
    seed: int = Field(default=0, ge=0)
    max_steps: int | None = Field(default=None, ge=1)
    deterministic: bool = Field(
        default=False,
        description="CUDA: deterministic kernels only (slower; CPU training is deterministic "
        "for a seed and thread count either way).",
    )
    compile: bool = Field(
        default=False,
        description="torch.compile the forward pass and the filter loss (about 10 % faster CPU "
        "steps after a compile of up to a minute, so for long runs only; not bit-identical to "
        "eager; falls back to eager with a warning when compiling fails).",
    )

    @field_validator("arch")
    @classmethod
    def _arch_known(cls, arch: str) -> str:
        from partlens.models import list_architectures

        known = list_architectures()
        if arch not in known:
            raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(known)}")
        return arch

    @field_validator("filter_loss")
    @classmethod
    def _filter_loss_known(cls, name: str) -> str:
        from partlens.nn import filter_loss_variant

        return filter_loss_variant(name).name

    @field_validator("from_scratch")
    @classmethod
    def _scratch_without_weights(cls, from_scratch: bool, info: ValidationInfo) -> bool:
        # A field validator (after weights, in field order), so the error names this field.
        if from_scratch and info.data.get("weights") is not None:
            raise ValueError(
                f"from_scratch trains without weights, but weights {info.data['weights']!r} "
                "are given: leave weights unset or from_scratch false"
            )
        return from_scratch

    @model_validator(mode="after")
    def _weights_file(self) -> RunConfig:
        # A path (CLI, reproduce) is its own file; a registered name is resolved by the server.
        if self.weights is not None and self.weights_file is None and Path(self.weights).is_file():
            self.weights_file = self.weights
        if self.weights_file is not None and not Path(self.weights_file).is_file():
            raise ValueError(f"weights file {self.weights_file} does not exist")
        return self

    @model_validator(mode="after")
    def _width_only_for_tiny(self) -> RunConfig:
        if self.width is not None and self.arch != "tiny":
            raise ValueError(f"width applies to tiny only, not {self.arch}")
        return self

    @model_validator(mode="after")
    def _default_image_size(self) -> RunConfig:
        from partlens.models import default_input_size

        if self.dataset.image_size is None:
            self.dataset.image_size = default_input_size(self.arch)
        return self

    def twin(self) -> RunConfig:
        """The same run with the other kind of network (interpretable <-> ordinary)."""
        return self.model_copy(update={"interpretable": not self.interpretable})


def _dataset(config: dict[str, Any], split: str, size_key: str, augment: bool) -> Any:
    from partlens.data import limit_dataset, load_dataset

    spec = DatasetSpec.model_validate(config["dataset"])
    options: dict[str, Any] = {"task": spec.task}
    if spec.task == "single":
        options["category"] = spec.category
    if augment:
        options["augment"] = True
    if spec.image_size is None:
        raise ValueError("the dataset's image_size is unset: validate the config with RunConfig")
    size = getattr(spec, size_key)
    if spec.name == "builtin":
        return load_dataset("builtin", split, spec.image_size, size=size, seed=spec.seed, **options)
    if spec.format is None or spec.root is None:
        raise ValueError(
            f"dataset {spec.name!r} is not resolved: launch the run through the API or CLI, "
            "which look up the registered dataset"
        )
    dataset = load_dataset(spec.format, split, spec.image_size, root=spec.root, **options)
    return limit_dataset(dataset, size, spec.seed)


def build_train_dataset(config: dict[str, Any]) -> Any:
    """The training split of the run's dataset (with flip augmentation)."""
    return _dataset(config, "train", "train_size", augment=True)


def build_eval_dataset(config: dict[str, Any]) -> Any:
    """The evaluation (test) split of the run's dataset, in a fixed order."""
    return _dataset(config, "test", "eval_size", augment=False)


def num_classes(config: dict[str, Any]) -> int:
    """One logit for single-category runs, one per category for multi-category runs."""
    from partlens.data import BUILTIN_CATEGORIES

    if config["dataset"]["task"] == "single":
        return 1
    return len(config["dataset"].get("categories") or BUILTIN_CATEGORIES)


def build_run_model(config: dict[str, Any]) -> Any:
    """A fresh model for the run's architecture and kind."""
    from partlens.models import build_model

    options: dict[str, Any] = {"input_size": config["dataset"]["image_size"]}
    if config.get("width") is not None:
        options["width"] = config["width"]
    return build_model(
        config["arch"],
        interpretable=config["interpretable"],
        num_classes=num_classes(config),
        weights=config.get("weights_file") or config.get("weights"),
        filter_loss=config["filter_loss"],
        **options,
    )


def train_config(
    config: dict[str, Any], device: str = "auto", checkpoint_every_s: float | None = None
) -> Any:
    """The :class:`partlens.training.loop.TrainConfig` for a run."""
    from partlens.training.loop import TrainConfig

    return TrainConfig(
        filter_loss_weight=config.get("filter_loss_weight"),
        checkpoint_every_s=checkpoint_every_s,
        epochs=config["epochs"],
        batch_size=config["batch_size"],
        lr=config["lr"],
        lr_final=config.get("lr_final"),
        task=config["dataset"]["task"],
        multi_loss=config["multi_loss"],
        filter_loss=config["filter_loss"],
        seed=config["seed"],
        device=device,
        max_steps=config["max_steps"],
        deterministic=config.get("deterministic", False),
        compile=config.get("compile", False),
    )
