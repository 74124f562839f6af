"""Latency and throughput of the API's read routes under concurrent clients.

Trains one tiny run in-process (``run_pipeline``: 128 filters in ``conv_added``) into a temporary
data dir, serves it with uvicorn in its own process as ``partlens api`` does (plus, for this
bench only, a static route serving the cached overlay's bytes), then hammers each request with
``--clients`` threads (one httpx client each) and prints p50 / p95 / req/s, the server's CPU
ms per request (robust to a busy machine), the ratios to the static route and the issue's
targets. Cold renders of the contact sheet are timed first.

    .venv/bin/python bench/api.py                     # 16 clients, 200 requests per row
    .venv/bin/python bench/api.py --clients 64 --requests 400
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from partlens.config import get_settings

REPO = Path(__file__).resolve().parents[1]
LAYER = "conv_added"
TARGETS = {"overlay p95 ms": 25.0, "overlay / static p95": 2.0, "activation p95 ms": 15.0}


def bench_app():  # type: ignore[no-untyped-def]
    """The API of ``create_app`` with a static route on ``$BENCH_STATIC_DIR`` (uvicorn factory)."""
    from fastapi.staticfiles import StaticFiles

    from backend.main import create_app

    app = create_app()
    app.mount("/static", StaticFiles(directory=os.environ["BENCH_STATIC_DIR"]), name="static")
    return app


def train_run(data_dir: Path, image_size: int, eval_size: int) -> str:
    """A finished tiny run (default width: 128 filters) recorded in the DB; its id."""
    from partlens.config import Settings
    from partlens.runs.config import RunConfig
    from partlens.runs.pipeline import run_pipeline
    from partlens.store import Run, RunArtifacts, create_session_factory

    settings = Settings(data_dir=data_dir)
    config = RunConfig.model_validate(
        {
            "arch": "tiny",
            "epochs": 1,
            "batch_size": 16,
            "max_steps": 2,
            "dataset": {"image_size": image_size, "train_size": 32, "eval_size": eval_size},
        }
    ).model_dump()
    sessions = create_session_factory(settings.resolved_database_url)
    with sessions() as session:
        run = Run(name="bench", config=config, queue="bench", status="succeeded")
        session.add(run)
        session.commit()
        run_id = run.id
    run_pipeline(config, RunArtifacts(settings.runs_dir, run_id))
    return run_id


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(data_dir: Path, static_dir: Path, port: int, workers: int) -> subprocess.Popen:
    """uvicorn on ``bench_app`` with ``workers`` processes, as ``partlens api``, once it
    answers."""
    env = {
        **os.environ,
        "PARTLENS_DATA_DIR": str(data_dir),
        "BENCH_STATIC_DIR": str(static_dir),
        "PYTHONPATH": str(REPO),
    }
    command = [sys.executable, "-m", "uvicorn", "bench.api:bench_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    command += ["--workers", str(workers)]
    server = subprocess.Popen(command, cwd=REPO, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).is_success:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise RuntimeError("the API did not start")


def hammer(url: str, clients: int, requests: int) -> dict[str, float]:
    """``requests`` GETs of ``url`` spread over ``clients`` threads: latencies and errors."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_client = max(1, requests // clients)

    def client() -> None:
        nonlocal errors
        mine, failed = [], 0
        with httpx.Client(timeout=30) as http:
            for _ in range(per_client):
                start = time.perf_counter()
                response = http.get(url)
                mine.append(time.perf_counter() - start)
                failed += response.status_code != 200
        with lock:
            latencies.extend(mine)
            errors += failed

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    ordered = sorted(latencies)
    return {
        "p50": 1000 * statistics.median(ordered),
        "p95": 1000 * ordered[int(0.95 * (len(ordered) - 1))],
        "rps": len(ordered) / wall,
        "errors": errors,
    }


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used by process ``pid`` and its live children (the uvicorn
    workers); 0 where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_s(int(child)) for child in children)


