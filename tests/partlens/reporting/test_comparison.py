import pytest

from partlens.reporting.comparison import (
    average_twins,
    check_targets,
    layer_ratios,
    twin_ratios,
    twin_summary,
)
from tests.partlens.evaluation.sample_metrics import layer_dict, run_metrics


def summary(instability, interpretability, accuracy):
    return {
        "accuracy": accuracy,
        "location_instability": {
            "mean": instability,
            "random_reference": 0.14,
            "oracle_reference": 0.03,
        },
        "part_interpretability": {"mean": interpretability, "oracle_reference": 0.9},
    }


def test_summary_takes_the_top_layer_and_extra_fields():
    layers = {"a": layer_dict(0.1, 0.5), "b": layer_dict(0.1, 0.5)}
    metrics = run_metrics(task="multi", accuracy=0.9, top_layer="b", layers=layers)
    metrics.per_category_accuracy = {"cat": 0.9}
    result = twin_summary(metrics, train_s=3.0)
    assert result["location_instability"]["mean"] == 0.1
    assert "per_filter" not in result["location_instability"]
    assert result["layers"]["a"] == {
        "location_instability": 0.1,
        "part_interpretability": 0.5,
        "best_part_share": 0.5,  # one filter on each of the two parts
        "best_part_entropy": pytest.approx(1.0),
    }
    assert result["part_interpretability"]["best_part_share"] == 0.5
    assert result["train_s"] == 3.0 and result["per_category_accuracy"] == {"cat": 0.9}
    # The decoded metrics.json gives the same summary.
    assert twin_summary(metrics.model_dump(mode="json"), train_s=3.0) == result


def test_summary_of_a_single_category_run_has_no_per_category_accuracy():
    result = twin_summary(run_metrics())
    assert "per_category_accuracy" not in result
    assert result["part_interpretability"]["radius_sensitivity"] == [
        {"radius": 6.0, "mean": 0.3, "source": "effective x1"}
    ]


def test_layer_ratios_pair_each_layer_of_the_twins():
    interpretable = run_metrics(layers={"conv_added": layer_dict(0.06, 0.6), "x": layer_dict()})
    ordinary = run_metrics(interpretable=False, layers={"conv_added": layer_dict(0.12, None)})
    assert layer_ratios(interpretable, ordinary) == {
        "conv_added": {"location_instability": pytest.approx(0.5), "part_interpretability": None},
        "x": {"location_instability": None, "part_interpretability": None},
    }


def test_undefined_accuracy_gives_no_difference():
    ratios = twin_ratios(summary(0.06, 0.6, None), summary(0.12, 0.3, 0.97))
    assert ratios["accuracy_difference_points"] is None


def test_ratios_averages_and_targets():
    single = {
        "bird": {"interpretable": summary(0.06, 0.6, 0.95), "ordinary": summary(0.12, 0.3, 0.97)},
        "cat": {"interpretable": summary(0.08, 0.4, 0.90), "ordinary": summary(0.08, 0.2, 0.90)},
    }
    ratios = twin_ratios(single["bird"]["interpretable"], single["bird"]["ordinary"])
    assert ratios["location_instability"] == pytest.approx(0.5)
    assert ratios["part_interpretability"] == pytest.approx(2.0)
    assert ratios["accuracy_difference_points"] == pytest.approx(-2.0)
    single["bird"]["interpretable"]["part_interpretability"]["best_part_share"] = 0.8
    single["cat"]["interpretable"]["part_interpretability"]["best_part_share"] = 0.4
    average = average_twins(single)
    assert average["interpretable"]["part_interpretability"]["best_part_share"] == pytest.approx(
        0.6
    )
    assert average["ordinary"]["part_interpretability"]["best_part_entropy"] is None
    assert average["interpretable"]["location_instability"]["mean"] == pytest.approx(0.07)
    assert average["ordinary"]["part_interpretability"]["oracle_reference"] == pytest.approx(0.9)
    assert average["ratios"]["location_instability"] == pytest.approx(0.07 / 0.10)
    multi = {"ratios": {"accuracy_difference_points": -0.5}}
    targets = check_targets(average, multi)
    assert targets["location_instability_ratio"]["met"] is False
    assert targets["part_interpretability_ratio"] == {
        "target": ">= 1.8",
        "measured": pytest.approx(2.0),
        "met": True,
    }
    assert targets["single_accuracy_difference_points"]["met"] is True
    assert targets["multi_accuracy_difference_points"]["met"] is False


def test_a_landmark_only_twin_pair_has_instability_ratios_and_no_part_figures():
    reason = "cub annotates landmarks, not part masks"
    interpretable, ordinary = (
        run_metrics(
            interpretable=kind,
            layers={"conv_added": layer_dict(0.05 if kind else 0.1, masks=False)},
            absent=reason,
        )
        for kind in (True, False)
    )
    summary = twin_summary(interpretable)
    assert summary["part_interpretability"] is None
    assert summary["part_interpretability_absent"] == reason
    assert summary["layers"]["conv_added"] == {
        "location_instability": 0.05,
        "part_interpretability": None,
        "best_part_share": None,
        "best_part_entropy": None,
    }
    assert layer_ratios(interpretable, ordinary)["conv_added"] == {
        "location_instability": 0.5,
        "part_interpretability": None,
    }
    ratios = twin_ratios(summary, twin_summary(ordinary))
    assert ratios["location_instability"] == 0.5 and ratios["part_interpretability"] is None
    average = average_twins(
        {"bird": {"interpretable": summary, "ordinary": twin_summary(ordinary)}}
    )
    assert average["interpretable"]["part_interpretability"]["mean"] is None
    assert average["ratios"]["location_instability"] == 0.5
