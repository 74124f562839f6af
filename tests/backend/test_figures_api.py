"""The contact sheet, the Fig. 4 panel and the raw map of the figure routes, checked against
maps and images written by hand."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from backend.rendering import (
    BAR_HEIGHT,
    LABEL_HEIGHT,
    OUTSIDE_DIM,
    SHEET_BACKGROUND,
    colour_bar,
    map_picture,
    overlay,
    resized,
    scaled_rf_overlay,
)
from partlens.store import atomic_write_json
from tests.backend.served_run import THRESHOLDS, Served, evaluated_layer, png_array, stored_maps
from tests.backend.test_filters_api import N, _images
from tests.partlens.evaluation.sample_metrics import layer_dict

CENTERS = np.asarray(layer_dict()["geometry"]["unit_centers"], dtype=np.float32)
RF_RADIUS = 6.0


def _top_images() -> np.ndarray:
    """The image each filter peaks on (first on ties), from the maps themselves."""
    per_image = stored_maps().reshape(N, 3, -1).max(axis=2)  # [N, F]
    return per_image.argmax(axis=0)


def _peaks() -> np.ndarray:
    return stored_maps().reshape(N, 3, -1).max(axis=(0, 2))


@pytest.mark.parametrize(
    ("sort", "desc", "key"),
    [
        ("filter", False, None),
        ("filter", True, None),
        ("peak", True, "peak"),
        ("mean", False, "mean"),
    ],
)
def test_sheet_tiles_follow_the_order_and_sheet_json_agrees(served: Served, sort, desc, key):
    params = {"columns": 2, "tile": 32, "sort": sort, "desc": str(desc).lower()}
    values = {"peak": _peaks(), "mean": stored_maps().mean(axis=(0, 2, 3))}
    if key is None:
        expected = [2, 1, 0] if desc else [0, 1, 2]
    else:
        expected = np.argsort(-values[key] if desc else values[key], kind="stable").tolist()
    layout = served.client.get(served.layer("/sheet.json"), params=params).json()
    assert layout == {
        "filters": expected,
        "columns": 2,
        "tile": 32,
        "rows": 2,
        "total": 3,
        "offset": 0,
    }
    sheet = png_array(served.client.get(served.layer("/sheet.png"), params=params))
    assert sheet.shape == (2 * 32, 2 * 32, 3)
    images, peaks = _images(), _peaks()
    for index, f in enumerate(expected):
        row, col = divmod(index, 2)
        top = int(_top_images()[f])
        tile = overlay(resized(images[top], (32, 32)), stored_maps()[top, f], float(peaks[f]))
        cell = sheet[row * 32 : (row + 1) * 32, col * 32 : (col + 1) * 32]
        np.testing.assert_array_equal(cell, tile, err_msg=f"tile {index} = filter {f}")
    assert (sheet[32:, 32:] == SHEET_BACKGROUND).all(), "the cell after the last tile is empty"


def test_sheet_pages_and_rf_tiles(served: Served):
    url = served.layer("/sheet.json")
    page = served.client.get(url, params={"offset": 1, "limit": 1, "sort": "peak", "desc": True})
    assert page.json()["filters"] == [int(np.argsort(-_peaks(), kind="stable")[1])]
    past = served.client.get(url, params={"offset": 3}).json()
    assert past["filters"] == [] and past["rows"] == 0 and past["total"] == 3
    empty = served.client.get(served.layer("/sheet.png"), params={"offset": 3})
    assert empty.status_code == 404 and "has 3 filters" in empty.json()["detail"]
    params = {"columns": 4, "tile": 48, "overlay": "rf"}
    sheet = png_array(served.client.get(served.layer("/sheet.png"), params=params))
    assert sheet.shape == (48, 4 * 48, 3)
    top = int(_top_images()[1])
    expected = scaled_rf_overlay(
        _images()[top], stored_maps()[top, 1], CENTERS, RF_RADIUS, THRESHOLDS[1], 48
    )
    np.testing.assert_array_equal(sheet[:, 48:96], expected)
    unknown = served.client.get(served.base + "/layers/nope/sheet.png")
    assert unknown.status_code == 404 and "conv_added" in unknown.json()["detail"]


def _mask(row: int, col: int, beta: float = 4.0) -> np.ndarray:
    """The paper's template shape max(1 - beta * ||(i, j) - mu||_1 / n, -1) on the 8x8 map."""
    i, j = np.mgrid[0:8, 0:8]
    return np.maximum(1.0 - beta * (np.abs(i - row) + np.abs(j - col)) / 8.0, -1.0)


