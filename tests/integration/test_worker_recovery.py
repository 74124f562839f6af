"""Jobs that survive: a SIGKILLed worker's run resumes elsewhere with the same weights, two
workers share a queue, cancel lands fast, and a Redis restart loses nothing (real processes)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis
import torch
from safetensors.torch import load_file

from partlens.runs.config import RunConfig
from partlens.runs.pipeline import run_pipeline
from partlens.store import RunArtifacts
from tests.support import REDIS_TEST_URL, Stack, free_port

pytestmark = pytest.mark.integration

# PARTLENS_TEST_LEASE_S=20 measures the default lease (the suite uses a short one).
LEASE_S = float(os.environ.get("PARTLENS_TEST_LEASE_S", "4"))
FAST_LEASES = {
    "PARTLENS_LEASE_S": str(LEASE_S),
    "PARTLENS_CHECKPOINT_INTERVAL_S": "0.5",
    "PARTLENS_HISTORY_INTERVAL_S": "0.2",
}
# Long enough to be killed mid-training on 2 cores, short enough for the suite.
LONG_RUN = {
    "arch": "tiny",
    "width": 8,
    "epochs": 3,
    "batch_size": 8,
    "dataset": {"image_size": 64, "train_size": 384, "eval_size": 8},
}


@pytest.fixture
def stack_factory(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    stacks: list[Stack] = []
    client = redis.Redis.from_url(REDIS_TEST_URL)

    def start(broker_url: str = REDIS_TEST_URL, **options) -> Stack:
        client.flushdb()
        # The single tests' Redis db and its own queue: the session stack stays alive meanwhile.
        stack = Stack(tmp_path / f"stack{len(stacks)}", broker_url, queue="recovery", **options)
        stack.data_dir.mkdir()
        stacks.append(stack)
        return stack.start()

    yield start
    for stack in stacks:
        stack.stop()
    client.flushdb()


def _launch(stack: Stack, body: dict) -> str:
    response = httpx.post(f"{stack.api_url}/runs", json=body, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _run(stack: Stack, run_id: str) -> dict:
    return httpx.get(f"{stack.api_url}/runs/{run_id}", timeout=10).json()


def _wait(stack: Stack, run_id: str, done: Callable[[dict], bool], timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = _run(stack, run_id)
        if done(run):
            return run
        time.sleep(0.1)
    raise TimeoutError(f"run {run_id} never got there: {run}\n{stack.logs()}")


def _uninterrupted_weights(tmp_path: Path, body: dict) -> dict[str, torch.Tensor]:
    config = RunConfig.model_validate(body).model_dump()
    artifacts = RunArtifacts(tmp_path / "reference", "ref")
    run_pipeline(config, artifacts)
    return load_file(str(artifacts.model_dir / "model.safetensors"))


def test_a_sigkilled_worker_s_run_resumes_on_another_with_the_same_weights(stack_factory, tmp_path):
    stack = stack_factory(workers=2, extra_env=FAST_LEASES)
    run_id = _launch(stack, LONG_RUN)
    running = _wait(stack, run_id, lambda r: r["status"] == "running" and r["step"] >= 20, 180)
    checkpoint = stack.data_dir / "runs" / run_id / "checkpoints"
    assert checkpoint.is_dir()
    holder_pid = int(running["worker_id"].rsplit(":", 1)[1])
    victim = next(p for p in stack.worker_processes.values() if p.pid == os.getpgid(holder_pid))
    os.killpg(victim.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    victim.wait()
    resumed = _wait(stack, run_id, lambda r: r["attempts"] == 2 and r["stage"] == "training", 90)
    kill_to_resume_s = time.monotonic() - killed_at
    print(f"kill -> resumed training: {kill_to_resume_s:.1f} s with a {LEASE_S:g} s lease")
    assert kill_to_resume_s <= 60
    assert resumed["worker_id"] != running["worker_id"]
    final = _wait(stack, run_id, lambda r: r["status"] in ("succeeded", "failed"), 240)
    assert final["status"] == "succeeded", final["error"]
    assert final["attempts"] == 2

    root = stack.data_dir / "runs" / run_id
    history = [json.loads(line) for line in (root / "history.jsonl").read_text().splitlines()]
    steps = [p["step"] for p in history if p["kind"] == "step"]
    assert steps == sorted(steps) and len(steps) == len(set(steps)), "no step recorded twice"
    assert {p["attempt"] for p in history} == {1, 2}
    log_text = (root / "run.log").read_text()
    assert "attempt 1 on" in log_text and "attempt 2 on" in log_text
    assert "resuming from step" in log_text
    assert not [p.name for p in root.iterdir() if p.name.startswith(".")], "no staging left"
    metrics = httpx.get(f"{stack.api_url}/runs/{run_id}/metrics", timeout=30)
    assert metrics.status_code == 200

    expected = _uninterrupted_weights(tmp_path, LONG_RUN)
    actual = load_file(str(root / "model" / "model.safetensors"))
    assert expected.keys() == actual.keys()
    worst = max(
        (expected[k].float() - actual[k].float()).abs().max().item()
        for k in expected
        if expected[k].numel()
    )
    assert worst <= 1e-6, f"resumed weights differ from an uninterrupted run by {worst}"


def test_two_workers_run_two_runs_in_parallel_each_once(stack_factory):
    stack = stack_factory(workers=2, extra_env=FAST_LEASES)
    host = os.uname().nodename
    deadline = time.monotonic() + 60
    while True:  # the workers start after the API answers
        health = httpx.get(f"{stack.api_url}/health", params={"workers": True}, timeout=30)
        workers = health.json()["workers"] or {}
        if len(workers) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert sorted(workers) == [f"w0@{host}", f"w1@{host}"]
    assert all(queues == ["recovery"] for queues in workers.values())
    body = {**LONG_RUN, "epochs": 1}
    run_ids = [_launch(stack, body), _launch(stack, body)]
    runs = [_wait(stack, r, lambda r: r["status"] == "succeeded", 240) for r in run_ids]
    assert [r["attempts"] for r in runs] == [1, 1]
    assert runs[0]["worker_id"] != runs[1]["worker_id"]
    first, second = sorted(runs, key=lambda r: r["started_at"])
    assert second["started_at"] < first["finished_at"], "the two runs overlapped in time"
    received = sum(
        (stack.data_dir / f"{name}.log").read_text().count("Task partlens.execute_run")
        for name in stack.worker_processes
    )
    assert received == 2 * 2, "each task received once and succeeded once"


def test_cancel_lands_within_5_s_and_a_cancelled_queued_run_never_starts(stack_factory):
    stack = stack_factory(extra_env=FAST_LEASES)
    running_id = _launch(stack, LONG_RUN)
    queued_id = _launch(stack, LONG_RUN)
    _wait(stack, running_id, lambda r: r["stage"] == "training" and r["step"] >= 5, 180)
    cancelled = httpx.post(f"{stack.api_url}/runs/{queued_id}/cancel", timeout=10).json()
    assert cancelled["status"] == "cancelled"
    asked_at = time.monotonic()
    httpx.post(f"{stack.api_url}/runs/{running_id}/cancel", timeout=10)
    run = _wait(stack, running_id, lambda r: r["status"] == "cancelled", 30)
    latency_s = time.monotonic() - asked_at
    print(f"cancel latency: {latency_s:.2f} s")
    assert latency_s <= 5
    assert (stack.data_dir / "runs" / running_id / "checkpoints").is_dir(), "partial kept"
    assert run["step"] < run["steps_total"]
    time.sleep(3)  # the worker is free now: it must not start the cancelled queued run
    queued = _run(stack, queued_id)
    assert queued["status"] == "cancelled"
    assert queued["attempts"] == 0 and queued["started_at"] is None


class RedisServer:
    """A private redis-server with an append-only file, so a restart keeps its queue."""

    def __init__(self, directory: Path) -> None:
        self.directory, self.port = directory, free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is installed by scripts/system-deps.sh"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url).ping():
                    return
            except redis.RedisError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


def test_a_run_queued_across_a_redis_restart_is_processed_after_it_returns(stack_factory, tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    try:
        stack = stack_factory(broker_url=server.url, extra_env=FAST_LEASES)
        first = _launch(stack, LONG_RUN)
        _wait(stack, first, lambda r: r["stage"] == "training", 180)
        queued = _launch(stack, {**LONG_RUN, "epochs": 1})
        server.stop()
        time.sleep(3)
        server.start()
        runs = [_wait(stack, r, lambda r: r["status"] == "succeeded", 300) for r in (first, queued)]
        assert [r["attempts"] for r in runs] == [1, 1]
        assert all(p.poll() is None for p in stack.worker_processes.values()), "worker survived"
    finally:
        server.stop()
