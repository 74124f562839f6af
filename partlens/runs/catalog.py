"""What a run can be launched with, read off the registries: the CLI's ``partlens catalog``
and the API's ``GET /catalog`` both serve this one record, so no list of choices is kept by
hand anywhere else."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ArchitectureEntry(BaseModel):
    """One registered architecture."""

    name: str
    description: str
    input_size: int = Field(description="The input side (pixels) it is built for.")
    options: list[str] = Field(description="The builder's own options (``width`` for tiny).")


class DatasetEntry(BaseModel):
    """One registered dataset format."""

    name: str
    needs_root: bool = Field(description="Whether it reads files under a root folder.")
    options: list[str]


class FilterLossEntry(BaseModel):
    """One registered filter-loss variant (see docs/method.md §3.5)."""

    name: str
    description: str
    mu_rule: str
    loss_form: str
    z_rule: str
    lambda_rule: str
    default_weight: float
    adaptive_beta: bool


class Catalog(BaseModel):
    """Every choice a run config accepts that a registry owns."""

    architectures: list[ArchitectureEntry]
    datasets: list[DatasetEntry]
    filter_losses: list[FilterLossEntry]
    default_filter_loss: str
    builtin_categories: list[str]


def launch_catalog() -> Catalog:
    """The registries' current contents, in registration order."""
    from partlens.data import BUILTIN_CATEGORIES
    from partlens.data.dataset import DATASETS
    from partlens.models.registry import ARCHITECTURES
    from partlens.nn.variants import DEFAULT_FILTER_LOSS, FILTER_LOSS_VARIANTS

    architectures = [ARCHITECTURES.get(name) for name in ARCHITECTURES]
    datasets = [DATASETS.get(name) for name in DATASETS]
    variants = [FILTER_LOSS_VARIANTS.get(name) for name in FILTER_LOSS_VARIANTS]
    return Catalog(
        architectures=[
            ArchitectureEntry(
                name=a.name, description=a.description, input_size=a.input_size, options=a.options
            )
            for a in architectures
        ],
        datasets=[
            DatasetEntry(name=d.name, needs_root=d.needs_root, options=d.options) for d in datasets
        ],
        filter_losses=[
            FilterLossEntry(
                name=v.name,
                description=v.description,
                mu_rule=v.mu_rule,
                loss_form=v.loss_form,
                z_rule=v.z_rule,
                lambda_rule=v.lambda_rule,
                default_weight=v.default_weight,
                adaptive_beta=v.adaptive_beta,
            )
            for v in variants
        ],
        default_filter_loss=DEFAULT_FILTER_LOSS,
        builtin_categories=list(BUILTIN_CATEGORIES),
    )
