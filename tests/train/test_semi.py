"""semi_dtm: augmentations, stages, per-class pseudo-label logging, threshold state across a resume, and the loop
from pseudo-labels through the review store back into training."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from fer_core.runs import open_run
from fer_core.train import config_from_dict, train
from fer_core.train.augment import strong_view, weak_view
from fer_core.train.semi_dtm import SemiModule
from tests._cli import run_cli
from tests.conftest import tiny_config

ROOT = Path(__file__).resolve().parents[2]


def _semi_module(cfg, labels):
    """The module the semi_dtm recipe builds: a registry backbone and the config's typed sections."""
    from fer_core.train.module import build_backbone

    return SemiModule(
        build_backbone(cfg.model, len(labels)),
        labels,
        semi=cfg.semi,
        optim=cfg.optim,
        seed=cfg.trainer.seed,
        hflip=cfg.data.hflip,
    )


def test_views_are_reproducible_from_the_generator_and_differ_between_draws():
    x = torch.rand(6, 3, 32, 32) * 2 - 1
    a = strong_view(x, torch.Generator().manual_seed(1))
    b = strong_view(x, torch.Generator().manual_seed(1))
    c = strong_view(x, torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == x.shape and a.min() >= -1 and a.max() <= 1
    # the cut-out: every strong view has a square of at least 0.35 * 32 ~ 11 px side set to mid-grey (0)
    assert all(int((v == 0).all(0).sum()) >= 11 * 11 for v in a)
    w = weak_view(x, torch.Generator().manual_seed(3))
    assert all(torch.equal(wi, xi) or torch.equal(wi, xi.flip(2)) for wi, xi in zip(w, x))


def test_stages_split_the_epochs_after_warm_up():
    cfg = config_from_dict(
        {"recipe": "semi_dtm", "optim": {"epochs": 11}, "semi": {"warmup_epochs": 2, "schedule": [0.5, 0.7, 0.9]}}
    )
    module = _semi_module(cfg, ["a", "b"])
    assert [module.stage(e) for e in range(11)] == [-1, -1, 0, 0, 0, 1, 1, 1, 2, 2, 2]


def test_flexmatch_state_survives_a_checkpoint():
    cfg = config_from_dict({"recipe": "semi_dtm", "semi": {"threshold": "flexmatch"}})
    module = _semi_module(cfg, ["a", "b", "c"])
    module.threshold = module._make_threshold(10)
    probs = torch.tensor([[0.97, 0.02, 0.01], [0.1, 0.88, 0.02], [0.0, 0.01, 0.99]])
    module.threshold.update(probs, torch.tensor([0, 4, 9]))
    ckpt: dict = {}
    module.on_save_checkpoint(ckpt)
    restored = _semi_module(cfg, ["a", "b", "c"])
    restored.on_load_checkpoint(ckpt)
    assert torch.equal(restored.threshold.selected_label, module.threshold.selected_label)
    assert torch.allclose(restored.threshold.thresholds(), module.threshold.thresholds())


@pytest.fixture(scope="module")
def semi_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("semi")
    cfg = tiny_config(
        tmp,
        recipe="semi_dtm",
        name="semi",
        optim={"epochs": 3, "batch_size": 16},
        semi={"labeled_fraction": 0.3, "warmup_epochs": 1, "mu": 2, "lambda_infonce": 0.1},
    )
    return train(cfg, progress=False).folder


def test_semi_run_logs_thresholds_counts_and_precision_per_class(semi_run):
    run = open_run(semi_run)
    assert run.status["status"] == "finished"
    labels = run.status["labels"]
    epochs = run.epoch_metrics()
    for lab in labels:
        assert f"semi/threshold_{lab}" in epochs and f"semi/taken_{lab}" in epochs
    after = epochs[epochs["epoch"] >= 1]  # warm-up epoch 0 has no pseudo-labels
    assert after["semi/taken_share"].between(0, 1).all()
    if "semi/precision" in after:  # only logged in epochs where some pseudo-label was taken
        assert after["semi/precision"].dropna().between(0, 1).all()
    thresholds = [after[f"semi/threshold_{lab}"] for lab in labels]
    assert all(t.between(0.5, 1.0).all() for t in thresholds)  # DTM: never below t_min
    saved = json.loads((semi_run / "thresholds.json").read_text())
    assert saved["kind"] == "dtm" and set(saved["thresholds"]) == set(labels)
    splits = pd.read_csv(semi_run / "splits.csv")
    n_train, n_pool = (splits["split"] == "train").sum(), (splits["split"] == "unlabeled").sum()
    assert n_pool > 0 and n_train == pytest.approx(0.3 * (n_train + n_pool), abs=len(labels))
    assert {"train/unsup", "train/infonce"} <= set(run.metrics().columns)


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_cli(*args, env=env)


def test_pseudo_labels_reviewed_and_exported_retrain_a_model(semi_run, tmp_path):
    from fer_core.data.sources import materialize
    from fer_core.store import Store

    pool = materialize({"synthfacs": {"n": 40, "size": 32, "seed": 77}})
    db = str(tmp_path / "store.sqlite")
    proc = cli("pseudo-label", str(semi_run), "--pool", str(pool), "--batch", "pool77", "--db", db, "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["n_faces"] == 40 and out["threshold_source"] == "run (thresholds.json)"
    saved = json.loads((semi_run / "thresholds.json").read_text())["thresholds"]
    assert all(c["threshold"] == pytest.approx(saved[lab], abs=1e-4) for lab, c in out["per_class"].items())
    with Store.open(db) as store:
        items = store.batch_items("pool77")
        assert len(items) == 40 and set(items["true_label"]) <= set(saved)
        # an annotator accepts the confident proposals, corrects the others to the truth, rejects two
        for i in range(len(items)):
            item = store.claim_next("pool77", "ann")
            if i < 2:
                store.decide(item.id, "ann", "reject")
            elif item.label == item.true_label:
                store.decide(item.id, "ann", "accept")
            else:
                store.decide(item.id, "ann", "relabel", new_label=item.true_label)
    exported = tmp_path / "reviewed.csv"
    proc = cli("review", "export", "pool77", "--out", str(exported), "--db", db, "--json")
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(exported)
    assert len(table) == 38 and (table["label"] == table["true_label"]).all()
    status = cli("review", "status", "pool77", "--db", db, "--json")
    assert json.loads(status.stdout)["done"] == 40
    cfg = tiny_config(tmp_path, name="with_reviews", data={"extra_manifests": [str(exported)]}, optim={"epochs": 1})
    run = train(cfg, progress=False).folder
    splits = pd.read_csv(run / "splits.csv")
    extra = splits[splits["source"] == "extra_manifests.0"]
    assert len(extra) == 38 and (extra["split"] == "train").all()
    assert open_run(run).status["n_train"] == (splits["split"] == "train").sum()


def test_pseudo_label_with_a_fixed_threshold_on_a_folder_of_faces(semi_run, tmp_path):
    import cv2

    from fer_core.data.synthfacs import SynthSpec, generate

    folder = tmp_path / "faces"
    folder.mkdir()
    for s in generate(SynthSpec(n=6, size=32, seed=5)):
        cv2.imwrite(str(folder / f"{s.index}.png"), cv2.cvtColor(s.image, cv2.COLOR_RGB2BGR))
    (folder / "notes.txt").write_text("not an image")
    proc = cli(
        "pseudo-label",
        str(semi_run),
        "--pool",
        str(folder),
        "--batch",
        "f",
        "--tau",
        "0.9",
        "--db",
        str(tmp_path / "s.sqlite"),
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["n"] == 6 and out["threshold_source"] == "fixed 0.9" and out["precision_above"] is None
    assert all(c["threshold"] == 0.9 for c in out["per_class"].values())
    again = cli(
        "pseudo-label", str(semi_run), "--pool", str(folder), "--batch", "f", "--db", str(tmp_path / "s.sqlite")
    )
    assert again.returncode != 0 and "already exists" in again.stderr
    np.testing.assert_equal(len(list(folder.glob("*.png"))), 6)
