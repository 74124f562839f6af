"""Pretrained weights shipped inside the package (``partlens/assets/pretrained/``).

Each shipped backbone is a safetensors file of an ordinary network in the PartModel layout plus
the JSON recipe it was trained with (:class:`PretrainRecipe`, written by ``partlens pretrain``),
named ``builtin-<arch>-<image size>``. They need no registration: the weights list shows them
next to the registered ones, runs name them like registered weights, and a built-in run whose
architecture and sizes match starts from one by default (:func:`default_weights`).
This module reads only JSON and file metadata, so listing weights never imports torch.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

SHIPPED_DIR = Path(__file__).parent / "pretrained"
SHIPPED_PREFIX = "builtin-"


class PretrainRecipe(BaseModel):
    """How a pretrained backbone was made: the JSON written beside its weights file.

    The backbone is an ordinary network trained on the built-in multi-category task (the
    stand-in for ImageNet); its added conv layer and classifier are stored as freshly
    initialised (seed ``seed``), as the paper adds them new on top of the pretrained net.
    """

    model_config = ConfigDict(extra="forbid")

    arch: str
    generator_version: int
    seed: int
    data_seed: int
    image_size: int
    width: int | None
    train_images: int
    test_images: int
    epochs: int
    batch_size: int
    lr: float
    lr_final: float | None
    train_accuracy: float | None
    test_accuracy: float | None
    seconds: float


class ShippedWeights(BaseModel):
    """One shipped weights file: its name, files and recipe."""

    name: str
    path: Path
    recipe: PretrainRecipe
    sha256: str
    size_bytes: int
    num_tensors: int


def recipe_path(weights_path: str | Path) -> Path:
    """The recipe JSON that belongs to a weights file (same name, ``.json``)."""
    return Path(weights_path).with_suffix(".json")


def read_recipe(weights_path: str | Path) -> PretrainRecipe:
    """The recipe beside ``weights_path``; ValueError when it is missing or malformed."""
    path = recipe_path(weights_path)
    try:
        return PretrainRecipe.model_validate(json.loads(path.read_text()))
    except (OSError, json.JSONDecodeError, ValidationError) as error:
        raise ValueError(f"no valid pretraining recipe at {path}: {error}") from None


def shipped_name(arch: str, image_size: int) -> str:
    """The name a shipped backbone of ``arch`` at ``image_size`` px has (builtin-tiny-96)."""
    return f"{SHIPPED_PREFIX}{arch}-{image_size}"


@lru_cache(maxsize=16)
def _digest(path: Path, size: int, mtime_ns: int) -> tuple[str, int]:
    """SHA-256 and tensor count of a safetensors file (keyed on size and mtime too, so a
    replaced file is read again). The count comes from the file's JSON header: 8 bytes of
    little-endian length, then the header, whose keys are the tensors and "__metadata__"."""
    data = path.read_bytes()
    try:
        length = int.from_bytes(data[:8], "little")
        header = json.loads(data[8 : 8 + length])
        count = len([key for key in header if key != "__metadata__"])
    except (ValueError, TypeError):
        count = 0
    return hashlib.sha256(data).hexdigest(), count


def shipped_weights(directory: Path = SHIPPED_DIR) -> dict[str, ShippedWeights]:
    """Every shipped weights file with a valid recipe, by name."""
    found: dict[str, ShippedWeights] = {}
    for path in sorted(directory.glob(f"{SHIPPED_PREFIX}*.safetensors")):
        try:
            recipe = read_recipe(path)
        except ValueError:
            continue  # a file without its recipe is not usable: its sizes are unknown
        stat = path.stat()
        sha256, num_tensors = _digest(path, stat.st_size, stat.st_mtime_ns)
        found[path.stem] = ShippedWeights(
            name=path.stem,
            path=path,
            recipe=recipe,
            sha256=sha256,
            size_bytes=stat.st_size,
            num_tensors=num_tensors,
        )
    return found


def default_weights(config: dict[str, Any], directory: Path = SHIPPED_DIR) -> str | None:
    """The shipped weights a run starts from when it names none: the one for the run's
    architecture, input size and width (exactly: a run of another width would not fit it) on
    the built-in dataset; None when no file fits, the run names weights, asks to train from
    scratch (``from_scratch``) or uses another dataset."""
    if config.get("weights") is not None or config.get("weights_file") is not None:
        return None
    if config.get("from_scratch"):
        return None
    dataset = config.get("dataset") or {}
    if dataset.get("name", "builtin") != "builtin":
        return None
    entry = shipped_weights(directory).get(
        shipped_name(str(config.get("arch", "tiny")), int(dataset.get("image_size") or 0))
    )
    # None is the architecture's own width, which a recipe records as None too.
    if entry is None or config.get("width") != entry.recipe.width:
        return None
    return entry.name
