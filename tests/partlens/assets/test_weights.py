"""Registered weights: checked against the architecture, stored with a checksum."""

from __future__ import annotations

import hashlib
import pickle

import pytest
import torch
from safetensors.torch import save_file

from partlens.assets import AssetConflictError, AssetError, AssetNotFoundError
from partlens.assets.weights import list_weights, register_weights, weights_file
from partlens.models import build_model
from partlens.store import create_session_factory


@pytest.fixture
def sessions(tmp_path):
    return create_session_factory(f"sqlite:///{tmp_path / 'db.sqlite'}")


def _tiny_state():
    return {
        k: v.contiguous() for k, v in build_model("tiny", interpretable=False).state_dict().items()
    }


def test_a_tiny_state_dict_is_stored_with_its_checksum(sessions, tmp_path):
    source = tmp_path / "tiny.safetensors"
    state = _tiny_state()
    save_file(state, str(source))
    entry = register_weights(sessions, "tiny-a", source, "tiny", tmp_path / "data")
    stored = weights_file(sessions, "tiny-a", "tiny")
    assert stored.endswith("weights/tiny-a.safetensors")
    assert entry.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert entry.layout == "partlens" and entry.num_tensors == len(state)
    registered = [w.name for w in list_weights(sessions) if not w.name.startswith("builtin-")]
    assert registered == ["tiny-a"]  # next to the shipped ones
    model = build_model("tiny", interpretable=True, weights=stored)
    assert torch.equal(model.state_dict()["backbone.0.0.weight"], state["backbone.0.0.weight"])
    with pytest.raises(AssetConflictError):
        register_weights(sessions, "tiny-a", source, "tiny", tmp_path / "data")
    with pytest.raises(AssetError, match="are for tiny, not vgg16"):
        weights_file(sessions, "tiny-a", "vgg16")
    with pytest.raises(AssetNotFoundError, match="unknown weights 'nope'; registered: tiny-a"):
        weights_file(sessions, "nope")


def test_every_mismatch_is_listed(sessions, tmp_path):
    state = _tiny_state()
    state["backbone.0.0.weight"] = torch.zeros(1, 3, 3, 3)
    del state["backbone.2.0.weight"]
    state["backbone.7.weight"] = torch.zeros(2)
    source = tmp_path / "bad.pth"
    torch.save(state, source)
    with pytest.raises(AssetError) as error:
        register_weights(sessions, "bad", source, "tiny", tmp_path / "data")
    message = str(error.value)
    assert "3 problems" in message
    assert "missing key backbone.2.0.weight" in message
    assert "unexpected key backbone.7.weight" in message
    assert "backbone.0.0.weight has shape (1, 3, 3, 3), the model expects (32, 3, 3, 3)" in message
    assert not (tmp_path / "data" / "weights" / "bad.pth").exists()


def test_torchvision_checkpoints_and_pickles(sessions, tmp_path):
    from torchvision.models import resnet18

    source = tmp_path / "resnet18.pth"
    torch.save(resnet18(weights=None).state_dict(), source)
    assert register_weights(sessions, "r18", source, "resnet18", tmp_path).layout == "torchvision"
    with pytest.raises(AssetError, match="does not match"):
        register_weights(sessions, "r18-as-vgg", source, "alexnet", tmp_path)
    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps({"weight": object()}))
    with pytest.raises(AssetError, match="cannot read weights file"):
        register_weights(sessions, "evil", evil, "tiny", tmp_path)
    text = tmp_path / "weights.txt"
    text.write_text("hello")
    with pytest.raises(AssetError, match=r"use one of \.safetensors, \.pth, \.pt"):
        register_weights(sessions, "txt", text, "tiny", tmp_path)
