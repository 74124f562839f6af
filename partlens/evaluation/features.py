"""Feature maps of a run's evaluation images, published as the run's ``features/`` artifact.

One library function for everything that evaluates a trained model (the worker, ``partlens
reproduce``), so that the maps, logits, statistics, images and manifest mean the same thing
wherever they come from. The folder's layout belongs to :mod:`partlens.store.artifacts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from partlens.store import RunArtifacts


def precompute_features(
    model: Any,
    run_config: Mapping[str, Any],
    artifacts: RunArtifacts,
    *,
    dataset: Any | None = None,
    batch_size: int = 32,
) -> None:
    """Publish each interpretable layer's maps x (after ReLU and mask) for the evaluation images.

    One forward pass per batch gives the maps and the logits; the maps go straight into the
    filter-major float16 files, the uint8 images the model was fed are stored as PNG, and the
    per-filter statistics and the manifest are written when all images are in.

    run_config: a :class:`partlens.runs.RunConfig` as a dict (its ``dataset`` spec is stored in
    the manifest). dataset: the evaluation dataset when the caller already built it (default:
    ``build_eval_dataset(run_config)``). Also stores the logits and labels, from which the
    accuracy is computed.
    """
    from partlens.data import collate_samples
    from partlens.runs.config import build_eval_dataset

    if dataset is None:
        dataset = build_eval_dataset(dict(run_config))
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, shuffle=False, collate_fn=collate_samples
    )
    device = next(model.parameters()).device
    model.eval()
    logits, labels = [], []
    with artifacts.publish_features(len(dataset)) as writer, torch.no_grad():
        start = 0
        for batch in loader:
            writer.write_images(start, [sample.image for sample in batch.samples])
            batch_logits, maps = model.forward_with_features(batch.images.to(device))
            for name, fmap in maps.items():
                # float16 on the device: half the bytes to copy, the same rounding as numpy's.
                writer.write_maps(name, start, fmap.half().cpu().numpy())
            logits.append(batch_logits.float().cpu().numpy())
            labels.append(batch.labels.numpy())
            start += len(batch.samples)
        writer.commit(
            {
                "dataset": dict(run_config["dataset"]),
                "split": "test",
                "categories": list(dataset.categories),
                "labels": np.concatenate(labels).tolist(),
                "logits": np.concatenate(logits).tolist(),
                "image_size": int(run_config["dataset"]["image_size"]),
            }
        )
