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
    assert set(services) == {"redis", "postgres", "api", "ui", "worker"}
    for name in ("api", "ui", "worker", "redis", "postgres"):
        assert "healthcheck" in services[name], name
    assert services["api"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["ui"]["depends_on"]["api"]["condition"] == "service_healthy"
    devices = services["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"]
    assert "partlens-data" in config["volumes"]
    assert services["redis"]["command"][-2:] == ["--appendonly", "yes"]
    assert services["api"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    url = services["worker"]["environment"]["PARTLENS_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://") and "@postgres:" in url
    # Scalable: no fixed container name or host port on the worker.
    assert "container_name" not in services["worker"] and "ports" not in services["worker"]


def test_cpu_override_resets_the_gpu_reservation():
    class ComposeLoader(yaml.SafeLoader):
        pass

    ComposeLoader.add_constructor("!reset", lambda loader, node: "!reset")
    override = yaml.load((REPO / "docker-compose.cpu.yml").read_text(), Loader=ComposeLoader)
    assert override == {"services": {"worker": {"deploy": "!reset"}}}
