"""Feature maps of a run's evaluation images, published as the run's ``features/`` artifact.

One library function for everything that evaluates a trained model (the worker, ``partlens
reproduce``), so that the maps, logits and manifest mean the same thing wherever they come from.
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

    run_config: a :class:`partlens.runs.RunConfig` as a dict (its ``dataset`` spec is stored in
    the manifest so that readers regenerate the same images). dataset: the evaluation dataset
    when the caller already built it (default: ``build_eval_dataset(run_config)``). Also stores
    the logits and labels, from which the accuracy is computed.
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
    maps: dict[str, list[np.ndarray]] = {name: [] for name in model.layer_names}
    logits, labels = [], []
    with torch.no_grad():
        for batch in loader:
            images = batch.images.to(device)
            for name, fmap in model.forward_features(images).items():
                maps[name].append(fmap.float().cpu().numpy())
            logits.append(model(images).float().cpu().numpy())
            labels.append(batch.labels.numpy())
    manifest = {
        "dataset": dict(run_config["dataset"]),
        "split": "test",
        "num_images": len(dataset),
        "categories": list(dataset.categories),
        "labels": np.concatenate(labels).tolist(),
        "logits": np.concatenate(logits).tolist(),
        "image_size": int(run_config["dataset"]["image_size"]),
    }
    artifacts.write_features(
        {name: np.concatenate(parts) for name, parts in maps.items()}, manifest
    )
