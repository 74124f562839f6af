"""The ``partlens`` command: training in-process, clear errors, and ``up`` / Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from PIL import Image
from typer.testing import CliRunner

from partlens.cli import app
from partlens.store import RunArtifacts, create_session_factory
from partlens.store.db import Run
from tests.support import REPO, free_port

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    from partlens.config import get_settings

    monkeypatch.setenv("PARTLENS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PARTLENS_DEVICE", "cpu")
    monkeypatch.delenv("PARTLENS_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_train_records_run_and_writes_artifacts(data_dir):
    result = runner.invoke(
        app,
        [
            "train",
            "--max-steps",
            "2",
            "--batch-size",
            "8",
            "--train-size",
            "16",
            "--eval-size",
            "6",
            "--image-size",
            "64",
            "--epochs",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    sessions = create_session_factory(f"sqlite:///{data_dir.resolve()}/partlens.sqlite")
    with sessions() as session:
        (run,) = session.query(Run).all()
    assert run.status == "succeeded" and run.step == 2
    artifacts = RunArtifacts(data_dir / "runs", run.id)
    manifest = artifacts.manifest()
    assert manifest["num_images"] == 6
    assert list(manifest["layers"]) == ["conv_top", "conv_added"]
    first = artifacts.metrics()
    assert first["run_id"] == run.id

    evaluated = runner.invoke(app, ["evaluate", run.id])
    assert evaluated.exit_code == 0, evaluated.output
    assert "part interpretability" in evaluated.output.lower()
    assert artifacts.metrics()["layers"] == first["layers"], "re-evaluation is deterministic"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--epochs", "-1"], "epochs"),
        (["train", "--arch", "resnet9000"], "unknown architecture"),
        (["train", "--category", "unicorn"], "unknown category"),
        (["dataset", "preview", "no-such-dataset"], "no-such-dataset"),
        (["evaluate", "no-such-run"], "no run 'no-such-run'"),
        (["reproduce", "--budget", "huge"], "unknown budget 'huge'"),
        (["reproduce", "--weights", "/nonexistent.safetensors"], "does not exist"),
    ],
)
def test_bad_input_exits_2_with_message(data_dir, args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_dataset_preview_writes_contact_sheet(data_dir):
    out = data_dir / "sheet.png"
    result = runner.invoke(
        app, ["dataset", "preview", "builtin", "--n", "4", "-o", str(out), "--image-size", "64"]
    )
    assert result.exit_code == 0, result.output
    with Image.open(out) as sheet:
        assert sheet.width >= 2 * 64 and sheet.height >= 64


@pytest.mark.integration
def test_up_falls_back_to_embedded_broker_and_ctrl_c_stops_everything(tmp_path):
    api_port, ui_port = free_port(), free_port()
    env = dict(
        os.environ,
        PARTLENS_DATA_DIR=str(tmp_path),
        PARTLENS_BROKER_URL="redis://127.0.0.1:1/0",
        PARTLENS_API_PORT=str(api_port),
        PARTLENS_UI_PORT=str(ui_port),
        PARTLENS_API_URL=f"http://127.0.0.1:{api_port}/api/v1",
    )
    # A file, not a pipe: nobody reads a pipe while the stack runs, and the children would
    # block once its buffer filled up.
    log_path = tmp_path / "up.log"
    with open(log_path, "w") as log:
        up = subprocess.Popen(
            [sys.executable, "-m", "partlens.cli", "up"],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    ui_url = f"http://127.0.0.1:{ui_port}/"
    try:
        health_url = f"http://127.0.0.1:{api_port}/api/v1/health"
        deadline = time.monotonic() + 90
        pending = [ui_url, health_url]
        while pending and time.monotonic() < deadline:
            try:
                if httpx.get(pending[0], timeout=2).status_code == 200:
                    pending.pop(0)
            except httpx.HTTPError:
                time.sleep(0.5)
        assert not pending, f"not up: {pending}"
        health = httpx.get(f"http://127.0.0.1:{api_port}/api/v1/health", timeout=5).json()
        assert health["broker"] == "sqla+sqlite"
    finally:
        up.send_signal(signal.SIGINT)
        up.wait(timeout=90)
    output = log_path.read_text()
    assert "embedded broker" in output
    assert up.returncode == 0
    for url in (ui_url, health_url):
        with pytest.raises(httpx.ConnectError):
            httpx.get(url, timeout=2)


def test_catalog_lists_the_registries():
    result = runner.invoke(app, ["catalog"])
    assert result.exit_code == 0, result.output
    assert "tiny" in result.output and "vgg16" in result.output
    assert "assigned-mi   weight 5 (default)" in result.output
    assert "pascal-part" in result.output and "reads a root folder" in result.output
    as_json = runner.invoke(app, ["catalog", "--json"])
    assert json.loads(as_json.output)["default_filter_loss"] == "assigned-mi"
