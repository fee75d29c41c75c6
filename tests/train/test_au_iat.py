"""au_iat: subject-independent splits, thresholds chosen off the test fold, the identity head behind reversal."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from fer_core.runs import open_run
from fer_core.train import config_from_dict, train
from fer_core.train.au_iat import AUModule, au_list, best_threshold


def _au_module(cfg, labels, num_subjects):
    """The module the au_iat recipe builds: a registry backbone and the config's typed sections."""
    from fer_core.train.module import build_backbone

    return AUModule(
        build_backbone(cfg.model, len(labels)),
        labels,
        num_subjects=num_subjects,
        au=cfg.au,
        optim=cfg.optim,
        seed=cfg.trainer.seed,
    )


def test_best_threshold_separates_planted_positives():
    rng = np.random.default_rng(0)
    y = rng.random((200, 3)) < 0.3
    probs = np.where(y, 0.30, 0.10) + rng.normal(0, 0.01, y.shape)
    t = best_threshold(probs, y)
    assert 0.13 <= t <= 0.27  # anywhere between the two planted levels separates them perfectly
    assert au_list("DISFA8") == (1, 2, 4, 6, 9, 12, 25, 26) and au_list([6, 12]) == (6, 12)
    with pytest.raises(Exception, match="au_set"):
        au_list("CK+")


@pytest.mark.parametrize("id_loss", ["bce", "ce"])
def test_the_identity_head_pushes_the_backbone_away_from_identity(id_loss):
    """The gradient the backbone's feature receives from the identity loss is reversed and scaled by lambda, for the
    paper's one-hot BCE and for softmax cross-entropy."""
    cfg = config_from_dict(
        {
            "recipe": "au_iat",
            "model": {"input_size": 32, "arch_kwargs": {"widths": [4, 8, 8, 8]}},
            "au": {"lambda_id": 2.0, "id_loss": id_loss},
        }
    )
    module = _au_module(cfg, ["AU1", "AU2"], 5)
    z = torch.randn(4, module.model.num_features, requires_grad=True)  # the head normalises z itself
    subject = torch.tensor([0, 1, 2, 3])
    _, loss = module.identity_loss(z, subject, 2.0)
    (g_rev,) = torch.autograd.grad(loss, z)
    logits = module.id_head(z)
    plain = (
        torch.nn.functional.cross_entropy(logits, subject)
        if id_loss == "ce"
        else torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.eye(5)[subject])
    )
    assert torch.allclose(loss, plain)
    (g,) = torch.autograd.grad(plain, z)
    assert torch.allclose(g_rev, -2.0 * g)


def test_an_untrained_bce_identity_head_predicts_the_subject_prior():
    """One-hot BCE over N subjects starts at p = 1/N per output (not 0.5): its loss is then the prior's own BCE,
    -(1/N) [log(1/N) + (N-1) log(1 - 1/N)], the level a head that knows nothing should sit at."""
    n = 36
    cfg = config_from_dict(
        {
            "recipe": "au_iat",
            "model": {"input_size": 32, "arch_kwargs": {"widths": [4, 8, 8, 8]}},
            "au": {"lambda_id": 1.0},
        }
    )
    module = _au_module(cfg, ["AU1"], n)
    with torch.no_grad():
        module.id_head[1].weight.zero_()  # isolate the bias: what the head says before it has seen a feature
    with torch.no_grad():
        _, loss = module.identity_loss(torch.randn(64, module.model.num_features), torch.arange(64) % n, 1.0)
    prior = -(np.log(1 / n) + (n - 1) * np.log(1 - 1 / n)) / n
    assert float(loss) == pytest.approx(prior, rel=1e-4)
    assert float(loss) < 0.2 < np.log(2)  # far below the 0.69 of a zero bias


def test_layer_wise_learning_rate_decay_reaches_cnn_backbones():
    """METHODS 2.2's decay (0.65 per level; heads at the full rate) applies to mini-Xception too: stem, blocks,
    head. The identity head sits at optim.lr x au.id_lr_scale."""
    cfg = config_from_dict(
        {
            "recipe": "au_iat",
            "model": {"input_size": 32, "arch_kwargs": {"widths": [4, 8, 8, 8]}},
            "optim": {"lr": 1e-3},
            "au": {"lambda_id": 1.0, "id_lr_scale": 10.0},
        }
    )
    module = _au_module(cfg, ["AU1", "AU2"], 5)
    module.trainer = type("T", (), {"estimated_stepping_batches": 10})()
    opt = module.configure_optimizers()["optimizer"]
    lr_of = {id(p): g["max_lr"] for g in opt.param_groups for p in g["params"]}
    assert lr_of[id(module.model.stem[0][0].weight)] == pytest.approx(1e-3 * 0.65**5)
    assert lr_of[id(next(module.model.blocks[0].parameters()))] == pytest.approx(1e-3 * 0.65**4)
    assert lr_of[id(next(module.model.blocks[3].parameters()))] == pytest.approx(1e-3 * 0.65)
    assert lr_of[id(module.model.head.weight)] == pytest.approx(1e-3)
    assert lr_of[id(module.id_head[1].weight)] == pytest.approx(1e-2)
    assert sum(len(g["params"]) for g in opt.param_groups) == len(list(module.parameters()))


