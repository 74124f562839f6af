"""docker-compose.yml is valid (checked by docker-compose itself, no engine needed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def test_compose_file_is_valid_and_wired():
    compose = shutil.which("docker-compose")
    if compose is None:
        pytest.fail("docker-compose is missing: scripts/system-deps.sh installs it")
    result = subprocess.run(
        [compose, "-f", str(REPO / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert set(services) == {"redis", "api", "ui", "worker"}
    for name in ("api", "ui", "worker", "redis"):
        assert "healthcheck" in services[name], name
    assert services["api"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["ui"]["depends_on"]["api"]["condition"] == "service_healthy"
    devices = services["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"]
    assert "partlens-data" in config["volumes"]


def test_cpu_override_resets_the_gpu_reservation():
    class ComposeLoader(yaml.SafeLoader):
        pass

    ComposeLoader.add_constructor("!reset", lambda loader, node: "!reset")
    override = yaml.load((REPO / "docker-compose.cpu.yml").read_text(), Loader=ComposeLoader)
    assert override == {"services": {"worker": {"deploy": "!reset"}}}
