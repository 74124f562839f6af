"""``partlens pretrain``: writes a loadable weights file and its recipe; bad input exits 2."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from partlens.cli import app
from partlens.data.builtin import GENERATOR_VERSION
from partlens.models import build_model

TINY = ["--image-size", "64", "--width", "8", "--train-size", "16", "--test-size", "8",
        "--epochs", "1", "--batch-size", "8", "--max-steps", "1"]  # fmt: skip


def test_pretrain_writes_weights_and_recipe(tmp_path, monkeypatch):
    monkeypatch.setenv("PARTLENS_DATA_DIR", str(tmp_path / "data"))
    output = tmp_path / "tiny.safetensors"
    result = CliRunner().invoke(app, ["pretrain", str(output), *TINY])
    assert result.exit_code == 0, result.output
    recipe = json.loads(output.with_suffix(".json").read_text())
    assert recipe["generator_version"] == GENERATOR_VERSION
    assert (recipe["image_size"], recipe["width"], recipe["train_images"]) == (64, 8, 16)
    build_model("tiny", interpretable=False, num_classes=6, weights=output, width=8)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["out.pt"], "safetensors"),
        (["out.safetensors", "--width", "4"], "width"),
        (["out.safetensors", "--arch", "unicorn"], "unicorn"),
        (["out.safetensors", "--epochs", "0"], "epochs"),
        (["missing/out.safetensors"], "does not exist"),
    ],
)
def test_bad_input_exits_2_with_a_message(tmp_path, monkeypatch, arguments, message):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["pretrain", *arguments])
    assert result.exit_code == 2 and message in result.output
