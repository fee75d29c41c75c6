"""mae_pretrain: masking and the loss on hidden patches only, and a run whose encoder starts another recipe."""

from __future__ import annotations

import pytest
import torch

from fer_core.models import create_model, load_checkpoint
from fer_core.models.mae import MaskedAutoencoder, patchify, unpatchify
from fer_core.models.vit import default_patch, sincos_pos_embed
from fer_core.runs import open_run, register_run_models
from fer_core.train import config_from_dict, train


def tiny_mae() -> MaskedAutoencoder:
    return MaskedAutoencoder(create_model("vit_tiny", img_size=32, depth=1), decoder_dim=32, decoder_depth=1)


def test_patches_round_trip_and_masking_hides_the_asked_share():
    x = torch.randn(3, 3, 32, 32)
    assert torch.equal(unpatchify(patchify(x, 8), 8, 3), x)
    assert torch.equal(patchify(x, 8)[0, 1], x[0, :, 0:8, 8:16].permute(1, 2, 0).reshape(-1))  # patch (0, 1)
    keep, mask = MaskedAutoencoder.random_masking(3, 16, 0.75, torch.Generator().manual_seed(0))
    assert keep.shape == (3, 4) and (mask.sum(1) == 12).all()
    assert all(set(k.tolist()).isdisjoint(set(m.nonzero().flatten().tolist())) for k, m in zip(keep, mask))
    assert default_patch(48) == 8 and default_patch(224) == 16
    pe = sincos_pos_embed(32, 4)
    assert pe.shape == (17, 32) and torch.equal(pe[0], torch.zeros(32)) and pe[1:].abs().max() <= 1


def test_the_loss_counts_hidden_patches_only_on_normalised_pixels():
    mae = tiny_mae()
    x = torch.randn(2, 3, 32, 32)
    target = mae.target(x)
    assert torch.allclose(target.mean(-1), torch.zeros(2, 16), atol=1e-5)
    assert torch.allclose(target.var(-1), torch.ones(2, 16), atol=1e-3)  # unbiased, as the MAE reference
    mask = torch.zeros(2, 16)
    mask[:, :4] = 1
    wrong_visible = target.clone()
    wrong_visible[:, 4:] += 5.0  # errors on visible patches cost nothing
    assert mae.loss(x, wrong_visible, mask).item() == pytest.approx(0.0, abs=1e-9)
    wrong_hidden = target.clone()
    wrong_hidden[:, :4] += 2.0  # an error of 2 on every value of the hidden patches: MSE 4
    assert mae.loss(x, wrong_hidden, mask).item() == pytest.approx(4.0, rel=1e-5)


@pytest.fixture(scope="module")
def mae_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mae")
    cfg = config_from_dict(
        {
            "recipe": "mae_pretrain",
            "name": "mae",
            "out_dir": str(tmp / "runs"),
            "data": {"aligned": True, "cache_dir": str(tmp / "cache")},
            "model": {"input_size": 32},
            "optim": {"epochs": 3, "batch_size": 32},
            "mae": {
                "pool": {"synthfacs": {"n": 200, "size": 32, "seed": 4}},
                "depth": 2,
                "decoder_depth": 1,
                "decoder_dim": 64,
                "blr": 0.002,
                "previews": 4,
            },
            "trainer": {"seed": 0},
        }
    )  # the recipe picks val/loss itself
    return train(cfg, progress=False).folder


def test_mae_run_learns_writes_previews_and_an_encoder_other_recipes_start_from(mae_run, tmp_path):
    run = open_run(mae_run)
    assert run.status["status"] == "finished"
    epochs = run.epoch_metrics()
    assert epochs["val/loss"].iloc[-1] < epochs["val/loss"].iloc[0]  # reconstruction improves
    assert sorted(p.name for p in (mae_run / "previews").glob("*.png")) == [f"epoch_{i:03d}.png" for i in range(3)]
    loaded = load_checkpoint(mae_run / "model.safetensors")
    assert loaded.card.arch == "vit_tiny" and loaded.card.extra["arch_kwargs"]["depth"] == 2
    assert f"run:{run.name}" not in register_run_models(mae_run.parent)  # not offered as a classifier
    from tests.conftest import tiny_config

    cfg = tiny_config(tmp_path, name="from_mae", model={"init": str(mae_run)}, optim={"epochs": 1})
    result = train(cfg, progress=False)
    card = open_run(result.folder).model().card
    assert card.arch == "vit_tiny" and len(card.label_names) == 7 and result.evaluation["overall"]["accuracy"] >= 0
