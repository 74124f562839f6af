"""The launch form: pickers filled from the API, presets that fill the form, the ``POST /runs``
body of its values, and the API's validation errors shown at the field at fault."""

from __future__ import annotations

from typing import Any, NamedTuple

from dash import dcc, html

from frontend import urls

TASKS = [
    {"label": "single-category", "value": "single"},
    {"label": "multi-category", "value": "multi"},
]
FLAGS = [
    {"label": " interpretable", "value": "interpretable"},
    {"label": " also train the ordinary twin", "value": "twin"},
]
DEFAULT_WEIGHTS = "default (the shipped backbone where one fits)"
# Not a weights name (those cannot start with ":"): the body asks for ``from_scratch`` instead.
FROM_SCRATCH = ":scratch"
FROM_SCRATCH_LABEL = "none — train from scratch"


class Field(NamedTuple):
    """One editable field: its control's id suffix, label and its location in the API body."""

    key: str
    label: str
    location: str


# Order of the form, of the launch callback's states and of the error outputs.
FIELDS = (
    Field("name", "Name", "name"),
    Field("arch", "Architecture", "arch"),
    Field("dataset", "Dataset", "dataset.name"),
    Field("task", "Task", "dataset.task"),
    Field("category", "Category", "dataset.category"),
    Field("weights", "Weights", "weights"),
    Field("epochs", "Epochs", "epochs"),
    Field("lr", "Learning rate", "lr"),
    Field("batch", "Batch size", "batch_size"),
    Field("image-size", "Image size (px)", "dataset.image_size"),
    Field("train-size", "Training images", "dataset.train_size"),
    Field("filter-loss", "Filter loss", "filter_loss"),
    Field("filter-loss-weight", "Filter-loss weight", "filter_loss_weight"),
)
FIELD_KEYS = tuple(field.key for field in FIELDS)
# Errors the API raises on a whole object: the dataset's model check is about its category.
LOCATION_ALIASES = {"dataset": "dataset.category", "": "preset"}


class Choices(NamedTuple):
    """What the API offers the form (each list falls back to a minimal one when it fails)."""

    archs: list[str]
    datasets: list[dict[str, Any]]
    weights: list[dict[str, Any]]
    presets: list[dict[str, Any]]
    filter_losses: list[str]


def categories_of(datasets: list[dict[str, Any]], name: str | None) -> list[str]:
    """The categories of the dataset ``name`` (empty when it is unknown)."""
    return next((list(d["categories"]) for d in datasets if d["name"] == name), [])


def _number(key: str, value: Any = None, **extra: Any) -> dcc.Input:
    return dcc.Input(id=f"launch-{key}", type="number", value=value, debounce=False, **extra)


def _controls(choices: Choices) -> dict[str, Any]:
    """The control of each field, in its initial state (the built-in dataset, bird, tiny)."""
    dataset = "builtin" if any(d["name"] == "builtin" for d in choices.datasets) else None
    dataset = dataset or (choices.datasets[0]["name"] if choices.datasets else "builtin")
    categories = categories_of(choices.datasets, dataset) or ["bird"]
    category = "bird" if "bird" in categories else categories[0]
    weights = [
        {"label": DEFAULT_WEIGHTS, "value": ""},
        {"label": FROM_SCRATCH_LABEL, "value": FROM_SCRATCH},
    ] + [{"label": f"{w['name']} ({w['arch']})", "value": w["name"]} for w in choices.weights]
    names = [d["name"] for d in choices.datasets] or ["builtin"]
    return {
        "name": dcc.Input(id="launch-name", type="text", placeholder="arch and kind"),
        "arch": dcc.Dropdown(choices.archs, "tiny", id="launch-arch", clearable=False),
        "dataset": dcc.Dropdown(names, dataset, id="launch-dataset", clearable=False),
        "task": dcc.Dropdown(TASKS, "single", id="launch-task", clearable=False),
        "category": dcc.Dropdown(categories, category, id="launch-category", clearable=False),
        "weights": dcc.Dropdown(weights, "", id="launch-weights", clearable=False),
        "epochs": _number("epochs", 2),
        "lr": _number("lr", 0.01, step="any"),
        "batch": _number("batch", 32),
        "image-size": _number("image-size", placeholder="the architecture's"),
        "train-size": _number("train-size", 256),
        "filter-loss": dcc.Dropdown(
            choices.filter_losses,
            choices.filter_losses[0],
            id="launch-filter-loss",
            clearable=False,
        ),
        "filter-loss-weight": _number(
            "filter-loss-weight", step="any", placeholder="the variant's"
        ),
    }


