import json
from pathlib import Path

import pytest

from partlens.data import BUILTIN_CATEGORIES
from partlens.runs.reproduce import reproduce


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("data")
    messages = []
    result = reproduce(
        "tiny",
        "test",
        data_dir=data_dir,
        json_path=data_dir / "out.json",
        progress=messages.append,
    )
    return data_dir, result, messages


def check_twin(twin):
    assert 0 <= twin["accuracy"] <= 1
    instability = twin["location_instability"]
    assert 0 <= instability["mean"] < 1
    assert 0 < instability["oracle_reference"] < instability["random_reference"]
    interpretability = twin["part_interpretability"]
    assert 0 <= interpretability["mean"] <= 1 and interpretability["rf_radius"] > 0
    assert sum(interpretability["best_part_histogram"].values()) == 16  # the test budget's width
    parts = len(interpretability["best_part_histogram"]) - 1  # all but "none"
    share = interpretability["best_part_share"]
    assert share is None or 1 / parts - 1e-9 <= share <= 1
    for layer in twin["layers"].values():
        assert {"best_part_share", "best_part_entropy"} <= set(layer)
    assert twin["train_s"] > 0 and twin["evaluate_s"] > 0
    assert Path(twin["metrics_path"]).is_file()


def test_twins_per_category_and_multi_category_with_ratios(first):
    data_dir, result, messages = first
    assert json.loads((data_dir / "out.json").read_text()) == result
    assert result["arch"] == "tiny" and result["budget"] == "test"
    assert list(result["single"]) == list(BUILTIN_CATEGORIES[:2])
    for pair in [*result["single"].values(), result["multi"]]:
        check_twin(pair["interpretable"])
        check_twin(pair["ordinary"])
        ratios = pair["ratios"]
        expected = (
            pair["interpretable"]["location_instability"]["mean"]
            / pair["ordinary"]["location_instability"]["mean"]
        )
        assert ratios["location_instability"] == pytest.approx(expected)
    assert "per_category_accuracy" in result["multi"]["interpretable"]
    average = result["average"]
    for kind in ("interpretable", "ordinary"):
        means = [pair[kind]["part_interpretability"]["mean"] for pair in result["single"].values()]
        assert average[kind]["part_interpretability"]["mean"] == pytest.approx(sum(means) / 2)
    assert set(result["targets"]) == {
        "location_instability_ratio",
        "part_interpretability_ratio",
        "single_accuracy_difference_points",
        "multi_accuracy_difference_points",
    }
    assert "Avg." in result["tables"] and result["tables"] in messages
    assert "Largest best-part share" in result["tables"]
    assert "Best-part entropy / log K" in result["tables"]
    assert "best_part_entropy" in average["interpretable"]["part_interpretability"]
    assert result["wall_s"] > 0


def test_pretrained_backbone_is_cached_and_reused(first):
    data_dir, result, _ = first
    cache = Path(result["pretrained"]["path"])
    assert result["pretrained"]["reused"] is False
    assert cache.parent == data_dir / "pretrained" and cache.is_file()
    assert cache.with_suffix(".json").is_file()
    again = reproduce("tiny", "test", data_dir=data_dir)
    assert again["pretrained"]["reused"] is True and again["pretrained"]["path"] == str(cache)
    # Same backbone, data, seed and budget: the same figures.
    assert again["single"]["bird"]["ratios"] == result["single"]["bird"]["ratios"]


def test_a_user_weights_file_replaces_the_pretraining(first, tmp_path):
    _, result, _ = first
    weights = result["pretrained"]["path"]
    own = reproduce("tiny", "test", data_dir=tmp_path, weights=weights)
    assert own["pretrained"]["path"] == weights
    assert not (tmp_path / "pretrained").exists()


def test_unknown_budget_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="unknown budget"):
        reproduce("tiny", "huge", data_dir=tmp_path)
