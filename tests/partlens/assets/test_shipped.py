"""Shipped backbones: listed and resolved like registered weights, the default for built-in
runs whose sizes match."""

from __future__ import annotations

from typing import Any

import pytest

from partlens.assets import AssetConflictError
from partlens.assets.shipped import PretrainRecipe, default_weights, shipped_weights
from partlens.assets.weights import (
    get_weights,
    list_weights,
    register_weights,
    resolve_run_weights,
    weights_file,
)
from partlens.store import create_session_factory

RECIPE = PretrainRecipe(
    arch="tiny", generator_version=2, seed=0, data_seed=1, image_size=96, width=64,
    train_images=10, test_images=5, epochs=1, batch_size=8, lr=0.01, lr_final=0.001,
    train_accuracy=0.5, test_accuracy=0.5, seconds=1.0,
)  # fmt: skip


@pytest.fixture
def sessions(tmp_path):
    return create_session_factory(f"sqlite:///{tmp_path / 'db.sqlite'}")


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "pretrained"
    folder.mkdir()
    (folder / "builtin-tiny-96.safetensors").write_bytes(b"weights")
    (folder / "builtin-tiny-96.json").write_text(RECIPE.model_dump_json())
    # Without its recipe a file's sizes are unknown: it is not listed.
    (folder / "builtin-tiny-64.safetensors").write_bytes(b"orphan")
    return folder


def _run(**fields):
    config: dict[str, Any] = {"arch": "tiny", "width": None, "weights": None, "weights_file": None}
    config["dataset"] = {"name": "builtin", "image_size": 96}
    return {**config, **fields}


def test_a_shipped_file_is_listed_with_its_recipe(folder):
    shipped = shipped_weights(folder)
    assert list(shipped) == ["builtin-tiny-96"]
    assert shipped["builtin-tiny-96"].recipe == RECIPE
    assert shipped["builtin-tiny-96"].size_bytes == len(b"weights")


def test_default_weights_fit_the_arch_size_and_width_of_builtin_runs_only(folder):
    assert default_weights(_run(), folder) is None  # width None is tiny's 128, not 64
    assert default_weights(_run(width=64), folder) == "builtin-tiny-96"
    assert default_weights(_run(width=32), folder) is None
    assert default_weights(_run(width=64, weights="mine"), folder) is None
    assert default_weights(_run(width=64, dataset={"name": "pascal"}), folder) is None
    small = _run(width=64, dataset={"name": "builtin", "image_size": 64})
    assert default_weights(small, folder) is None
    assert default_weights(_run(width=64, arch="vgg16"), folder) is None


def test_the_package_ships_tiny_96_listed_and_resolved_without_registration(sessions):
    names = [entry.name for entry in list_weights(sessions)]
    assert "builtin-tiny-96" in names
    entry = get_weights(sessions, "builtin-tiny-96")
    assert entry.arch == "tiny" and entry.layout == "partlens" and entry.options == {"width": 64}
    assert entry.num_tensors > 10 and entry.size_bytes > 0  # read from the file's header
    path = weights_file(sessions, "builtin-tiny-96", "tiny")
    assert path.endswith("partlens/assets/pretrained/builtin-tiny-96.safetensors")
    # A built-in run at 96 px, width 64, naming no weights starts from it.
    update = resolve_run_weights(_run(width=64), sessions)
    assert update == {"weights": "builtin-tiny-96", "weights_file": path, "width": 64}
    assert resolve_run_weights(_run(dataset={"name": "builtin", "image_size": 64}), sessions) == {}


def test_shipped_names_cannot_be_registered(sessions, tmp_path):
    source = tmp_path / "w.safetensors"
    source.write_bytes(b"x")
    with pytest.raises(AssetConflictError, match="shipped"):
        register_weights(sessions, "builtin-tiny-96", source, "tiny", tmp_path / "data")


def test_a_run_from_scratch_gets_no_default_weights(folder, sessions):
    assert default_weights(_run(width=64, from_scratch=True), folder) is None
    assert resolve_run_weights(_run(width=64, from_scratch=True), sessions) == {}