def _field(field: Field, control: Any) -> html.Div:
    return html.Div(
        [
            html.Label(field.label, htmlFor=f"launch-{field.key}"),
            control,
            html.Div(id=f"launch-error-{field.key}", className="field-error"),
        ],
        className="field",
    )


def launch_form(choices: Choices) -> html.Div:
    """The form that launches a run (and its twin); a preset fills it, every field editable."""
    controls = _controls(choices)
    presets = [{"label": p["name"], "value": p["name"]} for p in choices.presets]
    return html.Div(
        [
            dcc.Store(id="launch-choices", data=choices._asdict()),
            html.Div(
                [
                    html.Label("Preset", htmlFor="launch-preset"),
                    dcc.Dropdown(presets, None, id="launch-preset", placeholder="none"),
                    html.Div(id="launch-error-preset", className="field-error"),
                    html.P(id="launch-preset-description", className="muted"),
                ],
                className="field preset",
            ),
            html.Div([_field(f, controls[f.key]) for f in FIELDS], className="fields"),
            html.P(
                dcc.Link(
                    "browse this dataset's samples",
                    href=urls.DatasetPage(controls["dataset"].value).url(),
                    id="launch-dataset-link",
                ),
                className="muted",
            ),
            dcc.Checklist(FLAGS, ["interpretable", "twin"], id="launch-flags"),
            html.Button("Launch", id="launch-button", n_clicks=0),
            html.Div(id="launch-message", className="message"),
        ],
        className="launch-form",
    )


def preset_values(preset: dict[str, Any]) -> dict[str, Any]:
    """The form fields a preset sets (by field key) and the twin flag, from its values."""
    values, dataset = preset["values"], preset["values"].get("dataset", {})
    found = {
        "arch": values.get("arch"),
        "task": dataset.get("task"),
        "epochs": values.get("epochs"),
        "lr": values.get("lr"),
        "batch": values.get("batch_size"),
        "image-size": dataset.get("image_size"),
        "train-size": dataset.get("train_size"),
        "filter-loss": values.get("filter_loss"),
        "filter-loss-weight": values.get("filter_loss_weight"),
    }
    return {key: value for key, value in found.items() if value is not None}


def launch_body(preset: str | None, flags: list[str], values: dict[str, Any]) -> dict[str, Any]:
    """The API's ``POST /runs`` body of the form: ``values`` by field key (empty ones left to
    the preset or the API's defaults); a multi-category run names no category; the weights
    choice "none — train from scratch" is ``from_scratch`` with no weights."""
    given = {key: value for key, value in values.items() if value not in (None, "")}
    dataset: dict[str, Any] = {"name": given.get("dataset", "builtin")}
    dataset |= {"task": given.get("task", "single")}
    if dataset["task"] == "single" and "category" in given:
        dataset["category"] = given["category"]
    for key, location in (("image-size", "image_size"), ("train-size", "train_size")):
        if key in given:
            dataset[location] = given[key]
    body: dict[str, Any] = {
        "interpretable": "interpretable" in flags,
        "with_twin": "twin" in flags,
        "dataset": dataset,
    }
    simple = {
        "name": "name",
        "arch": "arch",
        "weights": "weights",
        "epochs": "epochs",
        "lr": "lr",
        "batch": "batch_size",
        "filter-loss": "filter_loss",
        "filter-loss-weight": "filter_loss_weight",
    }
    body |= {location: given[key] for key, location in simple.items() if key in given}
    if body.get("weights") == FROM_SCRATCH:
        del body["weights"]
        body["from_scratch"] = True
    return body | ({"preset": preset} if preset else {})


def field_messages(fields: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The API's rejected fields as {field key: message}; the rest as "location: message"."""
    by_location = {field.location: field.key for field in FIELDS} | {"preset": "preset"}
    at_field: dict[str, str] = {}
    elsewhere = []
    for location, message in fields.items():
        key = by_location.get(LOCATION_ALIASES.get(location, location))
        if key is None:
            elsewhere.append(f"{location}: {message}")
        else:
            at_field[key] = f"{at_field[key]}; {message}" if key in at_field else message
    return at_field, elsewhere


def launched(run: dict[str, Any]) -> html.Span:
    """The message after a launch: a link to the new run."""
    return html.Span(["Launched ", dcc.Link(run["id"], href=urls.RunPage(run["id"]).url())])


def launch_failed(message: str) -> html.Span:
    """The message after a failed launch, with the API's reason."""
    return html.Span(f"Could not launch: {message}", className="error")
