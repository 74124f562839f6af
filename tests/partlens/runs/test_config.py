from __future__ import annotations

import pytest
from pydantic import ValidationError

from partlens.runs.config import RunConfig, num_classes, train_config


def test_image_size_defaults_to_the_architectures_input_size():
    assert RunConfig(arch="tiny").dataset.image_size == 112
    assert RunConfig(arch="vgg16").dataset.image_size == 224
    assert RunConfig(arch="tiny", dataset={"image_size": 64}).dataset.image_size == 64


def test_twin_differs_only_in_kind():
    config = RunConfig(arch="tiny", epochs=3, dataset={"category": "cow"})
    twin = config.twin()
    assert twin.interpretable is False
    assert twin.model_dump(exclude={"interpretable"}) == config.model_dump(
        exclude={"interpretable"}
    )


def test_multi_category_has_no_target_category_and_one_logit_per_class():
    config = RunConfig(dataset={"task": "multi", "category": "bird"}).model_dump()
    assert config["dataset"]["category"] is None
    assert num_classes(config) > 2
    assert num_classes(RunConfig().model_dump()) == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"arch": "lenet"}, "unknown architecture 'lenet'"),
        ({"dataset": {"category": "unicorn"}}, "unknown category 'unicorn'"),
        ({"epochs": 0}, "greater than or equal to 1"),
        ({"lr": -1}, "greater than 0"),
    ],
)
def test_invalid_configs_say_why(overrides, message):
    with pytest.raises(ValidationError, match=message):
        RunConfig(**overrides)


def test_training_settings_reach_the_train_config():
    config = RunConfig(arch="tiny", compile=True, deterministic=True).model_dump()
    train = train_config(config)
    assert (train.compile, train.deterministic) == (True, True)
    assert train_config(RunConfig(arch="tiny").model_dump()).compile is False
