"""Test support: a real stack of service processes (uvicorn API, celery worker, Dash UI)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# Two test-only db indexes: 15 for the session stack, 14 for single tests. The environment can
# move them, so that two test runs on one machine do not empty each other's queues.
STACK_REDIS_URL = os.environ.get("PARTLENS_TEST_STACK_REDIS_URL", "redis://127.0.0.1:6379/15")
REDIS_TEST_URL = os.environ.get("PARTLENS_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
REPO = Path(__file__).resolve().parents[1]

# A tiny job: a few training steps on a few dozen 64 px images.
TINY_RUN = {
    "arch": "tiny",
    "epochs": 1,
    "batch_size": 8,
    "max_steps": 3,
    "dataset": {"image_size": 64, "train_size": 32, "eval_size": 12},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Stack:
    """Real service processes sharing one data dir and broker."""

    data_dir: Path
    broker_url: str
    api_port: int = field(default_factory=free_port)
    ui_port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/api/v1"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}"

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            PARTLENS_DATA_DIR=str(self.data_dir),
            PARTLENS_BROKER_URL=self.broker_url,
            PARTLENS_API_URL=self.api_url,
            PARTLENS_API_PORT=str(self.api_port),
            PARTLENS_UI_PORT=str(self.ui_port),
            PARTLENS_DEVICE="cpu",
        )
        env.pop("PARTLENS_DATABASE_URL", None)
        return env

    def _spawn(self, args: list[str], log_name: str) -> None:
        log = open(self.data_dir / f"{log_name}.log", "wb")  # noqa: SIM115 - closed with the process
        self.processes.append(
            subprocess.Popen(args, env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        )

    def start(self, ui: bool = False) -> Stack:
        from partlens.cli import service_commands
        from partlens.config import Settings

        commands = service_commands(Settings(api_port=self.api_port, ui_port=self.ui_port))
        for name in ("api", "worker", "ui") if ui else ("api", "worker"):
            self._spawn(commands[name], name)
        self.wait_http(f"{self.api_url}/health")
        if ui:
            self.wait_http(self.ui_url)
        return self

    def wait_http(self, url: str, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if any(p.poll() is not None for p in self.processes):
                break
            time.sleep(0.3)
        raise RuntimeError(f"{url} did not come up; logs:\n{self.logs()}")

    def wait_run(self, run_id: str, timeout_s: float = 240) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            run = httpx.get(f"{self.api_url}/runs/{run_id}", timeout=5).json()
            if run["status"] in ("succeeded", "failed", "cancelled"):
                return run
            time.sleep(0.5)
        raise TimeoutError(f"run {run_id} did not finish; logs:\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.data_dir.glob("*.log"))
        )

    def stop(self) -> None:
        for p in self.processes:
            if p.poll() is None:
                p.terminate()
        for p in self.processes:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
