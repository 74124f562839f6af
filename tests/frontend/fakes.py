"""Test doubles for the UI: a fake API client, sample API answers, and component-tree helpers."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from dash import dcc, html
from dash.development.base_component import Component

from frontend.api_client import ApiError

Answer = Any  # JSON data, an ApiError to raise, or a callable of the call's params


@dataclass(frozen=True)
class Paged:
    """An answer of ``get_page``: a page of ``items`` and the API's ``X-Total-Count``."""

    items: Any
    total: int | None


class FakeApi:
    """Stands in for ``ApiClient``: answers each path from ``answers``, records every call.

    A path without an answer fails like the real API would (``ApiError`` 404).
    """

    def __init__(self, answers: dict[str, Answer] | None = None) -> None:
        self.answers: dict[str, Answer] = dict(answers or {})
        self.calls: list[tuple[str, str, Any]] = []

    def _answer(self, method: str, path: str, params: Any) -> Any:
        self.calls.append((method, path, params))
        if path not in self.answers:
            raise ApiError(f"no fake answer for {method} {path}", 404)
        answer = self.answers[path]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            answer = answer(params)
            if isinstance(answer, Exception):
                raise answer
            return answer
        return copy.deepcopy(answer)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self._answer(method, path, kwargs)

    def get_json(self, path: str, **params: Any) -> Any:
        return self._answer("GET", path, params)

    def post_json(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._answer("POST", path, body)

    def post_file(self, path: str, field: str, name: str, content: bytes) -> Any:
        return self._answer("POST", path, {field: (name, content)})

    def get_page(self, path: str, **params: Any) -> tuple[Any, int | None]:
        answer = self._answer("GET", path, params)
        if isinstance(answer, Paged):
            return answer.items, answer.total
        return answer, None

    def paths(self, method: str = "GET") -> list[str]:
        """The paths called with ``method``, in order."""
        return [path for m, path, _ in self.calls if m == method]


# --- sample API answers ---------------------------------------------------------------------


def run_answer(run_id: str = "abc", **changes: Any) -> dict[str, Any]:
    """A run as ``GET /runs/<id>`` returns it (succeeded, interpretable, with twin ``xyz``)."""
    run = {
        "id": run_id,
        "name": f"tiny interpretable {run_id}",
        "config": {
            "arch": "tiny",
            "interpretable": True,
            "epochs": 2,
            "dataset": {"name": "builtin", "task": "single", "category": "bird"},
        },
        "twin_id": "xyz",
        "summary": {
            "layer": "conv_top",
            "test_accuracy": 0.9,
            "location_instability": 0.1234,
            "part_interpretability": 0.5,
        },
        "eta_s": None,
        "status": "succeeded",
        "stage": "done",
        "progress": 1.0,
        "epoch": 2,
        "task_loss": 0.12345,
        "filter_loss": 0.5,
        "accuracy": 0.875,
        "images_per_s": 123.45,
        "error": None,
        "step": 8,
        "steps_total": 8,
        "queue": "partlens",
        "worker_id": "w1@host",
        "attempts": 1,
        "train_s": 75.5,
        "evaluate_s": 4.25,
    }
    return run | changes


def history_answer(run_id: str = "abc", steps: int = 4) -> dict[str, Any]:
    """``GET /runs/<id>/history``: ``steps`` step points of attempt 1, then one epoch mean."""

    def point(kind: str, step: int) -> dict[str, Any]:
        return {
            "kind": kind,
            "time": 1000.0 + step,
            "attempt": 1,
            "step": step,
            "steps_total": steps,
            "epoch": 0 if kind == "step" else 1,
            "epochs": 2,
            "task_loss": 1.0 / step,
            "filter_loss": 0.5,
            "filter_lambda": 0.1,
            "accuracy": 0.5 + step / 10,
            "lr": 0.01,
            "images_per_s": 100.0 + step,
            "eta_s": 65.0 - step,
        }

    points = [point("step", step) for step in range(1, steps + 1)] + [point("epoch", steps)]
    return {"run_id": run_id, "points": points}


def filters_answer(n: int) -> list[dict[str, Any]]:
    """``GET /runs/<id>/layers/<l>/filters`` of ``n`` filters: peaks rise, means fall."""
    return [
        {
            "filter": f,
            "top_image": 11 - f,
            "peak": 1.0 + (f * 7 % n),
            "argmax": [0, 0],
            "mean": 0.5 - f / 100,
            "mean_max": 0.9,
        }
        for f in range(n)
    ]


def sheet_answer(filters: list[dict[str, Any]]) -> Any:
    """``GET .../sheet.json`` over ``filters``: orders them as the API does, from the params."""

    def answer(params: dict[str, Any]) -> dict[str, Any]:
        sort, desc = params.get("sort", "filter"), bool(params.get("desc"))
        ordered = sorted(filters, key=lambda item: item[sort], reverse=desc)
        columns = params["columns"]
        chosen = [item["filter"] for item in ordered][: params["limit"]]
        return {
            "filters": chosen,
            "columns": columns,
            "tile": params["tile"],
            "rows": -(-len(chosen) // columns),
            "total": len(filters),
            "offset": 0,
        }

    return answer


def features_answer(run_id: str = "abc") -> dict[str, Any]:
    """``GET /runs/<id>/features``: two layers, 4 and 6 filters, 12 images."""
    return {
        "run_id": run_id,
        "num_images": 12,
        "image_size": 64,
        "categories": ["bird"],
        "layers": [{"name": "conv_added", "filters": 4}, {"name": "conv_top", "filters": 6}],
    }


def layer_metrics_answer(n_filters: int) -> dict[str, Any]:
    """One layer's entry of ``GET /runs/<id>/metrics``."""
    return {
        "location_instability": {
            "mean": 0.1234,
            "random_reference": 0.25,
            "oracle_reference": 0.05,
            "per_filter": [None if f == 1 else 0.1 + f / 100 for f in range(n_filters)],
        },
        "part_interpretability": {
            "mean": 0.5,
            "rf_radius": 12.5,
            "parts": ["head", "torso"],
            "per_filter": [0.3 + f / 10 for f in range(n_filters)],
            "per_filter_part": [
                [0.3 + f / 10, None] if f % 2 == 0 else [0.3 + f / 10, 0.1]
                for f in range(n_filters)
            ],
            "best_part": ["head" if f % 2 else "torso" for f in range(n_filters)],
            "best_part_histogram": {"torso": 3, "head": 1},
            "radius_sensitivity": [{"radius": 16, "mean": 0.6}, {"radius": 8, "mean": 0.4}],
        },
    }


def metrics_answer() -> dict[str, Any]:
    """``GET /runs/<id>/metrics`` of an evaluated run, with a bird heat map."""
    return {
        "accuracy": 0.9,
        "evaluation": {"iou_threshold": 0.2},
        "top_layer": "conv_top",
        "layers": {"conv_added": layer_metrics_answer(4), "conv_top": layer_metrics_answer(6)},
        "heatmaps": {"bird": "heatmaps/bird.png"},
        "part_interpretability_absent": None,
    }


LANDMARKS_ONLY = "CUB-200 annotates landmarks, not part masks: no region to score"


def landmark_metrics_answer() -> dict[str, Any]:
    """``GET /runs/<id>/metrics`` of a run on a landmark-only dataset (CUB): every layer's
    part interpretability null, and the reason."""
    metrics = metrics_answer()
    for layer in metrics["layers"].values():
        layer["part_interpretability"] = None
    return metrics | {"part_interpretability_absent": LANDMARKS_ONLY}


def positions_answer() -> dict[str, Any]:
    """``GET .../filters/<f>/positions``: three images' part positions and two landmarks."""
    return {
        "frame": "object box",
        "points": [
            {"image": 5, "x": 0.25, "y": 0.2, "score": 2.0},
            {"image": 0, "x": 0.3, "y": 0.25, "score": 1.0},
            {"image": 9, "x": 0.8, "y": 0.9, "score": 0.5},
        ],
        "landmarks": [{"name": "beak", "x": 0.2, "y": 0.2}, {"name": "tail", "x": 0.9, "y": 0.7}],
    }


# --- component trees ------------------------------------------------------------------------


def walk(node: Any) -> Iterator[Component]:
    """Every component in ``node`` (a component, a list of them, text), depth first."""
    if isinstance(node, Component):
        yield node
        yield from walk(getattr(node, "children", None))
    elif isinstance(node, list | tuple):
        for child in node:
            yield from walk(child)


def text(node: Any) -> str:
    """The text ``node`` shows, as a browser would concatenate it."""
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, Component):
        return text(getattr(node, "children", None))
    if isinstance(node, list | tuple):
        return "".join(text(child) for child in node)
    return ""


def by_id(node: Any, id: str) -> Component:
    """The one component of ``node`` with this id."""
    found = [c for c in walk(node) if getattr(c, "id", None) == id]
    assert len(found) == 1, f"{len(found)} components with id {id!r}"
    return found[0]


def ids(node: Any) -> set[str]:
    """The ids of all components in ``node``."""
    return {c.id for c in walk(node) if isinstance(getattr(c, "id", None), str)}


def of_type(node: Any, kind: type[Component]) -> list[Any]:
    """The components of ``node`` of this type, in document order."""
    return [c for c in walk(node) if isinstance(c, kind)]


def links(node: Any) -> dict[str, str]:
    """Each link's text -> its href (the last one when texts repeat)."""
    return {text(link): link.href for link in of_type(node, dcc.Link)}


def image_sources(node: Any) -> list[str]:
    """The ``src`` of every image, in document order."""
    return [img.src for img in of_type(node, html.Img)]


def with_class(node: Any, class_name: str) -> list[Any]:
    """The components whose ``className`` includes ``class_name``."""
    return [c for c in walk(node) if class_name in (getattr(c, "className", None) or "").split()]