def test_panel_shows_image_mask_masked_map_and_region(served: Served):
    response = served.client.get(served.layer("/filters/1/panel.png"), params={"image": 3})
    assert response.status_code == 200
    side = 224
    panel = png_array(response)
    assert panel.shape == (LABEL_HEIGHT + side + BAR_HEIGHT, 4 * side, 3)
    body = panel[LABEL_HEIGHT : LABEL_HEIGHT + side]
    image, fmap = _images()[3], stored_maps()[3, 1]
    mask = _mask(6, 2)  # filter 1 peaks at (6, 2) on image 3
    np.testing.assert_array_equal(body[:, :side], resized(image, (side, side)))
    np.testing.assert_array_equal(body[:, side : 2 * side], map_picture(mask, -1, 1, side))
    masked = np.maximum(fmap * mask, 0)
    np.testing.assert_array_equal(body[:, 2 * side : 3 * side], map_picture(masked, 0, 2, side))
    region = scaled_rf_overlay(image, fmap, CENTERS, RF_RADIUS, THRESHOLDS[1], side)
    np.testing.assert_array_equal(body[:, 3 * side :], region)
    bars = panel[LABEL_HEIGHT + side :]
    np.testing.assert_array_equal(bars[:, side : 2 * side], colour_bar(side))
    assert (bars[:, :side] == 255).all() and (panel[:LABEL_HEIGHT, :side] < 255).any(), "title"


def test_panel_uses_the_models_beta_and_validates(served: Served):
    model_dir = served.artifacts.model_dir
    model_dir.mkdir(parents=True, exist_ok=True)
    meta = {"format": "partlens-checkpoint", "options": {"beta": 2.0, "norm": "l1"}}
    (model_dir / "model.json").write_text(json.dumps(meta))
    url = served.layer("/filters/1/panel.png")
    panel = png_array(served.client.get(url, params={"image": 3, "size": 64}))
    assert panel.shape == (LABEL_HEIGHT + 64 + BAR_HEIGHT, 4 * 64, 3)
    mask_panel = panel[LABEL_HEIGHT : LABEL_HEIGHT + 64, 64:128]
    np.testing.assert_array_equal(mask_panel, map_picture(_mask(6, 2, beta=2.0), -1, 1, 64))
    assert served.client.get(url, params={"image": N}).status_code == 404
    assert served.client.get(served.layer("/filters/3/panel.png")).status_code == 404
    served.artifacts.metrics_path.unlink()
    assert served.client.get(url, params={"image": 2}).status_code == 409


def test_map_npy_round_trips_to_the_activation_json(served: Served):
    for f, image in ((1, 3), (0, 0), (2, 4)):
        raw = served.client.get(served.layer(f"/filters/{f}/map.npy"), params={"image": image})
        assert raw.status_code == 200 and raw.headers["content-type"] == "application/octet-stream"
        values = np.load(io.BytesIO(raw.content))
        assert values.dtype == np.float32 and values.shape == (8, 8)
        np.testing.assert_array_equal(values, stored_maps()[image, f])
        body = served.client.get(served.layer(f"/filters/{f}/activation?image={image}")).json()
        np.testing.assert_allclose(values, body["map"], atol=1e-5)
        assert body["max"] == pytest.approx(float(values.max()))
    assert served.client.get(served.layer("/filters/1/map.npy?image=5")).status_code == 404


def test_a_filter_without_a_threshold_has_an_empty_region(served: Served):
    metrics = json.loads(served.artifacts.metrics_path.read_text())
    metrics["layers"]["conv_added"]["geometry"]["thresholds"][1] = None
    atomic_write_json(served.artifacts.metrics_path, metrics)
    url = served.layer("/filters/1/overlay.png")
    region = png_array(served.client.get(url, params={"image": 3, "mode": "rf"}))
    dimmed = (_images()[3].astype(np.float32) * OUTSIDE_DIM).astype(np.uint8)
    np.testing.assert_array_equal(region, dimmed)
    sheet = served.client.get(served.layer("/sheet.png"), params={"overlay": "rf", "tile": 32})
    assert png_array(sheet).shape == (32, 8 * 32, 3)
    panel = served.client.get(served.layer("/filters/1/panel.png"), params={"size": 32})
    assert png_array(panel).shape == (LABEL_HEIGHT + 32 + BAR_HEIGHT, 4 * 32, 3)


def test_activation_json_has_the_mask_and_the_masked_map(served: Served):
    body = served.client.get(served.layer("/filters/1/activation"), params={"image": 3}).json()
    assert body["argmax"] == [6, 2]
    np.testing.assert_allclose(body["mask"], _mask(6, 2), atol=1e-5)
    expected = np.maximum(stored_maps()[3, 1] * _mask(6, 2), 0.0)
    np.testing.assert_allclose(body["masked"], expected, atol=1e-4)


def test_top_images_place_each_inferred_part_in_image_pixels(served: Served):
    top = served.client.get(served.layer("/filters/1/top"), params={"k": 3}).json()
    centers = evaluated_layer()["geometry"]["unit_centers"]
    assert top["positions"] == [centers[r][c] for r, c in top["argmax"]]
    assert top["positions"][0] == [8 * 2 + 4.0, 8 * 6 + 4.0]  # unit (row 6, col 2)
