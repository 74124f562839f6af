"""``partlens pretrain``: train an ordinary backbone on the built-in multi-category task.

The stand-in for ImageNet pretraining (no downloads): the file it writes (safetensors, the
whole ordinary model in the PartModel layout, its added layer and classifier as freshly
initialised) loads into the architecture like any weights file, and its JSON recipe beside it
records the generator version, seed, sizes, epochs and accuracies. The package ships the result
for ``tiny`` at the demo's input size (``partlens/assets/pretrained/builtin-tiny-96``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from partlens.commands import console, fail

if TYPE_CHECKING:
    from partlens.training.loop import TrainProgress


class _EpochLine:
    """A training callback that prints one line per pretraining epoch."""

    def on_epoch_end(self, progress: TrainProgress) -> None:
        console.print(
            f"epoch {progress.epoch}/{progress.epochs}: task loss {progress.task_loss:.3f}, "
            f"train accuracy {progress.accuracy:.3f}, {progress.images_per_s:.0f} images/s"
        )


def pretrain(
    output: Annotated[
        Path, typer.Argument(help="The .safetensors file to write (its recipe goes beside it).")
    ],
    arch: Annotated[str, typer.Option(help="Architecture of the backbone.")] = "tiny",
    image_size: Annotated[int, typer.Option(help="Input side in pixels.")] = 96,
    width: Annotated[
        int | None, typer.Option(help="tiny only: filters of its top layers (default 128).")
    ] = None,
    train_size: Annotated[int, typer.Option(help="Training images (balanced).")] = 4800,
    test_size: Annotated[int, typer.Option(help="Held-out images for the test accuracy.")] = 600,
    epochs: Annotated[int, typer.Option()] = 8,
    batch_size: Annotated[int, typer.Option()] = 32,
    lr: Annotated[float, typer.Option(help="Initial learning rate; decays tenfold.")] = 0.01,
    seed: Annotated[int, typer.Option(help="Model seed; the images use seed + 1.")] = 0,
    max_steps: Annotated[int | None, typer.Option(help="Stop after this many steps.")] = None,
) -> None:
    """Pretrain an ordinary backbone on the built-in multi-category task and write it."""
    from partlens.config import get_settings
    from partlens.models import list_architectures
    from partlens.training.loop import resolve_device
    from partlens.training.pretraining import pretrain as run_pretraining
    from partlens.training.pretraining import write_pretrained

    problems = [
        (output.suffix != ".safetensors", f"output must end in .safetensors, got {output.name}"),
        (arch not in list_architectures(), f"unknown architecture {arch!r}"),
        (width is not None and arch != "tiny", "--width applies to tiny only"),
        (width is not None and width < 8, "--width must be at least 8"),
        (image_size < 32, f"--image-size must be at least 32, got {image_size}"),
        (min(train_size, test_size, epochs, batch_size) < 1, "sizes and epochs must be >= 1"),
        (lr <= 0, f"--lr must be positive, got {lr}"),
        (max_steps is not None and max_steps < 1, "--max-steps must be >= 1"),
    ]
    for bad, message in problems:
        if bad:
            raise fail(message)
    if not output.parent.is_dir():
        raise fail(f"folder {output.parent} does not exist")

    try:
        state, recipe = run_pretraining(
            arch,
            image_size=image_size,
            width=width,
            train_images=train_size,
            test_images=test_size,
            epochs=epochs,
            seed=seed,
            batch_size=batch_size,
            lr=lr,
            device=str(resolve_device(get_settings().device)),
            max_steps=max_steps,
            callbacks=[_EpochLine()],
        )
    except ValueError as error:
        raise fail(str(error)) from None
    write_pretrained(output, state, recipe)
    console.print(
        f"wrote {output} and its recipe: test accuracy {recipe.test_accuracy:.3f} on "
        f"{recipe.test_images} images, {recipe.seconds:.0f} s (generator version "
        f"{recipe.generator_version})"
    )
