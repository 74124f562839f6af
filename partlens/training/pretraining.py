"""A pretrained ordinary backbone that both twins start from (the paper fine-tunes from ImageNet
weights; without downloads, an ordinary net trained on the built-in multi-category task stands
in for them).

The backbone is everything below the interpretable head plus the backbone's top conv layer
(the paper keeps that layer's pretrained weights and only adds the mask); the added 3x3 layer
and the classifier are always fresh. :func:`pretrain` (``partlens pretrain``) writes the whole
ordinary model in the PartModel layout, with those fresh layers as initialised, so the file
loads into the architecture like any weights file, plus its recipe
(:class:`partlens.assets.shipped.PretrainRecipe`); the package ships such files.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save
from torch import Tensor

from partlens.assets.shipped import PretrainRecipe, read_recipe, recipe_path
from partlens.models import PartModel, build_model
from partlens.models.checkpoint import WEIGHTS_FILE
from partlens.models.weights import read_state_dict
from partlens.nn import LAYER_NAMES
from partlens.store.atomic_io import atomic_write_bytes, atomic_write_json

BACKBONE_PREFIXES = ("backbone.", f"head.layers.{LAYER_NAMES[0]}.block.")


def is_backbone_key(key: str) -> bool:
    """Whether a PartModel state-dict key belongs to the pretrained part of the network."""
    return key.startswith(BACKBONE_PREFIXES)


def backbone_state(model: PartModel) -> dict[str, Tensor]:
    """The backbone's tensors (weights and BatchNorm statistics) of a PartModel, on CPU."""
    return {
        key: value.detach().cpu().contiguous()
        for key, value in model.state_dict().items()
        if is_backbone_key(key)
    }


def read_backbone(path: str | Path) -> dict[str, Tensor]:
    """Backbone tensors from a partlens checkpoint folder or a PartModel state-dict file."""
    path = Path(path)
    state = read_state_dict(path / WEIGHTS_FILE if path.is_dir() else path)
    backbone = {key: value for key, value in state.items() if is_backbone_key(key)}
    if not backbone:
        raise ValueError(
            f"{path} holds no partlens backbone tensors (keys starting with "
            f"{' or '.join(BACKBONE_PREFIXES)})"
        )
    return backbone


def load_backbone(model: PartModel, state: Mapping[str, Tensor]) -> None:
    """Copy a backbone into ``model``; every backbone tensor of the model must be given, with
    the same shape (the twins must start from exactly the same function)."""
    own = {key: value for key, value in model.state_dict().items() if is_backbone_key(key)}
    missing = sorted(set(own) - set(state))
    if missing:
        raise ValueError(
            f"the backbone lacks {len(missing)} tensors of the model, e.g. {missing[0]}"
        )
    for key, value in own.items():
        if state[key].shape != value.shape:
            raise ValueError(
                f"backbone tensor {key} has shape {tuple(state[key].shape)}, the model expects "
                f"{tuple(value.shape)}"
            )
    model.load_state_dict({key: state[key] for key in own}, strict=False)


def fresh_head_state(model: PartModel, seed: int) -> dict[str, Tensor]:
    """The state of ``model`` with every non-backbone tensor (added layer, classifier) as a
    model built with ``torch.manual_seed(seed)`` initialises it, on CPU."""
    torch.manual_seed(seed)
    fresh = build_model(
        model.arch, interpretable=False, num_classes=model.num_classes, **model.options
    ).state_dict()
    return {
        key: (value if is_backbone_key(key) else fresh[key]).detach().cpu().contiguous()
        for key, value in model.state_dict().items()
    }


@torch.no_grad()
def test_accuracy(model: PartModel, dataset: Any, batch_size: int = 64) -> float:
    """Share of ``dataset``'s images whose argmax class is their label (multi-category)."""
    from partlens.data import collate_samples

    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for begin in range(0, len(dataset), batch_size):
        samples = [dataset[i] for i in range(begin, min(begin + batch_size, len(dataset)))]
        batch = collate_samples(samples)
        predicted = model(batch.images.to(device)).argmax(dim=1).cpu()
        correct += int((predicted == batch.labels).sum())
    return correct / len(dataset)


