"""Test support: a real stack of service processes (uvicorn API, celery worker, Dash UI)."""

from __future__ import annotations

import contextlib
import os
import signal
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
    workers: int = 1
    # Stacks alive at once on one Redis db need their own queues, or one's worker takes (and
    # drops, not knowing the run) the other's tasks.
    queue: str = "partlens"
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen] = field(default_factory=list)
    worker_processes: dict[str, subprocess.Popen] = field(default_factory=dict)

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
            PARTLENS_QUEUE=self.queue,
        )
        env.pop("PARTLENS_DATABASE_URL", None)
        env.update(self.extra_env)
        return env

    def _spawn(self, args: list[str], log_name: str) -> subprocess.Popen:
        log = open(self.data_dir / f"{log_name}.log", "wb")  # noqa: SIM115 - closed with the process
        # Each service in its own process group, so that stop() also ends a worker's children.
        self.processes.append(
            subprocess.Popen(
                args,
                env=self.env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        return self.processes[-1]

    def start(self, ui: bool = False) -> Stack:
        from partlens.cli import service_commands
        from partlens.config import Settings

        commands = service_commands(
            Settings(api_port=self.api_port, ui_port=self.ui_port, queue=self.queue)
        )
        self._spawn(commands["api"], "api")
        for index in range(self.workers):
            self.start_worker(f"w{index}" if self.workers > 1 else "worker")
        if ui:
            self._spawn(commands["ui"], "ui")
        self.wait_http(f"{self.api_url}/health")
        if ui:
            self.wait_http(self.ui_url)
        return self

    def start_worker(self, name: str) -> subprocess.Popen:
        """Starts one more worker process named ``name`` (its own Celery hostname)."""
        from partlens.cli import service_commands
        from partlens.config import Settings

        command = service_commands(Settings(queue=self.queue))["worker"]
        if self.workers > 1:
            command = [*command, "-n", f"{name}@%h"]
        process = self._spawn(command, name)
        self.worker_processes[name] = process
        return process

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
            _signal_group(p, signal.SIGTERM)
        for p in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=15)
            _signal_group(p, signal.SIGKILL)
            p.wait()


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    """Signals the process group of ``process`` (a worker and its pool children)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
