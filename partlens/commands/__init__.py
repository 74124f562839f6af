"""Sub-commands of the ``partlens`` command line, one module per group, and what they share."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    """Print ``message`` and return the exit (code 2) to raise."""
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=2)
