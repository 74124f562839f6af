"""The enforced import direction: the repository keeps it, and a back-edge fails the check."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path, config: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_repository_keeps_every_contract():
    result = _lint(ROOT, ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("partlens/cli.py", "import worker.tasks", "the library imports no app"),
        ("backend/main.py", "import worker.tasks", "the API does not import the worker"),
        ("worker/tasks.py", "import backend.main", "the worker does not import the API"),
        ("frontend/app.py", "import partlens.cli", "the UI talks to the API over HTTP only"),
    ],
)
def test_a_back_edge_breaks_its_contract(tmp_path, module, line, contract):
    for package in ("partlens", "backend", "worker", "frontend"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for path in ("partlens/cli.py", "backend/main.py", "worker/tasks.py", "frontend/app.py"):
        (tmp_path / path).write_text("")
    (tmp_path / module).write_text(line + "\n")
    config = tmp_path / "importlinter.toml"
    section = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    lines = ["[tool.importlinter]", f"root_packages = {section['root_packages']!r}"]
    for c in section["contracts"]:
        lines += [
            "[[tool.importlinter.contracts]]",
            f"name = {c['name']!r}",
            f"type = {c['type']!r}",
            f"source_modules = {c['source_modules']!r}",
            f"forbidden_modules = {c['forbidden_modules']!r}",
        ]
    config.write_text("\n".join(lines).replace("'", '"') + "\n")
    result = _lint(tmp_path, config)
    assert result.returncode != 0
    assert "1 broken" in result.stdout
    broken = [ln for ln in result.stdout.splitlines() if ln.rstrip().endswith("BROKEN")]
    assert len(broken) == 1 and broken[0].startswith(contract), result.stdout
