"""Importing the library and the apps, and building the API, opens no network connection."""

from __future__ import annotations

import subprocess
import sys
import textwrap

GUARD = textwrap.dedent(
    """
    import socket

    attempts = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError("network I/O at import time")

    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    """
)
CHECK = '\nassert not attempts, attempts\nprint("offline ok")\n'


def _probe(body: str, tmp_path) -> None:
    env = {
        "PARTLENS_DATA_DIR": str(tmp_path),
        "PARTLENS_BROKER_URL": "redis://192.0.2.1:6379/0",  # TEST-NET-1: never answers
        "PARTLENS_API_URL": "http://192.0.2.1:8000",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", GUARD + body + CHECK],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and "offline ok" in result.stdout, result.stderr


def test_importing_the_library_and_the_apps_connects_to_nothing(tmp_path):
    _probe(
        "import partlens, partlens.cli, partlens.runs.pipeline, partlens.runs.reproduce\n"
        "import backend.main, frontend.app",
        tmp_path,
    )


def test_building_the_api_connects_to_nothing(tmp_path):
    _probe("from backend.main import create_app\ncreate_app()", tmp_path)
