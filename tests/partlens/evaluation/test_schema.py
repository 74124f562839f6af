import json

import pytest
from pydantic import BaseModel

from partlens.evaluation import schema
from partlens.evaluation.schema import (
    SCHEMA_VERSION,
    LayerMetrics,
    RunMetrics,
    StaleMetricsError,
    as_run_metrics,
    load_run_metrics,
    parse_run_metrics,
)
from tests.partlens.evaluation.sample_metrics import layer_dict, run_dict

REEVALUATE = "re-evaluate this run with `partlens evaluate run-1`"


def write(tmp_path, content):
    path = tmp_path / "run-1" / "metrics.json"
    path.parent.mkdir()
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_a_file_of_the_current_schema_loads(tmp_path):
    content = run_dict(run_id="run-1")
    metrics = load_run_metrics(write(tmp_path, content))
    assert isinstance(metrics, RunMetrics) and metrics.schema_version == SCHEMA_VERSION
    assert metrics.top is metrics.layers["conv_added"]
    assert metrics.top.geometry.rf_jump == 8.0 and metrics.top.num_filters == 2
    assert metrics.top.location_instability.per_filter == [0.1, None]
    assert metrics.top.part_interpretability.radius_sensitivity[0].source == "effective x1"
    assert metrics.evaluation.quantile == 0.005
    assert metrics.heatmap_arrays == {"bird": "heatmaps/bird.npz"}
    # Round trip: what is dumped is what was read, single-category runs without multi fields.
    assert metrics.model_dump(mode="json") == content


def test_a_file_written_before_the_diversity_fields_gets_them_from_its_histogram(tmp_path):
    content = run_dict(run_id="run-1")
    content["layers"]["conv_added"] = layer_dict(histogram={"head": 2, "torso": 0, "none": 1})
    interpretability = content["layers"]["conv_added"]["part_interpretability"]
    del interpretability["best_part_share"], interpretability["best_part_entropy"]
    top = load_run_metrics(write(tmp_path, content)).top.part_interpretability
    assert top.best_part_share == 1.0 and top.best_part_entropy == 0.0


def test_a_file_written_before_per_part_scores_and_annotations_loads(tmp_path):
    content = run_dict(run_id="run-1")
    del content["annotation_arrays"], content["part_interpretability_absent"]
    del content["layers"]["conv_added"]["part_interpretability"]["per_filter_part"]
    metrics = load_run_metrics(write(tmp_path, content))
    assert metrics.top.part_interpretability.per_filter_part == []
    assert metrics.annotation_arrays is None and metrics.part_interpretability_absent is None


def test_a_landmark_only_run_has_no_part_interpretability_and_says_why(tmp_path):
    reason = "cub annotates landmarks, not part masks"
    content = run_dict(
        run_id="run-1", layers={"conv_added": layer_dict(masks=False)}, absent=reason
    )
    metrics = load_run_metrics(write(tmp_path, content))
    assert metrics.top.part_interpretability is None and metrics.top.num_filters == 2
    assert metrics.part_interpretability_absent == reason
    assert metrics.model_dump(mode="json") == content
    content["part_interpretability_absent"] = None
    with pytest.raises(StaleMetricsError, match="part_interpretability_absent gives no reason"):
        parse_run_metrics(content)


def test_per_part_scores_have_one_column_per_part():
    content = run_dict()
    content["layers"]["conv_added"]["part_interpretability"]["per_filter_part"] = [[0.5], [0.1]]
    with pytest.raises(StaleMetricsError, match=r"per_filter_part rows have \[1\] entries for 2"):
        parse_run_metrics(content)


