"""``partlens train``'s run configuration: presets, registered assets and ``--from-scratch``
resolved as the API resolves them, errors as exit code 2."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from partlens.cli import app
from partlens.commands.assets import launch_config

runner = CliRunner()
FITS_SHIPPED = {"arch": "tiny", "width": 64, "dataset": {"image_size": 96}}


def test_from_scratch_opts_out_of_the_shipped_backbone(data_dir):
    assert launch_config(FITS_SHIPPED, None).weights == "builtin-tiny-96"
    config = launch_config({**FITS_SHIPPED, "from_scratch": True}, None)
    assert config.from_scratch is True and config.weights is None and config.weights_file is None


def test_from_scratch_with_weights_exits_2_naming_the_field(data_dir):
    with pytest.raises(typer.Exit) as error:
        launch_config({**FITS_SHIPPED, "from_scratch": True, "weights": "builtin-tiny-96"}, None)
    assert error.value.exit_code == 2
    result = runner.invoke(app, ["train", "--from-scratch", "--weights", "builtin-tiny-96"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "from_scratch: Value error, from_scratch trains without weights" in result.output
