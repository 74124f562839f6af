"""Time from navigation to a fully rendered UI view in headless Chromium (the dashboard issue).

Trains a tiny run and its ordinary twin in-process (128 filters in ``conv_added``), serves the
API (uvicorn) and the UI (``python -m frontend``) on loopback, then opens each view in headless
Chromium with the browser cache cleared and times navigation until the view is complete: its
last element present, every image loaded, every plotly chart drawn, no Dash callback
pending. Prints the median of ``--repeats`` per view against the issue's targets. Charts below
the fold are drawn once scrolled to: for those views, the time from scrolling to them until they
are drawn is printed too.

    .venv/bin/python bench/ui.py
    .venv/bin/python bench/ui.py --repeats 9
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.api import free_port  # noqa: E402

LAYER = "conv_added"
TARGETS_S = {"filter view": 1.0, "run page, 128-filter grid": 1.5, "compare view": 1.5}
# Done: every image decoded, every plotly chart drawn (the UI's graphs have the class "chart")
# and no component of Dash's renderer waiting on a callback.
SETTLED_JS = (
    "return [...document.images].every(i => i.complete && i.naturalWidth > 0)"
    " && [...document.querySelectorAll('.chart')].every(g => g.querySelector('.main-svg'))"
    " && !document.querySelector('.dash-graph--pending')"
    " && !document.querySelector('[data-dash-is-loading]');"
)


def train_pair(data_dir: Path) -> str:
    """A finished tiny interpretable run and its ordinary twin in the DB; the first one's id."""
    from partlens.config import Settings
    from partlens.runs.config import RunConfig
    from partlens.runs.pipeline import run_pipeline
    from partlens.store import Run, RunArtifacts, create_session_factory

    settings = Settings(data_dir=data_dir)
    sessions = create_session_factory(settings.resolved_database_url)
    ids = []
    for interpretable in (True, False):
        config = RunConfig.model_validate(
            {
                "arch": "tiny",
                "interpretable": interpretable,
                "epochs": 1,
                "batch_size": 16,
                "max_steps": 2,
                "dataset": {"image_size": 64, "train_size": 32, "eval_size": 16},
            }
        ).model_dump()
        with sessions() as session:
            run = Run(name="bench", config=config, queue="bench", status="succeeded")
            session.add(run)
            session.commit()
            ids.append(run.id)
        run_pipeline(config, RunArtifacts(settings.runs_dir, ids[-1]))
    with sessions() as session:
        for run_id, twin_id in (ids, ids[::-1]):
            row = session.get(Run, run_id)
            assert row is not None
            row.twin_id = twin_id
        session.commit()
    return ids[0]


def start(command: list[str], env: dict[str, str], ready_url: str) -> subprocess.Popen:
    """``command`` in its own process, once ``ready_url`` answers."""
    # Their request logs would bury the numbers; a failure to start is reported below.
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(ready_url, timeout=1).is_success:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{command} did not start")


def browser(profile: str) -> webdriver.Chrome:
    """Headless Chromium at 1200 x 900 with its own profile."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument("--window-size=1200,900")
    options.add_argument(f"--user-data-dir={profile}")
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    return webdriver.Chrome(service=Service(driver), options=options)


def time_view(driver: webdriver.Chrome, url: str, last: str) -> float:
    """Seconds from navigating to ``url`` (cache cleared) until ``last`` shows and all settles."""
    driver.get("about:blank")
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    start_s = time.perf_counter()
    driver.get(url)
    wait = WebDriverWait(driver, 60, poll_frequency=0.01)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, last))
    wait.until(lambda d: d.execute_script(SETTLED_JS))
    return time.perf_counter() - start_s


def time_scrolled(driver: webdriver.Chrome, section: str) -> float:
    """Seconds from scrolling the settled view to ``section`` (charts drawn only once scrolled
    into view) until its charts are drawn and all settles."""
    start_s = time.perf_counter()
    driver.execute_script(f"document.querySelector('{section}').scrollIntoView();")
    wait = WebDriverWait(driver, 60, poll_frequency=0.01)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f"{section} .chart .main-svg"))
    wait.until(lambda d: d.execute_script(SETTLED_JS))
    return time.perf_counter() - start_s


def report(name: str, seconds: list[float], target: float | None) -> None:
    """One row: the median, min and max of ``seconds``, against ``target`` when it has one."""
    median = statistics.median(seconds)
    line = f"{name:34s} median {median:5.2f} s (min {min(seconds):5.2f}, max {max(seconds):5.2f})"
    if target is not None:
        line += f"; target <= {target:.1f} s: {'met' if median <= target else 'NOT met'}"
    print(line)


def main() -> None:
    """Train, serve, time each view ``--repeats`` times and print medians against targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        data_dir = Path(root) / "data"
        run_id = train_pair(data_dir)
        api_port, ui_port = free_port(), free_port()
        api_url = f"http://127.0.0.1:{api_port}/api/v1"
        env = {**os.environ, "PARTLENS_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO)}
        env |= {"PARTLENS_API_URL": api_url, "PARTLENS_UI_PORT": str(ui_port)}
        uvicorn = [sys.executable, "-m", "uvicorn", "backend.main:create_app", "--factory"]
        uvicorn += ["--port", str(api_port), "--log-level", "warning"]
        processes = [start(uvicorn, env, f"{api_url}/health")]
        ui = f"http://127.0.0.1:{ui_port}"
        processes.append(start([sys.executable, "-m", "frontend"], env, ui))
        driver = browser(str(Path(root) / "profile"))
        filter_url = f"{ui}/runs/{run_id}/layers/{LAYER}/filters/5?image=1"
        # (URL, its last element, the section of charts it draws once scrolled to, if any)
        views = {
            "filter view": (filter_url, "#filter-panel", "#filter-charts"),
            "run page, 128-filter grid": (
                f"{ui}/runs/{run_id}?layer={LAYER}",
                ".sheet-image",
                "#run-view-charts",
            ),
            "compare view": (f"{ui}/runs/{run_id}/compare", "#compare-heatmaps", "#compare-charts"),
        }
        try:
            print(f"run {run_id} (tiny, 128 filters in {LAYER}), median of {args.repeats}")
            for name, (url, last, section) in views.items():
                time_view(driver, url, last)  # the API renders and caches its images once
                seconds, scrolled = [], []
                for _ in range(args.repeats):
                    seconds.append(time_view(driver, url, last))
                    if section is not None:
                        scrolled.append(time_scrolled(driver, section))
                report(name, seconds, TARGETS_S[name])
                if scrolled:
                    report("  then its charts, once scrolled to", scrolled, None)
        finally:
            driver.quit()
            for process in processes:
                process.terminate()
                process.wait(timeout=10)


if __name__ == "__main__":
    main()
