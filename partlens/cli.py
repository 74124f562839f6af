"""The ``partlens`` command line: run the stack, train, inspect datasets."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from partlens.commands import console, fail
from partlens.commands.assets import dataset_app, weights_app
from partlens.commands.db import db_app
from partlens.commands.pretrain import pretrain
from partlens.config import Settings, get_settings

if TYPE_CHECKING:
    from partlens.runs.config import RunConfig

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
app.add_typer(dataset_app, name="dataset")
app.add_typer(weights_app, name="weights")
app.add_typer(db_app, name="db")
app.command()(pretrain)


def _children_env(broker_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PARTLENS_BROKER_URL"] = broker_url
    env["PARTLENS_DATA_DIR"] = str(get_settings().data_dir.resolve())
    return env


def _stop(children: list[subprocess.Popen], timeout_s: float = 15.0) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _wait_for_api(url: str, timeout_s: float) -> bool:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False


# The demo pair: both twins fine-tune the shipped backbone (ordinary tiny, width 64, pretrained
# on the built-in 6-way task at 96 px), so the page shows what the filter loss does rather than
# how far three epochs from scratch get; 96 px gives tiny 12 x 12 top maps. The target is cat:
# its interpretable filters spread over head and legs, while bird's all move to the tail
# (docs/reproduction.md, "The demo pair", measures both).
DEMO_RUN: dict[str, Any] = {
    "arch": "tiny",
    "interpretable": True,
    "with_twin": True,
    "weights": "builtin-tiny-96",
    "width": 64,
    "epochs": 3,
    "lr": 0.01,
    "lr_final": 0.001,
    "name": "demo",
    "dataset": {"category": "cat", "image_size": 96, "train_size": 1024, "eval_size": 256},
}
# What DEMO_RUN asks of the launch (the run's name, its ordinary twin), not of the run itself.
DEMO_LAUNCH_FIELDS = ("name", "with_twin")


def demo_run_config() -> RunConfig:
    """The demo's run config: DEMO_RUN without its launch fields, validated."""
    from partlens.runs.config import RunConfig

    return RunConfig.model_validate(
        {key: value for key, value in DEMO_RUN.items() if key not in DEMO_LAUNCH_FIELDS}
    )


def _launch_demo(api_url: str) -> None:
    import httpx

    response = httpx.post(f"{api_url}/runs", json=DEMO_RUN, timeout=30)
    if response.status_code != 201:
        raise fail(f"the demo run was refused ({response.status_code}): {response.text}")
    run = response.json()
    console.print(f"launched demo run {run['id']} and its ordinary twin {run['twin_id']}")


def service_commands(settings: Settings) -> dict[str, list[str]]:
    """The command lines of the API, the worker and the UI processes that ``up`` starts."""
    python = sys.executable
    return {
        # Several uvicorn processes, so that rendering a grid never queues behind one request.
        "api": [python, "-m", "uvicorn", "backend.main:create_app", "--factory",
                "--host", settings.api_host, "--port", str(settings.api_port),
                "--workers", str(settings.api_workers)],
        "worker": [python, "-m", "celery", "-A", "worker.celery_app", "worker",
                   "-Q", settings.queue, "-c", "1", "--pool", "prefork", "-l", "info"],
        # A production WSGI server, not Flask's development one; threads because every
        # callback waits on the API.
        "ui": [python, "-m", "gunicorn", "frontend.wsgi:server",
               "--bind", f"{settings.ui_host}:{settings.ui_port}",
               "--workers", str(settings.ui_workers), "--threads", "4", "--timeout", "60"],
    }  # fmt: skip


@app.command()
def up(
    demo: Annotated[bool, typer.Option(help="Launch a small run and its twin once up.")] = False,
) -> None:
    """Start the API, the UI and one worker; Ctrl-C stops them all."""
    from partlens.runs.broker import resolve_broker_url

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    broker_url, fallback = resolve_broker_url(settings)
    if fallback:
        console.print(
            f"[yellow]No Redis answers at {settings.broker_url}: using the embedded "
            f"broker {broker_url}[/]"
        )
    env = _children_env(broker_url)
    commands = service_commands(settings)
    # Ctrl-C and SIGTERM both stop the stack. Installed explicitly because a shell that starts
    # ``up`` in the background sets SIGINT to "ignore", and Python then keeps it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    children = [subprocess.Popen(cmd, env=env) for cmd in commands.values()]
    try:
        if not _wait_for_api(settings.api_url, timeout_s=60):
            raise fail(f"the API did not come up at {settings.api_url}")
        console.print(f"API  {settings.api_url}  (docs: {settings.api_url}/openapi.json)")
        console.print(f"UI   http://{settings.ui_host}:{settings.ui_port}/")
        if demo:
            _launch_demo(settings.api_url)
        console.print("Ctrl-C stops everything.")
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        names = [n for n, c in zip(commands, children, strict=True) if c.poll() is not None]
        raise fail(f"{', '.join(names)} stopped unexpectedly")
    except KeyboardInterrupt:
        console.print("stopping...")
    finally:
        _stop(children)