def test_multi_category_fields_are_written_only_for_multi_runs():
    layers = {"conv_added": layer_dict(target_category=["bird", "cat"])}
    multi = parse_run_metrics(run_dict(task="multi", layers=layers)).model_dump(mode="json")
    assert multi["per_category_accuracy"] == {"bird": 0.9, "cat": 0.8}
    assert multi["multi_loss"] == "softmax" and multi["category"] is None
    assert multi["layers"]["conv_added"]["target_category"] == ["bird", "cat"]
    single = parse_run_metrics(run_dict()).model_dump(mode="json")
    assert {"per_category_accuracy", "multi_loss"}.isdisjoint(single)
    assert "target_category" not in single["layers"]["conv_added"]


def test_a_file_without_schema_version_is_stale(tmp_path):
    old = run_dict(run_id="run-1")
    del old["schema_version"]
    with pytest.raises(StaleMetricsError, match="no schema_version") as error:
        load_run_metrics(write(tmp_path, old))
    assert REEVALUATE in str(error.value)
    assert isinstance(error.value, ValueError) and error.value.run_id == "run-1"


@pytest.mark.parametrize("version", [0, SCHEMA_VERSION + 1, "1"])
def test_a_file_of_another_schema_version_is_stale(tmp_path, version):
    content = dict(run_dict(run_id="run-1"), schema_version=version)
    with pytest.raises(StaleMetricsError, match="schema_version") as error:
        load_run_metrics(write(tmp_path, content))
    assert REEVALUATE in str(error.value)


def test_missing_and_renamed_fields_are_stale(tmp_path):
    missing = run_dict(run_id="run-1")
    del missing["layers"]["conv_added"]["geometry"]["rf_jump"]
    with pytest.raises(StaleMetricsError, match=r"layers\.conv_added\.geometry\.rf_jump") as error:
        load_run_metrics(write(tmp_path, missing))
    assert REEVALUATE in str(error.value)
    renamed = run_dict(run_id="run-1")
    renamed["accuracy_top1"] = renamed.pop("accuracy")
    with pytest.raises(StaleMetricsError, match="accuracy_top1") as error:
        parse_run_metrics(renamed)
    assert REEVALUATE in str(error.value)


def test_inconsistent_content_is_stale():
    wrong_top = run_dict(top_layer="conv_added")
    wrong_top["top_layer"] = "conv_top"
    with pytest.raises(StaleMetricsError, match="top_layer 'conv_top'"):
        parse_run_metrics(wrong_top)
    short = run_dict()
    short["layers"]["conv_added"]["geometry"]["thresholds"] = [0.5]
    with pytest.raises(StaleMetricsError, match="number of filters"):
        parse_run_metrics(short)


def test_unreadable_content_is_stale_and_an_absent_file_is_not_found(tmp_path):
    with pytest.raises(StaleMetricsError, match="not valid JSON") as error:
        load_run_metrics(write(tmp_path, "{"))
    assert REEVALUATE in str(error.value)
    with pytest.raises(StaleMetricsError, match="expected a JSON object"):
        parse_run_metrics([1, 2])
    with pytest.raises(FileNotFoundError):
        load_run_metrics(tmp_path / "other" / "metrics.json")


def test_undefined_floats_become_none():
    layer = layer_dict(float("nan"), float("inf"))
    metrics = RunMetrics.model_validate(run_dict(layers={"conv_added": layer}, accuracy=None))
    assert metrics.top.location_instability.mean is None
    assert metrics.top.part_interpretability.mean is None and metrics.accuracy is None
    assert "NaN" not in json.dumps(metrics.model_dump(mode="json"))


def test_as_run_metrics_takes_models_and_decoded_json():
    metrics = parse_run_metrics(run_dict())
    assert as_run_metrics(metrics) is metrics
    assert as_run_metrics(metrics.model_dump(mode="json")) == metrics
    assert isinstance(LayerMetrics.model_validate(layer_dict()), LayerMetrics)


def models():
    return [
        value
        for value in vars(schema).values()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == schema.__name__
    ]


@pytest.mark.parametrize("model", models(), ids=lambda model: model.__name__)
def test_every_field_is_described(model):
    assert model.__doc__
    undocumented = [name for name, field in model.model_fields.items() if not field.description]
    assert undocumented == []