def pretrain(
    arch: str,
    *,
    image_size: int,
    width: int | None,
    train_images: int,
    test_images: int,
    epochs: int,
    seed: int = 0,
    batch_size: int = 32,
    lr: float = 0.01,
    device: str = "cpu",
    max_steps: int | None = None,
    callbacks: Sequence[Any] = (),
) -> tuple[dict[str, Tensor], PretrainRecipe]:
    """Train an ordinary ``arch`` on the built-in multi-category task (lr decays tenfold);
    returns its state (fresh added layer and classifier, see :func:`fresh_head_state`) and
    recipe, with the test accuracy on ``test_images`` held-out images.

    The images come from data seed ``seed + 1``: the stand-in for ImageNet is another set of
    images than the twins' (data seed ``seed``).
    """
    from partlens.data import load_dataset
    from partlens.data.builtin import GENERATOR_VERSION
    from partlens.training.loop import TrainConfig, train

    options: dict[str, Any] = {"input_size": image_size}
    if width is not None:
        options["width"] = width
    data_seed = seed + 1
    train_set = load_dataset(
        "builtin", "train", image_size, task="multi", size=train_images, seed=data_seed,
        augment=True,
    )  # fmt: skip
    test_set = load_dataset(
        "builtin", "test", image_size, task="multi", size=test_images, seed=data_seed
    )
    config = TrainConfig(
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        lr_final=lr / 10,
        task="multi",
        seed=seed,
        device=device,
        max_steps=max_steps,
    )
    torch.manual_seed(seed)
    model = build_model(arch, interpretable=False, num_classes=len(train_set.categories), **options)
    start = time.perf_counter()
    result = train(model, train_set, config, callbacks=callbacks)
    seconds = time.perf_counter() - start
    last = result.history[-1] if result.history else None
    recipe = PretrainRecipe(
        arch=arch,
        generator_version=GENERATOR_VERSION,
        seed=seed,
        data_seed=data_seed,
        image_size=image_size,
        width=width,
        train_images=train_images,
        test_images=test_images,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        lr_final=lr / 10,
        train_accuracy=last.accuracy if last else None,
        test_accuracy=test_accuracy(model, test_set),
        seconds=seconds,
    )
    return fresh_head_state(model.cpu(), seed), recipe


def write_pretrained(path: Path, state: Mapping[str, Tensor], recipe: PretrainRecipe) -> None:
    """Write the weights (safetensors) at ``path`` and the recipe beside them, atomically."""
    atomic_write_bytes(path, save(dict(state)))
    atomic_write_json(recipe_path(path), recipe.model_dump())


def pretrain_backbone(
    arch: str,
    cache_path: Path,
    *,
    progress: Callable[[str], None] | None = None,
    reuse: bool = True,
    **settings: Any,
) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """The backbone cached at ``cache_path`` (a .safetensors file with its recipe beside it),
    or one made now by :func:`pretrain` with ``settings`` and cached there. A cache made from
    another generator version (or without a valid recipe), or any cache when ``reuse`` is
    off, is made again.

    Returns the backbone tensors and the recipe (with ``path`` and whether it was reused).
    """
    from partlens.data.builtin import GENERATOR_VERSION

    if reuse and cache_path.is_file():
        try:
            recipe = read_recipe(cache_path)
        except ValueError:
            recipe = None
        if recipe is not None and recipe.generator_version == GENERATOR_VERSION:
            record = {**recipe.model_dump(), "path": str(cache_path), "reused": True}
            return read_backbone(cache_path), record
    if progress is not None:
        progress(f"pretraining the {arch} backbone on the built-in multi-category task")
    state, recipe = pretrain(arch, **settings)
    write_pretrained(cache_path, state, recipe)
    backbone = {key: value for key, value in state.items() if is_backbone_key(key)}
    return backbone, {**recipe.model_dump(), "path": str(cache_path), "reused": False}