@app.command()
def api() -> None:
    """Serve the HTTP API (under /api/v1) with ``PARTLENS_API_WORKERS`` uvicorn processes."""
    _exec(service_commands(get_settings())["api"])


@app.command()
def ui() -> None:
    """Serve the browser UI (the ``frontend`` package, started as its own process)."""
    _exec(service_commands(get_settings())["ui"])


@app.command()
def worker(
    queue: Annotated[
        str | None,
        typer.Option(help="The queue to serve (e.g. gpu or cpu); default: $PARTLENS_QUEUE."),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="The worker's name, unique per machine (e.g. gpu0).")
    ] = None,
) -> None:
    """Run a Celery worker for training jobs: one task at a time (start one worker per GPU)."""
    settings = get_settings()
    command = service_commands(settings)["worker"]
    if queue:
        command[command.index("-Q") + 1] = queue
    if name:
        command += ["-n", f"{name}@%h"]
    _exec(command)


def _exec(command: list[str]) -> None:
    """Replaces this process with ``command`` (the apps run as their own programs)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)


class _ConsoleProgress:
    """A rich progress bar fed by training callbacks."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.task = progress.add_task("training", total=None)

    def on_step(self, p: Any) -> None:
        self.progress.update(
            self.task,
            total=p.steps_total,
            completed=p.step,
            description=f"epoch {p.epoch}/{p.epochs} task {p.task_loss:.3f} "
            f"filter {p.filter_loss:.3f} acc {p.accuracy:.3f} "
            f"{p.images_per_s:.0f} img/s",
        )

    def on_epoch_end(self, p: Any) -> None:
        self.on_step(p)

    def should_stop(self) -> bool:
        return False


