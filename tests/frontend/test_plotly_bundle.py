"""The UI serves plotly's cartesian bundle in place of Dash's full plotly.js: same version,
every trace the app draws, gzipped, revalidated by its ETag."""

from __future__ import annotations

import gzip

from plotly.offline import get_plotlyjs_version

from frontend.components.charts import (
    paired_histogram_figure,
    part_histogram_figure,
    radius_figure,
    training_figure,
)
from frontend.components.filter_charts import association_figure, positions_figure
from frontend.components.heatmaps import HeatPanel, heatmap_figure
from frontend.plotly_bundle import BUNDLE, DASH_PLOTLY_PATH
from tests.frontend.fakes import history_answer, positions_answer

PATH = f"/{DASH_PLOTLY_PATH}"


def test_the_bundle_is_the_plotly_js_version_of_the_plotly_package():
    # Upgrading plotly without the bundle (or the other way round) fails here.
    head = BUNDLE.read_bytes()[:200].decode()
    assert f"plotly.js (cartesian - minified) v{get_plotlyjs_version()}" in head


def test_every_trace_the_app_draws_is_in_the_bundle():
    heat = {"grid": 2, "heat": [[0.0, 1.0], [1.0, 0.0]]}
    figures = [
        training_figure(history_answer()["points"]),
        part_histogram_figure({"head": 2}, "conv"),
        radius_figure([{"radius": 8.0, "mean": 0.4}], 8.0),
        paired_histogram_figure({"a": {"head": 1}, "b": {"tail": 2}}, "conv"),
        heatmap_figure([HeatPanel(heat, None, "bird")], (0.0, 1.0)),
        association_figure(["head", "tail"], [0.5, None], "head", "P_fk"),
        positions_figure(positions_answer()),
    ]
    kinds = {trace.type for figure in figures for trace in figure.data}
    assert kinds == {"scatter", "bar", "heatmap"}
    bundle = BUNDLE.read_text()
    assert [kind for kind in kinds if f'moduleType:"trace",name:"{kind}"' not in bundle] == []


def test_dashs_plotly_path_answers_the_bundle_gzipped_and_revalidates(ui_app):
    client = ui_app.server.test_client()
    zipped = client.get(PATH, headers={"Accept-Encoding": "gzip, br"})
    assert zipped.status_code == 200
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Content-Type"].startswith("application/javascript")
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert "max-age=3600" in zipped.headers["Cache-Control"]
    assert gzip.decompress(zipped.data) == BUNDLE.read_bytes()
    plain = client.get(PATH)
    assert "Content-Encoding" not in plain.headers and plain.data == BUNDLE.read_bytes()
    again = client.get(PATH, headers={"If-None-Match": zipped.headers["ETag"]})
    assert (again.status_code, again.data) == (304, b"")
