"""A small typed client of the partlens HTTP API, for notebooks and scripts.

    from partlens.client import PartlensClient
    api = PartlensClient("http://127.0.0.1:8000/api/v1")
    run = api.launch({"arch": "tiny", "with_twin": True})
    api.wait(run["id"])
    maps = api.filter_map(run["id"], "conv_top", 3, image=0)   # float32 [h, w]

It needs only ``httpx`` and ``numpy`` (no torch): every error answer of the API becomes an
:class:`ApiError` with the API's message.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

FINISHED = ("succeeded", "failed", "cancelled")


class ApiError(Exception):
    """The API answered with an error; ``status_code`` and the API's ``message``."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(f"{status_code}: {message}")
        self.status_code = status_code
        self.message = message


class PartlensClient:
    """Calls the API at ``base_url`` (``.../api/v1``), with ``token`` for mutations when set."""

    def __init__(self, base_url: str, token: str | None = None, timeout_s: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> PartlensClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise ApiError(response.status_code, str(detail))
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._request(method, path, **kwargs).json()

    def health(self, workers: bool = False) -> dict[str, Any]:
        """Database, broker and (with ``workers``) the live workers and their queues."""
        return self._json("GET", "/health", params={"workers": workers})

    def runs(self, **filters: Any) -> list[dict[str, Any]]:
        """Runs with their summary and ETA (filters: status, arch, dataset, kind, q; order:
        sort, desc; paging: limit, offset); newest first by default."""
        return self._json("GET", "/runs", params=filters)

    def run(self, run_id: str) -> dict[str, Any]:
        """One run: config, status, progress, ETA, timings, error, lease holder, summary."""
        return self._json("GET", f"/runs/{run_id}")

    def launch(self, config: dict[str, Any]) -> dict[str, Any]:
        """Launch a run (``RunCreate``: a RunConfig plus name, with_twin, preset, queue)."""
        return self._json("POST", "/runs", json=config)

    def cancel(self, run_id: str) -> dict[str, Any]:
        """Ask the run to stop (a queued run is cancelled at once)."""
        return self._json("POST", f"/runs/{run_id}/cancel")

    def wait(self, run_id: str, timeout_s: float = 3600, poll_s: float = 1.0) -> dict[str, Any]:
        """The run once it has finished; TimeoutError after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            run = self.run(run_id)
            if run["status"] in FINISHED:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} still {run['status']} after {timeout_s} s")
            time.sleep(poll_s)

    def history(self, run_id: str) -> list[dict[str, Any]]:
        """The training curves: one point per throttled step and per epoch."""
        return self._json("GET", f"/runs/{run_id}/history")["points"]

    def log(self, run_id: str) -> str:
        """The tail of the run's own log."""
        return self._json("GET", f"/runs/{run_id}/log")["text"]

    def metrics(self, run_id: str) -> dict[str, Any]:
        """The run's metrics.json (paper-style metrics per layer)."""
        return self._json("GET", f"/runs/{run_id}/metrics")

    def filters(self, run_id: str, layer: str, **query: Any) -> list[dict[str, Any]]:
        """The filters of ``layer`` with their summaries (peak, mean, top image; c_hat, P_f,
        best part and D_f once evaluated); ``query``: sort, desc, part, category, min_peak,
        offset, limit as the API takes them."""
        return self._json("GET", f"/runs/{run_id}/layers/{layer}/filters", params=query)

    def positions(self, run_id: str, layer: str, filter_index: int) -> dict[str, Any]:
        """Where filter ``filter_index`` places its part: ``points`` (image, x, y, score) of
        p(mu_hat) on each evaluation image it fires on and ``landmarks`` (name, x, y, their
        mean over those images), both in the object-box ``frame`` (0..1 from left / top)."""
        return self._json("GET", f"/runs/{run_id}/layers/{layer}/filters/{filter_index}/positions")

    def metrics_csv(self, run_id: str) -> str:
        """The paper-style table rows of the run (and its evaluated twin) as CSV text."""
        return self._request("GET", f"/runs/{run_id}/metrics.csv").text

    def heatmap(self, run_id: str, category: str) -> np.ndarray:
        """The Fig. 6 heat map of ``category`` (density of p(mu_hat) in the box), [G, G]."""
        body = self._json("GET", f"/runs/{run_id}/heatmaps/{category}.json")
        return np.asarray(body["heat"], dtype=np.float32)

    def filter_map(self, run_id: str, layer: str, filter_index: int, image: int) -> np.ndarray:
        """Filter ``filter_index``'s map x on evaluation image ``image``, float32 [h, w]."""
        path = f"/runs/{run_id}/layers/{layer}/filters/{filter_index}/activation"
        return np.asarray(self._json("GET", path, params={"image": image})["map"], np.float32)

    def image(self, run_id: str, image: int) -> np.ndarray:
        """Evaluation image ``image`` as the model saw it, uint8 [H, W, 3]."""
        from PIL import Image

        data = self._request("GET", f"/runs/{run_id}/images/{image}.png").content
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))

    def datasets(self) -> list[dict[str, Any]]:
        """Every dataset a run can use (builtin first)."""
        return self._json("GET", "/datasets")

    def add_dataset(self, name: str, format: str, root: str) -> dict[str, Any]:
        """Register a dataset folder on the server (it must lie under the allowed roots)."""
        return self._json("POST", "/datasets", json={"name": name, "format": format, "root": root})

    def weights(self) -> list[dict[str, Any]]:
        """Every registered weights file."""
        return self._json("GET", "/weights")

    def add_weights(self, name: str, path: str | Path, arch: str) -> dict[str, Any]:
        """Upload a .safetensors or .pth state dict for ``arch``."""
        path = Path(path)
        with open(path, "rb") as file:
            return self._json(
                "POST",
                "/weights",
                data={"name": name, "arch": arch},
                files={"file": (path.name, file, "application/octet-stream")},
            )

    def dataset_samples(
        self, name: str, split: str = "train", offset: int = 0, limit: int = 24
    ) -> dict[str, Any]:
        """A page of a dataset split's samples: ``total`` and ``items`` (category, bbox, parts
        with a mask, landmarks)."""
        params = {"split": split, "offset": offset, "limit": limit}
        return self._json("GET", f"/datasets/{name}/samples", params=params)

    def probe(self, run_id: str, image: str | Path | bytes) -> dict[str, Any]:
        """Run the run's model on ``image`` (a PNG or JPEG file or its bytes): the probe
        (``id``, ``image_size``, ``layers``); the same image gives the same probe."""
        data = image if isinstance(image, bytes) else Path(image).read_bytes()
        name = "image" if isinstance(image, bytes) else Path(image).name
        files = {"image": (name, data, "application/octet-stream")}
        return self._json("POST", f"/runs/{run_id}/probes", files=files)

    def probe_filters(self, probe_id: str, layer: str) -> list[dict[str, Any]]:
        """Every filter of ``layer`` on the probe image: peak, mean, p(mu_hat) in pixels."""
        return self._json("GET", f"/probes/{probe_id}/layers/{layer}/filters")

    def probe_map(self, probe_id: str, layer: str, filter_index: int) -> np.ndarray:
        """Filter ``filter_index``'s map x on the probe image, float32 [h, w]."""
        path = f"/probes/{probe_id}/layers/{layer}/filters/{filter_index}/activation"
        return np.asarray(self._json("GET", path)["map"], np.float32)
