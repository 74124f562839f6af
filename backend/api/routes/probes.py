"""Probe your own image: ``POST /runs/{id}/probes`` runs the run's published model on an upload
(``backend.probing``); the ``/probes/{probe_id}/...`` routes serve every filter's response as
the run routes do for an evaluation image: the filter list, a contact sheet, overlays, the
activation with its mask here, overlays, the contact sheet and the Fig. 4 panel in
``probe_figures``.

Heat is scaled by the run's per-filter max over its evaluation images, so a probe's colours
mean what they mean on the run's own images. Responses carry immutable ETags and rendered PNGs
are cached under ``probes/<id>/cache/`` (``backend.core.caching``).
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any

import numpy as np
from fastapi import (
    APIRouter,
    Depends,
    File,
    HTTPException,
    Path,
    Request,
    Response,
    UploadFile,
)
from starlette.concurrency import run_in_threadpool

from backend.api.deps import ArtifactsDep, RunDep, SettingsDep, TokenDep
from backend.core.caching import NOT_MODIFIED, cached_response, json_body
from backend.probing import (
    IMAGE,
    MAX_UPLOAD_BYTES,
    RECORD,
    InferencePool,
    PoolBusyError,
    ProbeInputError,
    ProbeLayerRecord,
    ProbeRecord,
    compute_probe,
    model_input,
    probe_id,
    probes_dir,
    read_record,
)
from backend.rendering import (
    load_png,
)
from backend.schemas import (
    ErrorMessage,
    ProbeActivation,
    ProbeFilter,
    ProbeLayer,
    ProbePublic,
)
from partlens.models.checkpoint import read_checkpoint_meta
from partlens.nn import template_shapes
from partlens.store import RunArtifacts, RunStatus

runs_router = APIRouter(prefix="/runs/{run_id}", tags=["probes"])
router = APIRouter(prefix="/probes/{probe_id}", tags=["probes"])

MAX_INDEX = 2**31 - 1
PNG: dict[int | str, dict[str, Any]] = {200: {"content": {"image/png": {}}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown probe, layer or filter."},
    409: {"description": "The probe's run was not evaluated: no RF region S_f to draw."},
    **NOT_MODIFIED,
}
ProbeId = Annotated[str, Path(pattern=r"^[0-9a-f]{20}$", description="The probe's id")]
FilterIndex = Annotated[int, Path(ge=0, le=MAX_INDEX, description="Filter index within the layer")]


class Probe:
    """A stored probe: its record and folder (the ``artifacts`` the cache keys on)."""

    def __init__(self, folder: FilePath, record: ProbeRecord) -> None:
        self.folder = folder
        self.record = record
        self.artifacts = RunArtifacts(folder.parent, folder.name)

    @property
    def sources(self) -> list[FilePath]:
        """The file whose identity stands for the whole (immutable) folder."""
        return [self.folder / RECORD]

    def layer(self, name: str) -> ProbeLayerRecord:
        """The record of layer ``name`` (404 listing the layers)."""
        for layer in self.record.layers:
            if layer.name == name:
                return layer
        known = ", ".join(layer.name for layer in self.record.layers)
        raise HTTPException(status_code=404, detail=f"unknown layer {name!r}; layers: {known}")

    def filter(self, name: str, index: int) -> ProbeLayerRecord:
        """The record of layer ``name`` with ``index`` checked against its filters (404)."""
        layer = self.layer(name)
        if index >= layer.filters:
            raise HTTPException(
                status_code=404,
                detail=f"filter {index} out of range: layer {name!r} has {layer.filters}",
            )
        return layer

    def maps(self, layer: str) -> np.ndarray:
        """The layer's maps x [F, h, w], float32."""
        return np.load(self.folder / f"{layer}.npy", mmap_mode="r")

    def image(self) -> np.ndarray:
        """The model's input crop, uint8 [S, S, 3]."""
        return load_png((self.folder / IMAGE).read_bytes())


def get_probe(probe_id: ProbeId, settings: SettingsDep) -> Probe:
    """The probe ``probe_id`` (404 when there is none, or it was pruned)."""
    folder = probes_dir(settings.data_dir) / probe_id
    try:
        return Probe(folder, read_record(folder))
    except FileNotFoundError:
        raise HTTPException(status_code=404, detail=f"probe {probe_id!r} not found") from None


ProbeDep = Annotated[Probe, Depends(get_probe)]


def probe_pool(request: Request) -> InferencePool:
    """The app's inference pool, created on the first probe."""
    state = request.app.state
    if getattr(state, "probe_pool", None) is None:
        state.probe_pool = InferencePool()
    return state.probe_pool


def run_image_size(config: dict[str, Any], artifacts: RunArtifacts) -> int:
    """The side of the run's input images: its config's, else its published model's."""
    size = (config.get("dataset") or {}).get("image_size")
    if size is None:
        try:
            meta = read_checkpoint_meta(artifacts.model_dir)
        except (FileNotFoundError, ValueError):
            meta = {}
        size = meta.get("options", {}).get("input_size")
    if size is None:
        raise HTTPException(status_code=409, detail="the run records no image size")
    return int(size)


def public(record: ProbeRecord) -> ProbePublic:
    """The public view of a probe record."""
    return ProbePublic(
        id=record.id,
        run_id=record.run_id,
        image_size=record.image_size,
        layers=[ProbeLayer(name=layer.name, filters=layer.filters) for layer in record.layers],
    )