def cold_ms(url: str) -> float:
    """Milliseconds of one first (rendering) request."""
    start = time.perf_counter()
    response = httpx.get(url, timeout=60)
    response.raise_for_status()
    return 1000 * (time.perf_counter() - start)


def main() -> None:
    """Train, serve, time the cold sheets, hammer every row and print the table and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=400, help="per row, over all clients")
    parser.add_argument("--image-size", type=int, default=112)
    parser.add_argument("--eval-size", type=int, default=64)
    parser.add_argument("--port", type=int, default=0, help="default: a free one")
    parser.add_argument("--workers", type=int, default=None, help="default: PARTLENS_API_WORKERS")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        data_dir, static_dir = Path(root) / "data", Path(root) / "static"
        static_dir.mkdir()
        run_id = train_run(data_dir, args.image_size, args.eval_size)
        port = args.port or free_port()
        workers = args.workers or get_settings().api_workers
        server = serve(data_dir, static_dir, port, workers)
        try:
            api = f"http://127.0.0.1:{port}/api/v1/runs/{run_id}"
            layer = f"{api}/layers/{LAYER}"
            print(f"run {run_id}: tiny, {args.image_size} px, {workers} uvicorn worker(s)")
            for overlay in ("heat", "rf"):
                ms = cold_ms(f"{layer}/sheet.png?limit=128&tile=96&overlay={overlay}")
                print(f"cold contact sheet, 128 filters, tile 96, {overlay:4s}: {ms:7.1f} ms")
            overlay_url = f"{layer}/filters/5/overlay.png?image=1"
            (static_dir / "overlay.png").write_bytes(httpx.get(overlay_url).content)
            rows = {
                "overlay PNG (cached)": overlay_url,
                "same bytes, static route": f"http://127.0.0.1:{port}/static/overlay.png",
                "activation JSON": f"{layer}/filters/5/activation?image=1",
                "filter list (128 filters)": f"{layer}/filters",
                "metrics JSON": f"{api}/metrics",
                "contact sheet (128, cached)": f"{layer}/sheet.png?limit=128&tile=96",
            }
            print(f"\n{args.clients} clients, {args.requests} requests per row")
            # Server CPU per request does not depend on what else the machine runs.
            header = f"{'p50 ms':>8s} {'p95 ms':>8s} {'req/s':>8s} {'errors':>7s} {'cpu ms':>7s}"
            print(f"{'request':30s} {header}")
            results = {}
            for name, url in rows.items():
                httpx.get(url).raise_for_status()  # rendered and cached
                # Every uvicorn worker warm too (its first request imports the rendering code
                # and caches the run): the rows measure the steady state, not a cold worker.
                hammer(url, args.clients, 4 * args.clients)
                before = cpu_s(server.pid)
                results[name] = r = hammer(url, args.clients, args.requests)
                r["cpu"] = 1000 * (cpu_s(server.pid) - before) / args.requests
                numbers = f"{r['p50']:8.1f} {r['p95']:8.1f} {r['rps']:8.1f} {r['errors']:7.0f}"
                print(f"{name:30s} {numbers} {r['cpu']:7.2f}")
            cached, static = results["overlay PNG (cached)"], results["same bytes, static route"]
            measured = {
                "overlay p95 ms": cached["p95"],
                "overlay / static p95": cached["p95"] / static["p95"],
                "activation p95 ms": results["activation JSON"]["p95"],
            }
            print(f"\noverlay / static: p50 {cached['p50'] / static['p50']:.2f}x, "
                  f"req/s {cached['rps'] / static['rps']:.2f}x, "
                  f"server cpu {cached['cpu'] / max(static['cpu'], 1e-9):.2f}x")  # fmt: skip
            for name, value in measured.items():
                verdict = "met" if value <= TARGETS[name] else "NOT met"
                print(f"target {name:22s} <= {TARGETS[name]:5.1f}: {value:6.2f} ({verdict})")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