@app.command()
def train(
    arch: Annotated[str | None, typer.Option(help="Architecture (default tiny).")] = None,
    interpretable: Annotated[bool, typer.Option("--interpretable/--ordinary")] = True,
    dataset: Annotated[
        str | None, typer.Option(help="builtin or a registered dataset (`partlens dataset list`).")
    ] = None,
    task: Annotated[str | None, typer.Option(help="single or multi")] = None,
    category: Annotated[str | None, typer.Option(help="Target category (single-category).")] = None,
    image_size: Annotated[int | None, typer.Option(help="Default: the arch's input size.")] = None,
    train_size: Annotated[int | None, typer.Option()] = None,
    eval_size: Annotated[int | None, typer.Option()] = None,
    epochs: Annotated[int | None, typer.Option()] = None,
    batch_size: Annotated[int | None, typer.Option()] = None,
    lr: Annotated[float | None, typer.Option()] = None,
    weights: Annotated[
        str | None, typer.Option(help="Registered weights (`partlens weights list`) or a file.")
    ] = None,
    from_scratch: Annotated[
        bool,
        typer.Option(
            "--from-scratch",
            help="Random initial weights: not the shipped backbone a built-in run otherwise "
            "starts from (not with --weights).",
        ),
    ] = False,
    filter_loss: Annotated[
        str | None, typer.Option(help="A filter-loss variant (`partlens catalog` lists them).")
    ] = None,
    preset: Annotated[
        str | None, typer.Option(help="Start from a preset: paper-single, paper-multi, quick.")
    ] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    max_steps: Annotated[int | None, typer.Option()] = None,
    compile_model: Annotated[
        bool,
        typer.Option(
            "--compile",
            help="torch.compile the forward pass and the filter loss (long runs; see "
            "docs/filter-loss.md).",
        ),
    ] = False,
    name: Annotated[str, typer.Option()] = "",
) -> None:
    """Train one run in this process (it is recorded and shows up in the UI)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from partlens.commands.assets import launch_config
    from partlens.runs.pipeline import execute_run, session_factory
    from partlens.store import Run

    given = {
        "arch": arch,
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "weights": weights,
        "filter_loss": filter_loss,
        "seed": seed,
        "max_steps": max_steps,
    }
    spec = {
        "name": dataset,
        "task": task,
        "category": category,
        "image_size": image_size,
        "train_size": train_size,
        "eval_size": eval_size,
    }
    body: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    body["interpretable"] = interpretable
    if from_scratch:
        body["from_scratch"] = True
    if compile_model:
        body["compile"] = True
    body["dataset"] = {k: v for k, v in spec.items() if v is not None}
    config = launch_config(body, preset)
    settings = get_settings()
    sessions = session_factory(settings.resolved_database_url)
    with sessions() as session:
        kind = "interpretable" if interpretable else "ordinary"
        run = Run(name=name or f"{config.arch} {kind} (cli)", config=config.model_dump())
        session.add(run)
        session.commit()
        run_id = run.id
    console.print(f"run {run_id}: data in {settings.runs_dir / run_id}")
    columns = (TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        status = execute_run(run_id, extra_callbacks=(_ConsoleProgress(progress),))
    with sessions() as session:
        finished = session.get(Run, run_id)
        error = finished.error if finished is not None else "the run disappeared"
        if status != "succeeded" or finished is None:
            raise fail(f"run {run_id} {status}: {error or ''}")
        console.print(f"run {run_id} succeeded: accuracy {finished.accuracy}")


@app.command()
def evaluate(
    run_id: Annotated[str, typer.Argument(help="Run id (see the UI or GET /api/v1/runs).")],
    with_twin: Annotated[bool, typer.Option(help="Also (re)evaluate its twin.")] = True,
) -> None:
    """Compute every metric of a finished run (and its twin) and print paper-style tables."""
    from partlens.evaluation.run import evaluate_run
    from partlens.reporting.tables import format_tables
    from partlens.runs.pipeline import session_factory
    from partlens.store import Run, RunArtifacts
    from partlens.training.loop import resolve_device

    settings = get_settings()
    with session_factory(settings.resolved_database_url)() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise fail(f"no run {run_id!r} in {settings.resolved_database_url}")
        run_ids = [run.id] + ([run.twin_id] if with_twin and run.twin_id else [])
    device = str(resolve_device(settings.device))
    metrics = {}
    for rid in run_ids:
        artifacts = RunArtifacts(settings.runs_dir, rid)
        if artifacts.manifest() is None:
            raise fail(f"run {rid!r} has no feature maps yet: it has not finished training")
        metrics[rid] = evaluate_run(artifacts, device=device)
        console.print(f"wrote {artifacts.metrics_path}")
    typer.echo(format_tables(metrics))


@app.command()
def reproduce(
    arch: Annotated[str, typer.Option(help="Architecture of both twins.")] = "tiny",
    budget: Annotated[str, typer.Option(help="small (< 25 min on 2 CPU cores) or paper")] = (
        "small"
    ),
    json_path: Annotated[Path | None, typer.Option("--json", help="Write results here.")] = None,
    weights: Annotated[
        Path | None, typer.Option(help="Backbone weights to start from instead of pretraining.")
    ] = None,
    seed: Annotated[int, typer.Option()] = 0,
    pretrain: Annotated[
        bool, typer.Option(help="Pretrain the backbone now instead of using the shipped one.")
    ] = False,
) -> None:
    """Train and evaluate interpretable and ordinary twins; print the paper's tables."""
    from partlens.runs.reproduce import reproduce as run_reproduction
    from partlens.training.loop import resolve_device

    settings = get_settings()
    if weights is not None and not weights.exists():
        raise fail(f"weights file {weights} does not exist")
    try:
        result = run_reproduction(
            arch,
            budget,
            data_dir=settings.data_dir,
            json_path=json_path,
            weights=weights,
            seed=seed,
            device=str(resolve_device(settings.device)),
            pretrain=pretrain,
            progress=lambda message: console.print(message),
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
    typer.echo(result["tables"])


@app.command()
def catalog(
    as_json: Annotated[bool, typer.Option("--json", help="Print the catalog as JSON.")] = False,
) -> None:
    """List what a run can be launched with: architectures, datasets, filter-loss variants."""
    from partlens.runs.catalog import launch_catalog

    entries = launch_catalog()
    if as_json:
        typer.echo(entries.model_dump_json(indent=2))
        return
    typer.echo("architectures:")
    for arch in entries.architectures:
        typer.echo(f"  {arch.name:<10} {arch.input_size:>4} px  {arch.description}")
    typer.echo("datasets:")
    for data in entries.datasets:
        where = "reads a root folder" if data.needs_root else "generated"
        typer.echo(f"  {data.name:<12} {where}")
    typer.echo("filter-loss variants:")
    for variant in entries.filter_losses:
        mark = " (default)" if variant.name == entries.default_filter_loss else ""
        typer.echo(
            f"  {variant.name:<13} weight {variant.default_weight:g}{mark}: {variant.description}"
        )
    typer.echo("built-in categories: " + ", ".join(entries.builtin_categories))


if __name__ == "__main__":
    app()
