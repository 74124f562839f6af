"""A run evaluated on a dataset without part masks: metrics, CSV, heat maps and the filter table
answer, with null part scores and the reason where they would be."""

from __future__ import annotations

import csv
import io

import pytest

from partlens.store import atomic_write_json
from tests.backend.served_run import Served, evaluated_layer

REASON = "cub (cub200) annotates landmarks, not part masks"


@pytest.fixture
def landmark_only(served: Served) -> Served:
    metrics = served.artifacts.metrics()
    layer = evaluated_layer()
    layer["part_interpretability"] = None
    metrics["layers"] = {"conv_added": layer}
    metrics["part_interpretability_absent"] = REASON
    atomic_write_json(served.artifacts.metrics_path, metrics)
    return served


def test_metrics_have_no_part_interpretability_and_say_why(landmark_only: Served):
    response = landmark_only.client.get(f"{landmark_only.base}/metrics")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["part_interpretability_absent"] == REASON
    layer = body["layers"]["conv_added"]
    assert layer["part_interpretability"] is None
    assert layer["location_instability"]["per_filter"] == [0.1, None, 0.2]


def test_the_csv_leaves_the_part_cells_empty(landmark_only: Served):
    response = landmark_only.client.get(f"{landmark_only.base}/metrics.csv")
    assert response.status_code == 200, response.text
    (row,) = csv.DictReader(io.StringIO(response.text))
    assert row["part_interpretability"] == "" and row["part_interpretability_oracle"] == ""
    assert float(row["location_instability"]) == 0.1


def test_heat_maps_stay_listed(landmark_only: Served):
    listing = landmark_only.client.get(f"{landmark_only.base}/heatmaps")
    assert listing.status_code == 200 and listing.json()["categories"] == ["bird"]
    assert landmark_only.client.get(f"{landmark_only.base}/heatmaps/bird.json").status_code == 200


def test_the_filter_table_has_null_part_scores_and_refuses_to_order_by_them(
    landmark_only: Served,
):
    response = landmark_only.client.get(landmark_only.layer("/filters"))
    assert response.status_code == 200, response.text
    rows = response.json()
    assert [row["part_score"] for row in rows] == [None, None, None]
    assert [row["best_part"] for row in rows] == [None, None, None]
    assert [row["instability"] for row in rows] == [0.1, None, 0.2]
    by_instability = landmark_only.client.get(
        landmark_only.layer("/filters"), params={"sort": "instability"}
    )
    assert [row["filter"] for row in by_instability.json()] == [0, 2, 1]
    refused = landmark_only.client.get(
        landmark_only.layer("/filters"), params={"sort": "part_score", "part": "head"}
    )
    assert refused.status_code == 422
    errors = refused.json()["detail"]
    assert [error["loc"] for error in errors] == [["query", "part"], ["query", "sort"]]
    assert all(error["msg"] == f"no part scores: {REASON}" for error in errors)
