"""The `make demo` run: a valid launch that fine-tunes both twins from the shipped backbone."""

from __future__ import annotations

from partlens.assets.weights import resolve_run_weights
from partlens.cli import DEMO_RUN, demo_run_config
from partlens.store import create_session_factory


def test_the_demo_run_starts_both_twins_from_the_shipped_96_px_backbone(tmp_path):
    config = demo_run_config()
    assert DEMO_RUN["with_twin"] and config.interpretable
    assert config.dataset.name == "builtin" and config.dataset.image_size == 96
    assert config.dataset.task == "single" and config.dataset.category == "cat"
    sessions = create_session_factory(f"sqlite:///{tmp_path / 'db.sqlite'}")
    update = resolve_run_weights(config.model_dump(), sessions)
    assert update["weights_file"].endswith("builtin-tiny-96.safetensors")
    assert update["width"] == config.width == 64
