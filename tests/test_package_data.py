"""Every non-Python file the packages read at run time is declared as package data, so a
``pip install .`` (the Docker images) ships it."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Folders whose files the code loads by path: the UI's assets and vendored bundle, the
# shipped backbones.
RUNTIME_DATA = ["frontend/assets", "frontend/vendor", "partlens/assets/pretrained"]


def declared_patterns() -> dict[str, list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return config["tool"]["setuptools"]["package-data"]


def is_declared(path: Path, patterns: dict[str, list[str]]) -> bool:
    relative = path.relative_to(ROOT)
    for package, globs in patterns.items():
        parts = package.split(".")
        if package != "*" and relative.parts[: len(parts)] != tuple(parts):
            continue
        inside = relative.parts[len(parts) :] if package != "*" else relative.parts[-1:]
        if any(fnmatch("/".join(inside), glob) for glob in globs):
            return True
    return False


def test_every_runtime_data_file_is_package_data():
    patterns = declared_patterns()
    files = [p for folder in RUNTIME_DATA for p in (ROOT / folder).iterdir() if p.is_file()]
    assert any(p.name == "lazy.js" for p in files) and any(
        p.suffix == ".safetensors" for p in files
    )
    missing = [str(p.relative_to(ROOT)) for p in files if not is_declared(p, patterns)]
    assert missing == []


def test_an_undeclared_file_is_reported():
    patterns = {"frontend": ["assets/*.css"]}
    assert is_declared(ROOT / "frontend/assets/style.css", patterns)
    assert not is_declared(ROOT / "frontend/assets/keys.js", patterns)
    assert not is_declared(ROOT / "frontend/vendor/plotly-cartesian.min.js", patterns)
