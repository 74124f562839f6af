"""A filter's inferred part positions in the object-box frame, with the landmarks' means."""

from __future__ import annotations

import numpy as np
import pytest

from backend.api.routes.positions import FRAME
from partlens.store import atomic_write_json
from tests.backend.served_run import FILTERS, Served, annotation_arrays, stored_maps
from tests.partlens.evaluation.sample_metrics import SIDE


def expected_points(f: int) -> list[tuple[dict, tuple[float, float]]]:
    """p(mu_hat) of filter f's max on each evaluated image, computed here from the maps: unit
    (r, c) has its RF centre at (8c + 4, 8r + 4), mapped into that image's box; with the
    position in pixels."""
    arrays, maps = annotation_arrays(), stored_maps()
    points = []
    for index, box in zip(arrays["indices"], arrays["bboxes"], strict=True):
        fmap = maps[index, f]
        row, col = divmod(int(fmap.argmax()), SIDE)
        x, y = 8 * col + 4.0, 8 * row + 4.0
        x0, y0, x1, y1 = box
        point = {
            "image": int(index),
            "x": (x - x0) / (x1 - x0),
            "y": (y - y0) / (y1 - y0),
            "score": float(fmap.max()),
        }
        points.append((point, (x, y)))
    return points


@pytest.mark.parametrize("f", range(FILTERS))
def test_points_are_the_filters_parts_in_each_images_box(served: Served, f):
    response = served.client.get(served.layer(f"/filters/{f}/positions"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["frame"] == FRAME and FRAME.startswith("object box: x and y from 0 (left/top)")
    expected = expected_points(f)
    assert [p["image"] for p in body["points"]] == [p["image"] for p, _ in expected] == [0, 2, 3]
    boxes = annotation_arrays()["bboxes"]
    for got, (want, (x, y)), box in zip(body["points"], expected, boxes, strict=True):
        assert got == pytest.approx(want)
        # p inside the box lands inside [0, 1], outside it beyond.
        inside = box[0] <= x <= box[2] and box[1] <= y <= box[3]
        assert inside == (0 <= got["x"] <= 1 and 0 <= got["y"] <= 1)


def test_landmarks_are_their_mean_position_in_the_same_frame(served: Served):
    body = served.client.get(served.layer("/filters/1/positions")).json()
    arrays = annotation_arrays()
    boxes = arrays["bboxes"][:, None, :]
    relative = (arrays["landmarks"] - boxes[..., :2]) / (boxes[..., 2:] - boxes[..., :2])
    means = np.nanmean(relative, axis=0)
    assert body["landmarks"] == [
        {"name": "head", "x": pytest.approx(means[0, 0]), "y": pytest.approx(means[0, 1])},
        {"name": "tail", "x": pytest.approx(means[1, 0]), "y": pytest.approx(means[1, 1])},
    ]
    # tail is absent on image 2: its mean is over images 0 and 3 only.
    assert body["landmarks"][1]["x"] == pytest.approx(((50 - 8) / 48 + (40 - 16) / 32) / 2)


def test_objects_facing_right_are_mirrored_so_heads_lie_left(served: Served):
    arrays = annotation_arrays()
    arrays["landmarks"][0] = [[50.0, 20.0], [12.0, 40.0]]  # image 0 faces right
    np.savez(served.artifacts.root / "annotations.npz", **arrays)
    body = served.client.get(served.layer("/filters/1/positions")).json()
    plain = {p["image"]: p for p, _ in expected_points(1)}
    for got in body["points"]:
        want = plain[got["image"]]
        x = 1 - want["x"] if got["image"] == 0 else want["x"]
        assert (got["x"], got["y"]) == pytest.approx((x, want["y"]))
    head = np.mean([1 - (50 - 8) / 48, (10 - 0) / 64, (32 - 16) / 32])
    assert body["landmarks"][0] == {
        "name": "head",
        "x": pytest.approx(head),
        "y": pytest.approx(np.mean([(20 - 8) / 48, 30 / 64, (40 - 32) / 32])),
    }


def test_positions_are_cached_with_an_etag(served: Served):
    first = served.client.get(served.layer("/filters/0/positions"))
    again = served.client.get(
        served.layer("/filters/0/positions"), headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304 and "immutable" in first.headers["cache-control"]


def test_unknown_filter_layer_and_an_unevaluated_run_are_errors(served: Served):
    missing = served.client.get(served.layer(f"/filters/{FILTERS}/positions"))
    assert missing.status_code == 404 and "out of range" in missing.json()["detail"]
    layer = served.client.get(f"{served.base}/layers/conv_nope/filters/0/positions")
    assert layer.status_code == 404 and "unknown layer" in layer.json()["detail"]
    metrics = served.artifacts.metrics()
    metrics["annotation_arrays"] = None  # evaluated before the positions were stored
    atomic_write_json(served.artifacts.metrics_path, metrics)
    old = served.client.get(served.layer("/filters/0/positions"))
    assert old.status_code == 409 and "re-evaluate it" in old.json()["detail"]
    served.artifacts.metrics_path.unlink()
    unevaluated = served.client.get(served.layer("/filters/0/positions"))
    assert unevaluated.status_code == 409 and "not evaluated" in unevaluated.json()["detail"]


def test_the_client_reads_positions(served: Served):
    from fastapi.testclient import TestClient

    from partlens.client import PartlensClient

    client = PartlensClient("http://testserver/api/v1")
    client._http = TestClient(served.client.app, base_url="http://testserver/api/v1")
    run_id = served.artifacts.root.name
    body = client.positions(run_id, "conv_added", 2)
    assert [p["image"] for p, _ in expected_points(2)] == [p["image"] for p in body["points"]]


def test_multi_category_filters_keep_the_images_of_their_target_category(served: Served):
    arrays = {**annotation_arrays(), "category_names": np.array(["bird", "cat"])}
    arrays["categories"] = np.array([0, 1, 0])  # image 2 is a cat
    np.savez(served.artifacts.root / "annotations.npz", **arrays)
    metrics = served.artifacts.metrics()
    metrics["layers"]["conv_added"]["target_category"] = ["bird", "cat", "dog"]
    atomic_write_json(served.artifacts.metrics_path, metrics)
    images = [
        [
            p["image"]
            for p in served.client.get(served.layer(f"/filters/{f}/positions")).json()["points"]
        ]
        for f in range(FILTERS)
    ]
    assert images == [[0, 3], [2], []]