@pytest.fixture(scope="module")
def au_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("au")
    cfg = config_from_dict(
        {
            "recipe": "au_iat",
            "name": "au",
            "out_dir": str(tmp / "runs"),
            "data": {
                "manifest": {"synthfacs": {"n": 240, "size": 32, "seed": 5, "habit_rate": 1.0, "n_identities": 12}},
                "aligned": True,
                "val_fraction": 0.25,
                "cache_dir": str(tmp / "cache"),
            },
            "model": {"input_size": 32, "arch_kwargs": {"widths": [4, 8, 16, 16]}},
            "optim": {"epochs": 2, "batch_size": 32},
            "au": {"au_set": "DISFA8", "lambda_id": 1.0},
            "trainer": {"seed": 0},
        }
    )  # the recipe picks val/au_f1 itself
    return train(cfg, progress=False).folder


def test_au_run_is_subject_independent_and_reports_f1_per_au_and_the_identity_probe(au_run):
    run = open_run(au_run)
    assert run.status["status"] == "finished"
    splits = pd.read_csv(au_run / "splits.csv")
    ev = json.loads((au_run / "evaluation.json").read_text())
    assert list(ev["per_au"]) == [f"AU{a}" for a in (1, 2, 4, 6, 9, 12, 25, 26)]
    assert 0 < ev["threshold"] < 1 and 0 <= ev["mean_f1_at_0.5"] <= 1
    assert 0 <= ev["identity_probe"]["accuracy"] <= 1 and ev["test_subjects"] >= 2
    assert ev["identity_probe_train_subjects"]["n"] == (splits["split"] == "train").sum()
    assert {"train", "val", "test"} == set(splits["split"])
    assert "train/id" in run.metrics().columns
    card = run.model().card
    assert card.label_names == tuple(ev["per_au"]) and card.extra["task"] == "au"


def test_subjects_never_cross_between_train_validation_and_test(tmp_path):
    from fer_core.train.au_iat import AUDataModule

    cfg = config_from_dict(
        {
            "recipe": "au_iat",
            "data": {
                "manifest": {"synthfacs": {"n": 120, "size": 32, "seed": 6, "n_identities": 12}},
                "aligned": True,
                "val_fraction": 0.25,
                "cache_dir": str(tmp_path),
            },
            "model": {"input_size": 32},
            "au": {"folds": 3, "fold": 1},
        }
    )
    dm = AUDataModule(cfg)
    dm.setup()
    rows = dm.split_rows
    by_split = {s: set(rows.loc[rows["split"] == s, "subject"]) for s in ("train", "val", "test")}
    assert not (by_split["train"] & by_split["test"]) and not (by_split["val"] & by_split["test"])
    assert not (by_split["train"] & by_split["val"]) and all(by_split.values())
    assert len(dm.subjects) == 12  # the identity head covers every subject, test ones too


def test_identity_probe_command_on_a_run(au_run):
    from fer_core.data.sources import materialize
    from tests._cli import run_cli

    data = open_run(au_run).config["data"]
    manifest = materialize(data["manifest"], data["cache_dir"])
    proc = run_cli("probe", "identity", str(au_run), "--data", str(manifest), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["faces"] == out["n_rows"] == 240 and out["subjects"] == 12
    assert 0 < out["chance"] < 0.2 and 0 <= out["accuracy"] <= 1


def test_a_dataset_of_one_face_per_person_gets_no_identity_probe_instead_of_a_crash():
    """The probe needs 3 faces of a person; without them the run still finishes, and says why there is no probe."""
    from fer_core.train.au_iat import _AURows

    cfg = config_from_dict({"recipe": "au_iat", "model": {"input_size": 32, "arch_kwargs": {"widths": [4, 8, 8, 8]}}})
    module = _au_module(cfg, ["AU1"], 8)
    images = torch.randint(0, 255, (8, 3, 32, 32), dtype=torch.uint8)
    single = module._identity_probe(_AURows(images, torch.zeros(8, 1), torch.arange(8)), seed=0)
    assert single["accuracy"] is None and "3 or more faces" in single["reason"]
    six = module._identity_probe(_AURows(images, torch.zeros(8, 1), torch.tensor([0, 0, 0, 1, 1, 1, 2, 3])), seed=0)
    assert six["n"] == 6 and six["accuracy"] is not None  # persons 2 and 3 (one face each) are left out
