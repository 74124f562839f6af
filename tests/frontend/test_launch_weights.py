"""The launch form's weights picker: the shipped default, training from scratch, or a file."""

from __future__ import annotations

from frontend.components import launch as form
from tests.frontend.fakes import by_id


def _values(**changes):
    values = dict.fromkeys(form.FIELD_KEYS)
    values |= {"arch": "tiny", "dataset": "builtin", "task": "single", "category": "bird"}
    return values | changes


def test_the_picker_offers_the_default_scratch_and_the_registered_weights(fake_api, page):
    fake_api.answers.update({"/weights": [{"name": "vgg-in", "arch": "vgg16", "sha256": "x"}]})
    picker = by_id(page("runs").layout(), "launch-weights")
    assert picker.options == [
        {"label": "default (the shipped backbone where one fits)", "value": ""},
        {"label": "none — train from scratch", "value": form.FROM_SCRATCH},
        {"label": "vgg-in (vgg16)", "value": "vgg-in"},
    ]
    assert picker.value == ""


def test_train_from_scratch_posts_from_scratch_and_no_weights():
    body = form.launch_body(None, ["interpretable"], _values(weights=form.FROM_SCRATCH))
    assert body["from_scratch"] is True and "weights" not in body
    default = form.launch_body(None, ["interpretable"], _values(weights=""))
    assert "from_scratch" not in default and "weights" not in default
    named = form.launch_body(None, [], _values(weights="vgg-in"))
    assert named["weights"] == "vgg-in" and "from_scratch" not in named