@runs_router.post(
    "/probes",
    response_model=ProbePublic,
    status_code=201,
    responses={
        400: {"model": ErrorMessage, "description": "Malformed multipart body"},
        401: {"description": "Token required"},
        403: {"description": "Wrong token"},
        404: {"description": "Unknown run"},
        409: {"description": "The run has not succeeded, or has no published model."},
        413: {"description": "Image over 10 MB"},
        422: {"model": ErrorMessage, "description": "Not a PNG or JPEG image, or no image"},
        503: {"model": ErrorMessage, "description": "The inference pool is full: retry"},
    },
)
async def create_probe(
    run: RunDep,
    artifacts: ArtifactsDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
    image: Annotated[UploadFile, File(description="A PNG or JPEG image, at most 10 MB.")],
    _: TokenDep,
) -> ProbePublic:
    """Run the run's model on ``image`` (resized and centre-cropped to the run's image size)
    and store every filter's response; the same upload to the same run is the same probe."""
    if run.status != RunStatus.succeeded.value:
        raise HTTPException(
            status_code=409, detail=f"run {run.id!r} is {run.status}, not succeeded"
        )
    if not (artifacts.model_dir / "model.json").is_file():
        raise HTTPException(status_code=409, detail=f"run {run.id!r} has no published model")
    data = await image.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(status_code=413, detail=f"image: over {MAX_UPLOAD_BYTES} bytes")
    image_size = run_image_size(run.config, artifacts)
    try:
        picture = await run_in_threadpool(model_input, data, image_size)
    except ProbeInputError as error:
        raise HTTPException(status_code=422, detail=str(error)) from None
    pid = probe_id(run.id, data)
    folder = probes_dir(settings.data_dir) / pid
    try:
        record = read_record(folder)
    except FileNotFoundError:
        folder.parent.mkdir(parents=True, exist_ok=True)
        pool = probe_pool(request)
        try:
            record = await pool.run(compute_probe, pool, artifacts, picture, folder, pid)
        except PoolBusyError as error:
            raise HTTPException(
                status_code=503, detail=str(error), headers={"Retry-After": "1"}
            ) from None
        except (FileNotFoundError, ValueError) as error:
            raise HTTPException(
                status_code=409, detail=f"run {run.id!r}: its model cannot be loaded ({error})"
            ) from None
    response.headers["Location"] = str(request.url_for("get_probe_route", probe_id=pid))
    return public(record)


@router.get("", response_model=ProbePublic, responses={404: ERRORS[404]})
def get_probe_route(probe: ProbeDep) -> ProbePublic:
    """The probe: its run, input size and layers."""
    return public(probe.record)


@router.get("/image.png", response_class=Response, responses={**PNG, **ERRORS})
async def probe_image(probe: ProbeDep, request: Request) -> Response:
    """The model's input: the upload resized and centre-cropped to the run's image size."""
    return await cached_response(
        request,
        probe.artifacts,
        probe.sources,
        lambda: (probe.folder / IMAGE).read_bytes(),
        media_type="image/png",
    )


@router.get("/layers/{layer}/filters", response_model=list[ProbeFilter], responses=ERRORS)
async def probe_filters(probe: ProbeDep, request: Request, layer: str) -> Response:
    """Every filter of ``layer`` on the probe image: peak, mean and p(mu_hat) in pixels."""
    record = probe.layer(layer)

    def render() -> bytes:
        flat = np.asarray(probe.maps(layer)).reshape(record.filters, -1)
        return json_body(
            [
                ProbeFilter(
                    filter=f,
                    peak=float(flat[f].max()),
                    mean=float(flat[f].mean()),
                    position=list(record.positions[f]),
                )
                for f in range(record.filters)
            ]
        )

    return await cached_response(
        request, probe.artifacts, probe.sources, render, media_type="application/json"
    )


def region_args(record: ProbeLayerRecord, f: int) -> tuple[np.ndarray, float, float]:
    """p(mu) of every unit, the RF radius and T_f of the run (409 when it was not evaluated)."""
    if record.geometry is None:
        raise HTTPException(
            status_code=409, detail="the probe's run was not evaluated: no RF region S_f"
        )
    threshold = record.geometry.thresholds[f]
    return (
        np.asarray(record.geometry.unit_centers, dtype=np.float32),
        record.geometry.rf_radius,
        float("inf") if threshold is None else float(threshold),
    )


def assigned_mask(probe: Probe, fmap: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """T_mu_hat of the model's templates for ``fmap`` and mu_hat = (row, col) of its argmax."""
    h, w = fmap.shape
    row, col = divmod(int(fmap.argmax()), w)
    shapes = template_shapes(h, w, beta=probe.record.beta, norm=probe.record.norm)
    return shapes[row * w + col].numpy(), (row, col)


@router.get(
    "/layers/{layer}/filters/{filter_index}/activation",
    response_model=ProbeActivation,
    responses=ERRORS,
)
async def probe_activation(
    probe: ProbeDep, request: Request, layer: str, filter_index: FilterIndex
) -> Response:
    """The filter's map x on the probe image, mu_hat, T_mu_hat and relu(x * T_mu_hat)."""
    record = probe.filter(layer, filter_index)

    def render() -> bytes:
        fmap = np.asarray(probe.maps(layer)[filter_index], dtype=np.float32)
        mask, argmax = assigned_mask(probe, fmap)
        return json_body(
            ProbeActivation(
                probe_id=probe.record.id,
                run_id=probe.record.run_id,
                layer=layer,
                filter=filter_index,
                image=0,
                map=fmap.round(5).tolist(),
                argmax=list(argmax),
                max=float(fmap.max()),
                filter_max=record.scale[filter_index],
                mask=mask.round(5).tolist(),
                masked=np.maximum(fmap * mask, 0.0).round(5).tolist(),
            )
        )

    return await cached_response(
        request, probe.artifacts, probe.sources, render, media_type="application/json"
    )
