"""Fig. 6 heat maps as data (index, arrays, mean image) and the metrics CSV download."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from backend.api.routes.metrics import CSV_COLUMNS
from tests.backend.served_run import HEATMAP_GRID, Served, heatmap_arrays, png_array


def test_the_index_lists_the_categories(served: Served):
    body = served.client.get(f"{served.base}/heatmaps").json()
    assert body == {
        "run_id": served.artifacts.root.name,
        "layer": "conv_added",
        "categories": ["bird"],
    }


def test_the_arrays_are_the_stored_ones(served: Served):
    response = served.client.get(f"{served.base}/heatmaps/bird.json")
    assert response.status_code == 200 and response.headers["etag"]
    body = response.json()
    stored = heatmap_arrays()
    assert body["category"] == "bird" and body["grid"] == HEATMAP_GRID
    np.testing.assert_allclose(body["heat"], stored["heat"])
    assert (body["points"], body["images"]) == (7, 4)


def test_the_mean_image_is_the_stored_one(served: Served):
    picture = png_array(served.client.get(f"{served.base}/heatmaps/bird/mean.png"))
    np.testing.assert_array_equal(picture, heatmap_arrays()["mean_image"])


@pytest.mark.parametrize("path", ["/heatmaps/cat.json", "/heatmaps/cat/mean.png"])
def test_unknown_categories_are_404_with_the_known_ones(served: Served, path: str):
    response = served.client.get(served.base + path)
    assert response.status_code == 404 and "available: bird" in response.json()["detail"]


def test_a_missing_file_is_409_and_unevaluated_runs_are_409(served: Served):
    (served.artifacts.heatmaps_dir / "bird.npz").unlink()
    assert served.client.get(f"{served.base}/heatmaps/bird.json").status_code == 409
    served.artifacts.metrics_path.unlink()
    for path in ("/heatmaps", "/heatmaps/bird.json", "/metrics.csv"):
        assert served.client.get(served.base + path).status_code == 409, path


def test_metrics_csv_is_a_download_of_the_table_rows(served: Served):
    response = served.client.get(f"{served.base}/metrics.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == CSV_COLUMNS and len(rows) == 1
    row = rows[0]
    assert (row["layer"], row["kind"], row["category"]) == ("conv_added", "interpretable", "bird")
    assert float(row["part_interpretability"]) == 0.5
    assert float(row["location_instability"]) == 0.1
    assert float(row["accuracy_percent"]) == pytest.approx(90.0)
    cached = served.client.get(
        f"{served.base}/metrics.csv", headers={"If-None-Match": response.headers["etag"]}
    )
    assert cached.status_code == 304
