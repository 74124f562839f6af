from __future__ import annotations

from partlens.data import BUILTIN_CATEGORIES
from partlens.models import list_architectures
from partlens.nn.variants import DEFAULT_FILTER_LOSS, FILTER_LOSS_VARIANTS
from partlens.runs.catalog import Catalog, launch_catalog


def test_the_catalog_is_read_off_the_registries():
    catalog = launch_catalog()
    assert [a.name for a in catalog.architectures] == list_architectures()
    tiny = next(a for a in catalog.architectures if a.name == "tiny")
    assert tiny.input_size == 112 and tiny.options == ["width"]
    vgg = next(a for a in catalog.architectures if a.name == "vgg16")
    assert vgg.input_size == 224
    assert sorted(d.name for d in catalog.datasets) == [
        "builtin",
        "cub200",
        "ilsvrc-part",
        "pascal-part",
    ]
    assert {d.name: d.needs_root for d in catalog.datasets}["builtin"] is False
    assert all(d.needs_root for d in catalog.datasets if d.name != "builtin")
    assert [v.name for v in catalog.filter_losses] == FILTER_LOSS_VARIANTS.names()
    official = next(v for v in catalog.filter_losses if v.name == "official")
    assert official.mu_rule == "centroid" and official.adaptive_beta
    assert catalog.default_filter_loss == DEFAULT_FILTER_LOSS
    assert catalog.builtin_categories == list(BUILTIN_CATEGORIES)


def test_the_catalog_round_trips_as_json():
    catalog = launch_catalog()
    assert Catalog.model_validate_json(catalog.model_dump_json()) == catalog
