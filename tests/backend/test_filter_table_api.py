"""The per-filter table: statistics joined with the stored P_f, best part, D_f and target
category, sorted, filtered and paged on the server."""

from __future__ import annotations

import numpy as np
import pytest

from partlens.store import atomic_write_json
from tests.backend.served_run import Served, evaluated_layer, stored_maps
from tests.partlens.evaluation.sample_metrics import run_dict

PEAKS = stored_maps().max(axis=(0, 2, 3))  # [F]


def _rows(served: Served, **params):
    response = served.client.get(served.layer("/filters"), params=params)
    assert response.status_code == 200, response.text
    return response.json(), int(response.headers["x-total-count"])


def test_rows_join_the_statistics_and_the_stored_metrics(served: Served):
    rows, total = _rows(served)
    assert total == 3 and [row["filter"] for row in rows] == [0, 1, 2]
    assert [row["part_score"] for row in rows] == [0.5, 0.1, 0.3]
    assert [row["best_part"] for row in rows] == ["head", "torso", "head"]
    assert [row["instability"] for row in rows] == [0.1, None, 0.2]
    assert {row["target_category"] for row in rows} == {"bird"}
    assert [row["peak"] for row in rows] == pytest.approx(PEAKS.tolist())
    assert {"top_image", "argmax", "mean", "mean_max"} <= set(rows[0])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"sort": "part_score", "desc": "true"}, [0, 2, 1]),
        ({"sort": "part_score"}, [1, 2, 0]),
        ({"sort": "instability"}, [0, 2, 1]),  # undefined D_f last
        ({"sort": "instability", "desc": "true"}, [2, 0, 1]),
        ({"sort": "peak", "desc": "true"}, np.argsort(-PEAKS, kind="stable").tolist()),
        ({"sort": "filter", "desc": "true"}, [2, 1, 0]),
        ({"part": "head"}, [0, 2]),
        ({"part": "head", "sort": "part_score"}, [2, 0]),
        ({"category": "bird", "min_peak": float(PEAKS.max())}, [int(PEAKS.argmax())]),
    ],
)
def test_sort_and_filters(served: Served, params, expected):
    rows, total = _rows(served, **params)
    assert [row["filter"] for row in rows] == expected and total == len(expected)


def test_an_unknown_part_or_category_matches_nothing(served: Served):
    assert _rows(served, part="wing") == ([], 0)
    assert _rows(served, category="cat") == ([], 0)


def test_paging_keeps_the_total(served: Served):
    rows, total = _rows(served, sort="part_score", desc="true", offset=1, limit=1)
    assert [row["filter"] for row in rows] == [2] and total == 3
    rows, total = _rows(served, offset=5)
    assert rows == [] and total == 3


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"sort": "size"}, "sort"),
        ({"desc": "maybe"}, "desc"),
        ({"min_peak": "high"}, "min_peak"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
    ],
)
def test_bad_values_are_422_naming_the_parameter(served: Served, params, parameter):
    response = served.client.get(served.layer("/filters"), params=params)
    assert response.status_code == 422, response.text
    assert [error["loc"][-1] for error in response.json()["detail"]] == [parameter]


def test_before_evaluation_the_metric_fields_are_empty(served: Served):
    served.artifacts.metrics_path.unlink()
    rows, _ = _rows(served, sort="part_score")
    assert [row["filter"] for row in rows] == [0, 1, 2]
    assert all(row["part_score"] is None and row["best_part"] is None for row in rows)
    response = served.client.get(served.layer("/filters"), params={"part": "head"})
    assert response.status_code == 409 and "evaluated" in response.json()["detail"]


def test_rows_are_cached_with_their_total(served: Served):
    first = served.client.get(served.layer("/filters"), params={"part": "head"})
    again = served.client.get(
        served.layer("/filters"),
        params={"part": "head"},
        headers={"If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 304 and again.headers["x-total-count"] == "2"


def test_multi_category_runs_give_each_filters_own_target(served: Served):
    layer = evaluated_layer()
    layer["target_category"] = ["cat", "bird", "cat"]
    metrics = run_dict(
        run_id=served.artifacts.root.name, task="multi", layers={"conv_added": layer}
    )
    atomic_write_json(served.artifacts.metrics_path, metrics)
    rows, _ = _rows(served)
    assert [row["target_category"] for row in rows] == ["cat", "bird", "cat"]
    rows, total = _rows(served, category="cat", sort="part_score", desc="true")
    assert [row["filter"] for row in rows] == [0, 2] and total == 2
