"""The launch form on a fake API: its pickers, presets, the body it posts, errors at the field."""

from __future__ import annotations

from dash import no_update

from frontend.api_client import ApiError
from frontend.components import launch as form
from tests.frontend.fakes import by_id, ids, links, text

DATASETS = [
    {"name": "builtin", "categories": ["bird", "cat"], "format": "builtin"},
    {"name": "pascal", "categories": ["cow", "horse"], "format": "pascal-part"},
]
PRESETS = [
    {
        "name": "paper-single",
        "description": "The paper's protocol.",
        "values": {
            "arch": "vgg16",
            "epochs": 30,
            "lr": 1e-4,
            "batch_size": 32,
            "with_twin": True,
            "dataset": {"task": "single", "image_size": 224},
        },
    }
]


def _choices(fake_api) -> None:
    fake_api.answers.update(
        {
            "/architectures": ["tiny", "vgg16"],
            "/datasets": DATASETS,
            "/weights": [{"name": "vgg-in", "arch": "vgg16", "sha256": "x"}],
            "/presets": PRESETS,
            "/filter-losses": ["assigned-mi", "paper-mi"],
        }
    )


def _values(**changes):
    values = dict.fromkeys(form.FIELD_KEYS)
    values |= {"arch": "tiny", "dataset": "builtin", "task": "single", "category": "bird"}
    return values | changes


def test_the_form_offers_the_apis_choices(fake_api, page):
    _choices(fake_api)
    layout = page("runs").layout()
    assert by_id(layout, "launch-arch").options == ["tiny", "vgg16"]
    assert by_id(layout, "launch-dataset").options == ["builtin", "pascal"]
    category = by_id(layout, "launch-category")
    assert (category.options, category.value) == (["bird", "cat"], "bird")
    weights = by_id(layout, "launch-weights").options
    assert [w["value"] for w in weights] == ["", form.FROM_SCRATCH, "vgg-in"]
    assert weights[2]["label"] == "vgg-in (vgg16)"
    assert by_id(layout, "launch-preset").options == [
        {"label": "paper-single", "value": "paper-single"}
    ]
    assert by_id(layout, "launch-filter-loss").value == "assigned-mi"
    assert by_id(layout, "launch-flags").value == ["interpretable", "twin"]
    assert {f"launch-error-{key}" for key in form.FIELD_KEYS} <= ids(layout)
    assert links(layout)["browse this dataset's samples"] == "/datasets/builtin"


def test_the_form_falls_back_when_the_api_is_down(fake_api, page):
    layout = page("runs").layout()  # no answers: every call fails
    assert by_id(layout, "launch-arch").options == ["tiny"]
    assert by_id(layout, "launch-category").value == "bird"
    assert by_id(layout, "launch-preset").options == []


def test_choosing_a_dataset_offers_its_categories(page):
    data = {"datasets": DATASETS, "presets": []}
    options, value, href = page("runs").dataset_categories("pascal", data, "bird")
    assert (options, value, href) == (["cow", "horse"], "cow", "/datasets/pascal")
    assert page("runs").dataset_categories("builtin", data, "cat")[1] == "cat"


def test_choosing_a_preset_fills_the_fields_it_sets(page):
    out = page("runs").apply_preset("paper-single", {"presets": PRESETS}, ["interpretable"])
    description, arch, task, epochs, lr, batch, size, train, flags = out
    assert description == "The paper's protocol."
    assert (arch, task, epochs, lr, batch, size) == ("vgg16", "single", 30, 1e-4, 32, 224)
    assert train is no_update  # the preset leaves it: the field keeps its value
    assert flags == ["interpretable", "twin"]
    cleared = page("runs").apply_preset(None, {"presets": PRESETS}, [])
    assert cleared[0] == "" and all(v is no_update for v in cleared[1:])


def test_the_body_carries_the_preset_under_the_given_fields():
    body = form.launch_body(
        "paper-single",
        ["interpretable", "twin"],
        _values(weights="vgg-in", epochs=3, lr=0.001, batch=8, **{"image-size": 96}),
    )
    assert body == {
        "preset": "paper-single",
        "interpretable": True,
        "with_twin": True,
        "arch": "tiny",
        "weights": "vgg-in",
        "epochs": 3,
        "lr": 0.001,
        "batch_size": 8,
        "dataset": {"name": "builtin", "task": "single", "category": "bird", "image_size": 96},
    }
    multi = form.launch_body(None, [], _values(task="multi", weights=""))
    assert multi == {
        "interpretable": False,
        "with_twin": False,
        "arch": "tiny",
        "dataset": {"name": "builtin", "task": "multi"},
    }


def test_launch_posts_the_form_and_links_the_new_run(fake_api, page):
    fake_api.answers["/runs"] = {"id": "new1"}
    values = _values(epochs=3).values()
    message, *errors = page("runs").launch(1, None, ["interpretable"], *values)
    assert fake_api.calls[0][:2] == ("POST", "/runs")
    assert fake_api.calls[0][2]["epochs"] == 3
    assert text(message) == "Launched new1" and links(message) == {"new1": "/runs/new1"}
    assert errors == [""] * len(errors)


def test_the_apis_validation_errors_show_at_their_fields(fake_api, page):
    fake_api.answers["/runs"] = ApiError(
        "epochs: too small; dataset: unknown category",
        422,
        {"epochs": "Input should be greater than 0", "dataset": "unknown category 'x'"},
    )
    message, *errors = page("runs").launch(1, None, [], *_values(epochs=-3).values())
    shown = dict(zip(("preset", *form.FIELD_KEYS), errors, strict=True))
    assert shown["epochs"] == "Input should be greater than 0"
    assert shown["category"] == "unknown category 'x'"
    assert shown["lr"] == ""
    assert message.className == "error" and "epochs" in text(message)


def test_an_error_of_no_field_stays_in_the_message(fake_api, page):
    fake_api.answers["/runs"] = ApiError("broker unavailable: down", 503)
    message, *errors = page("runs").launch(1, None, [], *_values().values())
    assert text(message) == "Could not launch: broker unavailable: down"
    assert set(errors) == {""}
    at_field, elsewhere = form.field_messages({"queue": "bad", "weights": "unknown"})
    assert (at_field, elsewhere) == ({"weights": "unknown"}, ["queue: bad"])
