import pytest
import torch

from partlens.models import build_model, load_model, save_checkpoint


def test_round_trip_keeps_weights_buffers_and_options(tmp_path):
    model = build_model("tiny", num_classes=3, width=16, filter_loss="official")
    model.train()
    labels = torch.tensor([0, 1, 2, 1])
    _, unmasked = model.forward_train(torch.randn(4, 3, 64, 64))
    model.filter_losses(unmasked, labels)
    save_checkpoint(model, tmp_path / "ckpt", epoch=3, note="x")
    loaded = load_model(tmp_path / "ckpt")
    assert loaded.filter_loss == "official" and loaded.num_classes == 3
    for (key, a), (_, b) in zip(
        model.state_dict().items(), loaded.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), key
    x = torch.randn(2, 3, 64, 64)
    model.eval()
    assert torch.allclose(model(x), loaded(x))


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"model\.json"):
        load_model(tmp_path)
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(ValueError, match="corrupt"):
        load_model(tmp_path)
    with pytest.raises(ValueError, match="JSON"):
        save_checkpoint(build_model("tiny", width=8), tmp_path / "c", bad=object())
