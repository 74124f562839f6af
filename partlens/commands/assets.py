"""``partlens dataset`` and ``partlens weights``: register, list and preview what runs use.

The commands share the run database with the API, so a dataset added here is offered in the
UI and accepted by ``POST /api/v1/runs``; errors are the API's 4xx messages, with exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from partlens.commands import console, fail
from partlens.config import get_settings

dataset_app = typer.Typer(no_args_is_help=True, help="Register, list and preview datasets.")
weights_app = typer.Typer(no_args_is_help=True, help="Register and list pretrained weights.")


def _sessions() -> Any:
    from partlens.runs.pipeline import session_factory

    return session_factory(get_settings().resolved_database_url)


def launch_config(body: dict[str, Any], preset: str | None) -> Any:
    """A validated :class:`RunConfig` of ``body`` over ``preset``, its registered dataset and
    weights resolved as the API does; exit 2 with the message when anything is wrong."""
    from pydantic import ValidationError

    from partlens.assets import AssetError
    from partlens.assets.datasets import resolve_dataset_spec
    from partlens.assets.weights import resolve_run_weights
    from partlens.registry import UnknownNameError
    from partlens.runs.config import RunConfig
    from partlens.runs.presets import apply_preset

    try:
        merged = apply_preset(preset, body)
        merged.pop("with_twin", None)
        config = RunConfig.model_validate(merged)
        sessions = _sessions()
        spec = resolve_dataset_spec(sessions, config.dataset.model_dump())
        update: dict[str, Any] = {"dataset": config.dataset.model_validate(spec)}
        if config.weights_file is None:
            update.update(resolve_run_weights(config.model_dump(), sessions))
        return config.model_copy(update=update)
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise fail(details) from None
    except (AssetError, UnknownNameError) as exc:
        raise fail(str(exc)) from None


@dataset_app.command("add")
def dataset_add(
    name: Annotated[str, typer.Argument(help="How runs will name it.")],
    format: Annotated[str, typer.Option("--format", help="pascal-part, cub200 or ilsvrc-part")],
    root: Annotated[Path, typer.Option("--root", help="The dataset's folder.")],
) -> None:
    """Index a dataset folder and register it (its root must lie under the allowed roots)."""
    from partlens.assets import AssetError
    from partlens.assets.datasets import register_dataset

    try:
        entry = register_dataset(_sessions(), name, format, root, get_settings())
    except AssetError as exc:
        raise fail(str(exc)) from None
    splits = ", ".join(f"{s}: {v.objects}" for s, v in entry.summary.splits.items())
    console.print(f"registered dataset {entry.name} ({entry.format}, {splits} objects)")


@dataset_app.command("list")
def dataset_list() -> None:
    """Every dataset a run can use, with its categories, parts and landmarks."""
    from partlens.assets.datasets import list_datasets

    for entry in list_datasets(_sessions()):
        counts = ", ".join(f"{s} {v.objects}" for s, v in entry.summary.splits.items())
        typer.echo(f"{entry.name} ({entry.format}{', ' + counts if counts else ''})")
        typer.echo(f"  categories: {', '.join(entry.summary.categories)}")
        typer.echo(f"  parts:      {', '.join(entry.summary.parts) or '-'}")
        typer.echo(f"  landmarks:  {', '.join(entry.summary.landmarks) or '-'}")
        if entry.root:
            typer.echo(f"  root:       {entry.root}")


@weights_app.command("add")
def weights_add(
    name: Annotated[str, typer.Argument(help="How runs will name them.")],
    path: Annotated[Path, typer.Argument(help="A .safetensors or .pth state dict.")],
    arch: Annotated[str, typer.Option("--arch", help="The architecture they are for.")],
) -> None:
    """Check a weights file against its architecture and store it under the data dir."""
    from partlens.assets import AssetError
    from partlens.assets.weights import register_weights

    try:
        entry = register_weights(_sessions(), name, path, arch, get_settings().data_dir)
    except AssetError as exc:
        raise fail(str(exc)) from None
    console.print(
        f"registered weights {entry.name} for {entry.arch} ({entry.layout} layout, "
        f"{entry.num_tensors} tensors, sha256 {entry.sha256[:12]})"
    )


@weights_app.command("list")
def weights_list() -> None:
    """Every shipped and registered weights file."""
    from partlens.assets.weights import list_weights

    entries = list_weights(_sessions())
    if not entries:
        typer.echo("no weights registered: partlens weights add NAME FILE --arch ARCH")
    for entry in entries:
        size = entry.size_bytes / 2**20
        typer.echo(f"{entry.name:<20} {entry.arch:<10} {entry.layout:<12} {size:8.1f} MiB")


@dataset_app.command("preview")
def dataset_preview(
    name: Annotated[str, typer.Argument(help="Dataset name, e.g. builtin")] = "builtin",
    n: Annotated[int, typer.Option("--n", min=1, max=256)] = 16,
    output: Annotated[Path, typer.Option("-o", "--output")] = Path("grid.png"),
    image_size: Annotated[int, typer.Option()] = 128,
    split: Annotated[str, typer.Option()] = "train",
    task: Annotated[str, typer.Option()] = "multi",
) -> None:
    """Draw a contact sheet of ``n`` samples with their part masks and landmarks."""
    from partlens.data import load_dataset
    from partlens.data.preview import contact_sheet

    try:
        dataset = load_dataset(name, split, image_size, task=task, size=max(n, 1))
    except (ValueError, FileNotFoundError, KeyError) as exc:
        raise fail(str(exc)) from None
    sheet = contact_sheet(dataset, n=n)
    output.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(output)
    console.print(f"wrote {output} ({n} samples of {name})")
