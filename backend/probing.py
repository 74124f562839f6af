"""Probes: a run's published model on an uploaded image, run in a small inference pool inside
the API process and stored as ``<data_dir>/probes/<probe_id>/``.

A probe folder is self-contained, so it stays readable after its run is deleted:
``probe.json`` (:class:`ProbeRecord`: the run, its image size, per layer the filters' heat
scale, mu_hat positions and the RF geometry the region S_f needs), ``image.png`` (the model's
input crop) and ``<layer>.npy`` (float32 maps [F, h, w] after ReLU and mask, what the run's
``features/`` holds). The folder is published in one rename (``partlens.store.atomic_io``);
``probe_id`` is a hash of the run id and the upload's bytes, so the same upload is the same
probe. Only the newest MAX_PROBES probes are kept.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import shutil
import threading
import warnings
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, Field

from backend.rendering import png_bytes
from partlens.store import RunArtifacts
from partlens.store.atomic_io import publish_dir

PROBES_DIR = "probes"
RECORD = "probe.json"
IMAGE = "image.png"
MAX_PROBES = 200  # newest probes kept; older folders are removed when a new one lands
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # decoded size bound: a small file must not expand into gigabytes
UPLOAD_FORMATS = {"PNG", "JPEG"}
INFERENCE_WORKERS = 1  # one probe at a time: a request never starves the API of its cores
TORCH_THREADS = 2
MODELS_CACHED = 2  # models kept in memory (one per run)
MAX_PENDING = 8  # probes running or waiting; more are refused (503) rather than queued forever


class ProbeInputError(ValueError):
    """An upload that is not a usable PNG or JPEG image (answered 422, naming ``image``)."""


class PoolBusyError(RuntimeError):
    """MAX_PENDING probes are already running or waiting."""


class ProbeGeometry(BaseModel):
    """The run's RF geometry of one layer (from its metrics.json), for S_f and the panel."""

    unit_centers: list[list[tuple[float, float]]] = Field(description="p(mu), [h][w] of (x, y).")
    rf_radius: float
    thresholds: list[float | None] = Field(description="T_f per filter.")


class ProbeLayerRecord(BaseModel):
    """One interpretable layer of a probe."""

    name: str
    filters: int
    height: int
    width: int
    scale: list[float] = Field(
        description="Heat scale per filter: the run's max over its evaluation images, or the "
        "probe's own max where the run has none."
    )
    positions: list[tuple[float, float]] = Field(
        description="p(mu_hat) per filter, (x, y) in pixels of the probe image."
    )
    geometry: ProbeGeometry | None = Field(description="None when the run is not evaluated.")


class ProbeRecord(BaseModel):
    """``probe.json``: what the probe routes read."""

    id: str
    run_id: str
    image_size: int
    beta: float = Field(description="beta of the model's templates T (for T_mu_hat).")
    norm: str = Field(description="Distance norm of the templates.")
    layers: list[ProbeLayerRecord]


def probe_id(run_id: str, data: bytes) -> str:
    """A short hash of the run and the uploaded bytes: the same upload is the same probe."""
    return hashlib.sha256(run_id.encode() + b"\0" + data).hexdigest()[:20]


def probes_dir(data_dir: Path) -> Path:
    """Where probes are stored."""
    return Path(data_dir) / PROBES_DIR


def read_record(folder: Path) -> ProbeRecord:
    """The probe stored in ``folder``; FileNotFoundError when there is none."""
    return ProbeRecord.model_validate_json((folder / RECORD).read_bytes())


