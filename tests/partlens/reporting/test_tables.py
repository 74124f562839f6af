import pytest

from partlens.evaluation.schema import StaleMetricsError
from partlens.reporting.tables import format_tables
from tests.partlens.evaluation.sample_metrics import layer_dict, run_metrics


def metrics(task, interpretable, *, category=None, instability, interpretability, accuracy):
    layer = layer_dict(instability, interpretability, histogram={"head": 3, "torso": 1, "none": 0})
    return run_metrics(
        task=task,
        interpretable=interpretable,
        category=category,
        accuracy=accuracy,
        layers={"conv_added": layer},
    )


def rows(text, title):
    """The body rows of the table whose title starts with `title`: {first cell: other cells}."""
    table = text.split(title, 1)[1].split("\n\n", 1)[0].splitlines()
    body = table[4:-1]  # title rest, rule, header, rule ... rule
    return {line.split()[0]: line.split()[1:] for line in body}


@pytest.fixture
def text():
    runs = {
        "a": metrics(
            "single", True, category="bird", instability=0.06, interpretability=0.6, accuracy=0.95
        ),
        "b": metrics(
            "single", False, category="bird", instability=0.12, interpretability=0.3, accuracy=0.97
        ),
        "c": metrics(
            "single", True, category="cat", instability=0.08, interpretability=0.5, accuracy=0.90
        ),
        "d": metrics(
            "single", False, category="cat", instability=0.10, interpretability=0.5, accuracy=0.90
        ),
        "e": metrics("multi", True, instability=0.05, interpretability=0.8, accuracy=0.92),
        "f": metrics("multi", False, instability=0.10, interpretability=0.4, accuracy=0.90),
    }
    return format_tables(runs)


def test_part_interpretability_table_has_categories_average_and_ratio(text):
    table = rows(text, "Part interpretability of tiny")
    assert list(table) == ["bird", "cat", "Avg.", "multi"]
    assert table["bird"] == ["0.300", "0.600", "2.000", "0.900"]
    assert table["cat"] == ["0.500", "0.500", "1.000", "0.900"]
    # The average row averages each column; its ratio is that of the averages.
    assert table["Avg."] == ["0.400", "0.550", "1.375", "0.900"]
    assert table["multi"] == ["(softmax)", "0.400", "0.800", "2.000", "0.900"]


def test_instability_table_reports_the_references(text):
    table = rows(text, "Location instability of tiny")
    assert table["bird"] == ["0.120", "0.060", "0.500", "0.140", "0.030"]
    assert table["Avg."][:3] == ["0.110", "0.070", "0.636"]
    assert "lower is better" in text and "higher is better" in text


def test_accuracy_table_shows_the_difference_in_points(text):
    table = rows(text, "Classification accuracy of tiny")
    assert table["bird"] == ["97.0", "95.0", "-2.0"]
    assert table["multi"] == ["(softmax)", "90.0", "92.0", "2.0"]


def test_diversity_tables_report_the_largest_share_and_the_entropy(text):
    # Every run has 3 filters on head and 1 on torso: share 3/4, entropy H(3/4, 1/4) / log 2.
    share = rows(text, "Largest best-part share of tiny")
    assert share["bird"] == ["0.750", "0.750", "1.000"]
    assert list(share) == ["bird", "cat", "Avg.", "multi"]
    entropy = rows(text, "Best-part entropy / log K of tiny")
    assert entropy["Avg."] == ["0.811", "0.811", "1.000"]


def test_histogram_share_leaves_out_the_unmatched_filters():
    layer = layer_dict(histogram={"head": 1, "torso": 1, "none": 6})
    run = run_metrics(category="bird", layers={"conv_added": layer})
    assert "bird: head 1 torso 1 none 6 (50% head) | -" in format_tables({"i": run})
    assert rows(format_tables({"i": run}), "Largest best-part share")["bird"][1] == "0.500"


def test_best_part_histograms_per_twin(text):
    assert "bird: head 3 torso 1 none 0 (75% head) | head 3 torso 1 none 0 (75% head)" in text


def test_histogram_names_the_largest_share_so_that_collapse_shows():
    runs = {
        name: metrics(
            "single",
            interpretable,
            category="bird",
            instability=0.05,
            interpretability=0.5,
            accuracy=0.9,
        )
        for name, interpretable in (("i", True), ("o", False))
    }
    runs["i"].layers["conv_added"].part_interpretability.best_part_histogram = {
        "head": 0,
        "torso": 64,
    }
    text = format_tables(runs)
    assert "bird: head 0 torso 64 (100% torso) | head 3 torso 1 none 0 (75% head)" in text


def test_a_run_without_its_twin_gets_a_dash_ratio():
    runs = {
        "a": metrics(
            "single", True, category="bird", instability=0.06, interpretability=0.6, accuracy=0.95
        )
    }
    table = rows(format_tables(runs), "Part interpretability of tiny")
    assert table == {"bird": ["-", "0.600", "-", "0.900"]}


def test_an_empty_histogram_says_so():
    run = metrics(
        "single", True, category="bird", instability=0.05, interpretability=0.5, accuracy=0.9
    )
    run.layers["conv_added"].part_interpretability.best_part_histogram = {}
    assert "bird:  (no filters) | -" in format_tables({"i": run})


def test_decoded_metrics_json_is_accepted_and_a_stale_one_refused():
    run = metrics(
        "single", True, category="bird", instability=0.06, interpretability=0.6, accuracy=0.95
    )
    as_json = run.model_dump(mode="json")
    assert format_tables({"a": as_json}) == format_tables({"a": run})
    del as_json["schema_version"]
    with pytest.raises(StaleMetricsError, match="re-evaluate this run with `partlens evaluate r`"):
        format_tables({"a": as_json})


def test_a_run_without_part_masks_reads_a_dash_and_the_reason():
    reason = "cub (cub200) annotates landmarks, not part masks"
    runs = {
        kind: run_metrics(
            interpretable=kind == "interpretable",
            layers={
                "conv_added": layer_dict(0.05 if kind == "interpretable" else 0.1, masks=False)
            },
            absent=reason,
        )
        for kind in ("interpretable", "ordinary")
    }
    text = format_tables(runs)
    table = text.split("Part interpretability of tiny", 1)[1].split("\n\n", 1)[0].splitlines()
    assert table[4].split() == ["bird", "—", "—", "-", "—"]
    assert table[-1] == f"— {reason}"
    assert rows(text, "Location instability")["bird"][:3] == ["0.100", "0.050", "0.500"]
    assert "bird: — (no part masks) | — (no part masks)" in text
    share = text.split("Largest best-part share", 1)[1].split("\n\n", 1)[0]
    assert share.splitlines()[-1] == f"— {reason}"
