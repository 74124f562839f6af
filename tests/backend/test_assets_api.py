"""Datasets, weights and presets through the API; the CLI gives the same messages."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from safetensors.torch import save_file
from typer.testing import CliRunner

from backend.main import create_app
from partlens.cli import app as cli
from partlens.config import Settings
from partlens.models import build_model
from tests.pascal_part_folder import write_pascal_part_scenes


@pytest.fixture
def settings(tmp_path, redis_url):
    return Settings(data_dir=tmp_path / "data", broker_url=redis_url)


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def pascal_root(settings):
    return write_pascal_part_scenes(settings.data_dir / "datasets" / "pp", train=8, val=4)


def _tiny_weights(path):
    state = build_model("tiny", interpretable=False, width=8).state_dict()
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    return path


def _upload(client, name, path, arch="tiny", **kwargs):
    with open(path, "rb") as file:
        return client.post(
            "/api/v1/weights",
            data={"name": name, "arch": arch},
            files={"file": (path.name, file, "application/octet-stream")},
            **kwargs,
        )


def test_register_list_and_show_a_dataset(client, pascal_root):
    body = {"name": "pp", "format": "pascal-part", "root": str(pascal_root)}
    created = client.post("/api/v1/datasets", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["summary"]["splits"]["train"]["objects"] == 8
    names = [d["name"] for d in client.get("/api/v1/datasets").json()]
    assert names == ["builtin", "pp"]
    shown = client.get("/api/v1/datasets/pp").json()
    assert shown["categories"] == ["bird", "cat", "cow", "dog", "horse", "sheep"]
    assert client.post("/api/v1/datasets", json=body).status_code == 409
    missing = client.get("/api/v1/datasets/nope")
    assert missing.status_code == 404 and "known: builtin, pp" in missing.json()["detail"]


@pytest.mark.parametrize(
    ("root", "message"),
    [("/etc", "outside the allowed roots"), ("/nonexistent/x", "does not exist")],
)
def test_bad_roots_are_4xx_with_the_reason(client, root, message):
    response = client.post(
        "/api/v1/datasets", json={"name": "bad", "format": "pascal-part", "root": root}
    )
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_upload_weights_and_refuse_a_misshaped_file(client, tmp_path):
    created = _upload(client, "tiny8", _tiny_weights(tmp_path / "tiny8.safetensors"))
    assert created.status_code == 201, created.text
    assert created.json()["layout"] == "partlens" and len(created.json()["sha256"]) == 64
    names = [w["name"] for w in client.get("/api/v1/weights").json()]
    assert [name for name in names if not name.startswith("builtin-")] == ["tiny8"]
    wrong = _upload(client, "wrong", tmp_path / "tiny8.safetensors", arch="alexnet")
    assert wrong.status_code == 422
    assert "do not match alexnet" in wrong.json()["detail"]
    bad_name = _upload(client, "Bad Name", tmp_path / "tiny8.safetensors")
    assert bad_name.status_code == 422 and "name" in json.dumps(bad_name.json()["detail"])


def test_a_launch_resolves_the_registered_dataset_and_weights(client, pascal_root, tmp_path):
    client.post(
        "/api/v1/datasets", json={"name": "pp", "format": "pascal-part", "root": str(pascal_root)}
    )
    _upload(client, "tiny8", _tiny_weights(tmp_path / "w.safetensors"))
    body = {
        "arch": "tiny",
        "width": 8,
        "weights": "tiny8",
        "dataset": {"name": "pp", "task": "single", "category": "cat", "image_size": 64},
    }
    run = client.post("/api/v1/runs", json=body)
    assert run.status_code == 201, run.text
    config = run.json()["config"]
    assert config["dataset"]["format"] == "pascal-part"
    assert config["dataset"]["root"] == str(pascal_root.resolve())
    assert config["weights_file"].endswith("weights/tiny8.safetensors")

    unknown = client.post("/api/v1/runs", json={**body, "dataset": {"name": "nope"}})
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", "dataset", "name"]
    category = client.post(
        "/api/v1/runs", json={**body, "dataset": {"name": "pp", "category": "unicorn"}}
    )
    assert "unknown category 'unicorn' for dataset pp" in category.json()["detail"][0]["msg"]
    weights = client.post("/api/v1/runs", json={**body, "weights": "missing"})
    assert weights.json()["detail"][0]["loc"] == ["body", "weights"]
    forged = client.post(
        "/api/v1/runs", json={**body, "weights": None, "weights_file": "/etc/passwd"}
    )
    assert forged.status_code == 422
    overridden = client.post("/api/v1/runs", json={**body, "weights_file": "/etc/passwd"})
    assert overridden.json()["config"]["weights_file"] == config["weights_file"]
    inferred = client.post("/api/v1/runs", json={**body, "width": None})
    assert inferred.json()["config"]["width"] == 8, "the weights fix tiny's width"
    conflict = client.post("/api/v1/runs", json={**body, "width": 16})
    assert "have width 8, not 16" in conflict.json()["detail"][0]["msg"]


def test_a_preset_fills_what_the_body_leaves_out(client):
    presets = {p["name"]: p for p in client.get("/api/v1/presets").json()}
    assert {"paper-single", "paper-multi", "quick"} <= set(presets)
    run = client.post("/api/v1/runs", json={"preset": "paper-single", "epochs": 1})
    assert run.status_code == 201, run.text
    config = run.json()["config"]
    assert (config["arch"], config["lr"], config["lr_final"]) == ("vgg16", 1e-4, 1e-5)
    assert config["epochs"] == 1, "the body wins over the preset"
    assert config["dataset"]["image_size"] == 224
    assert run.json()["twin_id"] is not None
    unknown = client.post("/api/v1/runs", json={"preset": "nope"})
    assert unknown.status_code == 422 and "preset" in json.dumps(unknown.json()["detail"])


def test_mutations_need_the_token_when_one_is_set(tmp_path, redis_url):
    settings = Settings(data_dir=tmp_path, broker_url=redis_url, api_token="s3cret")
    with TestClient(create_app(settings)) as client:
        assert client.post("/api/v1/runs", json={}).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert client.post("/api/v1/runs", json={}, headers=wrong).status_code == 403
        right = {"Authorization": "Bearer s3cret"}
        assert client.post("/api/v1/runs", json={}, headers=right).status_code == 201
        assert client.get("/api/v1/runs").status_code == 200, "reads stay open"
        body = {"name": "x", "format": "pascal-part", "root": str(tmp_path)}
        assert client.post("/api/v1/datasets", json=body).status_code == 401


def test_the_cli_registers_and_refuses_with_the_same_messages(settings, pascal_root, monkeypatch):
    from partlens.config import get_settings

    monkeypatch.setenv("PARTLENS_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("PARTLENS_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        added = runner.invoke(
            cli, ["dataset", "add", "pp", "--format", "pascal-part", "--root", str(pascal_root)]
        )
        assert added.exit_code == 0, added.output
        listed = runner.invoke(cli, ["dataset", "list"])
        assert "pp (pascal-part, train 8, test 4)" in listed.output
        outside = runner.invoke(
            cli, ["dataset", "add", "etc", "--format", "pascal-part", "--root", "/etc"]
        )
        assert outside.exit_code == 2 and "outside the allowed" in " ".join(outside.output.split())
        weights = _tiny_weights(settings.data_dir / "w.safetensors")
        added = runner.invoke(cli, ["weights", "add", "w8", str(weights), "--arch", "tiny"])
        assert added.exit_code == 0, added.output
        wrong = runner.invoke(cli, ["weights", "add", "w9", str(weights), "--arch", "vgg16"])
        assert wrong.exit_code == 2 and "do not match vgg16" in " ".join(wrong.output.split())
        assert "w8" in runner.invoke(cli, ["weights", "list"]).output
    finally:
        get_settings.cache_clear()