def model_input(data: bytes, image_size: int) -> np.ndarray:
    """The upload as the model's input: decoded (PNG or JPEG only), RGB, the shorter side
    resized to ``image_size`` and centre-cropped to a square, uint8 [S, S, 3]."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload = Image.open(io.BytesIO(data))
            if upload.format not in UPLOAD_FORMATS:
                raise ProbeInputError(f"image: {upload.format} is not supported; send PNG or JPEG")
            if upload.width * upload.height > MAX_PIXELS:
                raise ProbeInputError(
                    f"image: {upload.width}x{upload.height} is over {MAX_PIXELS} pixels"
                )
            rgb = upload.convert("RGB")
    except ProbeInputError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ProbeInputError("image: not a PNG or JPEG image") from None
    except (OSError, ValueError) as error:
        raise ProbeInputError(f"image: cannot decode it ({error})") from None
    scale = image_size / min(rgb.size)
    width = max(image_size, round(rgb.width * scale))
    height = max(image_size, round(rgb.height * scale))
    image = rgb.resize((width, height), Image.Resampling.BILINEAR)
    left, top = (width - image_size) // 2, (height - image_size) // 2
    return np.asarray(image.crop((left, top, left + image_size, top + image_size)))


class InferencePool:
    """A bounded pool that runs probes off the event loop, with one model cached per run."""

    def __init__(self, workers: int = INFERENCE_WORKERS) -> None:
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="probe")
        self._models: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = threading.Lock()
        self._threads_set = False
        self._pending = 0

    async def run(self, function: Any, *args: Any) -> Any:
        """``function(*args)`` on a pool thread, awaited without blocking the loop;
        PoolBusyError when MAX_PENDING calls are already running or waiting."""
        with self._lock:
            if self._pending >= MAX_PENDING:
                raise PoolBusyError(f"{MAX_PENDING} probes are running or waiting; retry")
            self._pending += 1
        try:
            return await asyncio.wrap_future(self._executor.submit(function, *args))
        finally:
            with self._lock:
                self._pending -= 1

    def model(self, artifacts: RunArtifacts) -> Any:
        """The run's published model (``partlens.models.load_model``), loaded once per
        publication (keyed by the weights file's identity)."""
        import torch

        from partlens.models.checkpoint import WEIGHTS_FILE, load_model

        if not self._threads_set:
            # Process-wide: the API's other work keeps the remaining cores.
            torch.set_num_threads(TORCH_THREADS)
            self._threads_set = True
        weights = artifacts.model_dir / WEIGHTS_FILE
        stat = weights.stat()
        key = (artifacts.root.name, f"{stat.st_ino}-{stat.st_mtime_ns}-{stat.st_size}")
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
        model = load_model(artifacts.model_dir)
        with self._lock:
            self._models[key] = model
            while len(self._models) > MODELS_CACHED:
                self._models.popitem(last=False)
        return model


def _positions(
    fmaps: np.ndarray, geometry: ProbeGeometry | None, size: int
) -> list[tuple[float, float]]:
    # p(mu_hat): the RF centre of each filter's top unit; a uniform grid without geometry.
    filters, h, w = fmaps.shape
    rows, cols = np.unravel_index(fmaps.reshape(filters, -1).argmax(axis=1), (h, w))
    if geometry is not None:
        centers = np.asarray(geometry.unit_centers, dtype=np.float64)
        return [
            (float(centers[r, c, 0]), float(centers[r, c, 1]))
            for r, c in zip(rows, cols, strict=True)
        ]
    return [((c + 0.5) * size / w, (r + 0.5) * size / h) for r, c in zip(rows, cols, strict=True)]


def _run_scales(artifacts: RunArtifacts, layer: str, own: np.ndarray) -> list[float]:
    try:
        peaks = np.asarray(artifacts.filter_stats(layer).peak, dtype=np.float64)
    except (FileNotFoundError, KeyError, ValueError):
        peaks = np.zeros_like(own)
    if peaks.shape != own.shape:
        peaks = np.zeros_like(own)
    return [float(p) if p > 0 else float(o) for p, o in zip(peaks, own, strict=True)]


def _geometries(artifacts: RunArtifacts) -> dict[str, ProbeGeometry]:
    try:
        metrics = json.loads(artifacts.metrics_path.read_text())
        return {
            name: ProbeGeometry(
                unit_centers=layer["geometry"]["unit_centers"],
                rf_radius=layer["geometry"]["rf_radius"],
                thresholds=layer["geometry"]["thresholds"],
            )
            for name, layer in metrics["layers"].items()
        }
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return {}


def compute_probe(
    pool: InferencePool, artifacts: RunArtifacts, picture: np.ndarray, folder: Path, pid: str
) -> ProbeRecord:
    """Run the model on ``picture`` and publish the probe ``pid`` at ``folder`` (pool thread)."""
    import torch

    from partlens.data.types import image_to_tensor
    from partlens.models.checkpoint import read_checkpoint_meta

    model = pool.model(artifacts)
    with torch.no_grad():
        _, maps = model.forward_with_features(image_to_tensor(picture)[None])
    options = read_checkpoint_meta(artifacts.model_dir).get("options", {})
    geometries = _geometries(artifacts)
    size = picture.shape[0]
    layers, arrays = [], {}
    for name, tensor in maps.items():
        fmaps = tensor[0].float().numpy()
        own = fmaps.reshape(len(fmaps), -1).max(axis=1)
        geometry = geometries.get(name)
        if geometry is not None and len(geometry.thresholds) != len(fmaps):
            geometry = None  # metrics of another model: no region rather than a wrong one
        layers.append(
            ProbeLayerRecord(
                name=name,
                filters=fmaps.shape[0],
                height=fmaps.shape[1],
                width=fmaps.shape[2],
                scale=_run_scales(artifacts, name, own),
                positions=_positions(fmaps, geometry, size),
                geometry=geometry,
            )
        )
        arrays[name] = fmaps
    record = ProbeRecord(
        id=pid,
        run_id=artifacts.root.name,
        image_size=size,
        beta=float(options.get("beta", 4.0)),
        norm=str(options.get("norm", "l1")),
        layers=layers,
    )
    with publish_dir(folder) as staging:
        (staging / IMAGE).write_bytes(png_bytes(picture))
        for name, fmaps in arrays.items():
            np.save(staging / f"{name}.npy", fmaps)
        (staging / RECORD).write_text(record.model_dump_json())  # last: marks it complete
    prune_probes(folder.parent)
    return record


def prune_probes(root: Path, keep: int = MAX_PROBES) -> None:
    """Remove all but the ``keep`` newest probes under ``root``."""
    complete = [p for p in root.iterdir() if (p / RECORD).is_file()]
    complete.sort(key=lambda p: (p / RECORD).stat().st_mtime_ns, reverse=True)
    for old in complete[keep:]:
        shutil.rmtree(old, ignore_errors=True)
