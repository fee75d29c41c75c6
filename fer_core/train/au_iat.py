"""``au_iat`` (METHODS.md 2.2-2.3): multi-label action-unit detection with Identity Adversarial Training.

The AU head reads the backbone's pooled feature (BCE per AU). An identity head (one Linear over every subject of the
manifest, BCE on a one-hot subject vector) reads the same feature through a gradient-reversal layer of scale
``au.lambda_id``: it learns to recognise the person while the backbone is pushed to forget who it is, so AU evidence
cannot come from identity. Evaluation is subject-independent (``au.folds``, ``au.fold``); F1 per AU is reported at
0.5 and at one threshold chosen on held-out *training* subjects, never on the test fold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.metrics import f1_score
from torch import nn
from torch.utils.data import DataLoader, Dataset

from ..data.splits import subject_kfold
from ..data.synthfacs import parse_aus
from ..errors import DatasetError
from ..losses import grad_reverse
from ..models import save_checkpoint
from ..runs import RunFolder
from ..taxonomy import BP4D12, DISFA8
from .augment import step_generator, weak_view
from .config import AUConfig, OptimConfig, RunConfig
from .data import load_images, rank_of, shuffled_loader
from .module import adopt_architecture, build_backbone, card_for, load_weights, normalise, restore_best
from .recipes import register_recipe

__all__ = ["AUDataModule", "AUModule", "AURecipe", "au_list", "best_threshold"]


def au_list(value: Any) -> tuple[int, ...]:
    if value in ("BP4D12", "bp4d12", "BP4D"):
        return BP4D12
    if value in ("DISFA8", "disfa8", "DISFA"):
        return DISFA8
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, int) for v in value):
        return tuple(value)
    raise DatasetError(f"au.au_set must be BP4D12, DISFA8 or a list of AU numbers, got {value!r}")


def best_threshold(probs: np.ndarray, targets: np.ndarray) -> float:
    """The one threshold in 0.01..0.99 that maximises mean F1 over AUs (on held-out training subjects)."""
    grid = np.round(np.arange(0.01, 1.0, 0.01), 2)
    scores = [f1_score(targets, probs >= t, average="macro", zero_division=0) for t in grid]
    return float(grid[int(np.argmax(scores))])


class _AURows(Dataset):
    def __init__(self, images: torch.Tensor, targets: torch.Tensor, subjects: torch.Tensor) -> None:
        self.images, self.targets, self.subjects = images, targets, subjects

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"image": self.images[i], "aus": self.targets[i], "subject": self.subjects[i]}


class AUDataModule(L.LightningDataModule):
    """Crops with multi-hot AU targets and subject indices, split by subject: test = fold ``au.fold``."""

    def __init__(self, cfg: RunConfig, progress: bool = False) -> None:
        super().__init__()
        self.cfg, self.progress = cfg, progress
        self.aus = au_list(cfg.au.au_set)
        self.labels = tuple(f"AU{a}" for a in self.aus)
        self.group_names: dict[str, tuple[str, ...]] = {}
        self.sensitive: list[str] = []
        self.tables: dict[str, _AURows] = {}
        self.split_rows: pd.DataFrame | None = None
        self.subjects: tuple[str, ...] = ()
        self.aligned = cfg.data.aligned

    def setup(self, stage: str | None = None) -> None:
        if self.tables:
            return
        cfg = self.cfg
        if cfg.data.manifest is None:
            raise DatasetError("au_iat needs data.manifest with aus and subject columns")
        table = _au_table(cfg, self.progress)
        folds = subject_kfold(table["subject"], cfg.au.folds, cfg.trainer.seed)
        split = np.where(folds == cfg.au.fold, "test", "train").astype(object)
        train_subjects = np.array(sorted(set(table.loc[split == "train", "subject"])))
        rng = np.random.default_rng((cfg.trainer.seed, 41))
        n_val = max(1, int(round(cfg.data.val_fraction * len(train_subjects))))
        val_subjects = set(train_subjects[rng.permutation(len(train_subjects))[:n_val]])
        split[(split == "train") & table["subject"].isin(val_subjects).to_numpy()] = "val"
        self.subjects = tuple(sorted(table["subject"].unique()))  # every subject, test ones included (METHODS 2.3)
        images = load_images([Path(p) for p in table["abs_path"]], cfg, self.progress)
        targets = torch.zeros(len(table), len(self.aus))
        for i, text in enumerate(table["aus"].astype(str)):
            intensity = parse_aus("" if text == "nan" else text)
            for j, a in enumerate(self.aus):
                targets[i, j] = float(intensity.get(a, 0.0) >= cfg.au.active_threshold)
        subject_idx = torch.tensor([self.subjects.index(s) for s in table["subject"]])
        for name in ("train", "val", "test"):
            idx = torch.as_tensor(np.flatnonzero(split == name))
            self.tables[name] = _AURows(images[idx], targets[idx], subject_idx[idx])
        self.split_rows = table.assign(split=split)
        self.aligned = cfg.data.aligned

    def train_dataloader(self) -> DataLoader:
        return shuffled_loader(self.tables["train"], self.cfg, *rank_of(self))

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.tables["val"], batch_size=256, shuffle=False)


def _au_table(cfg: RunConfig, progress: bool) -> pd.DataFrame:
    """The manifest with ``aus`` and ``subject`` (the target column is not needed: AUs are the target)."""
    from ..data.manifest import read_manifest, resolve_paths, validate_manifest
    from ..data.sources import materialize

    path = materialize(cfg.data.manifest, cfg.data.cache_dir, progress)
    table = validate_manifest(read_manifest(path))
    missing = [c for c in ("aus", "subject") if c not in table.columns]
    if missing:
        raise DatasetError(f"manifest {path} has no column(s) {missing} (au_iat needs AU intensities and subjects)")
    table = table.copy()
    table["subject"] = table["subject"].astype(str)
    table["abs_path"] = [str(p) for p in resolve_paths(table, path.parent)]
    table["source"] = "manifest"
    return table


class AUModule(L.LightningModule):
    """Multi-label AU detection by ``backbone`` (one sigmoid per AU), with an identity head over ``num_subjects``
    behind gradient reversal of scale ``au.lambda_id`` (0: no IAT).

    Parameters
    ----------
    backbone
        A registry network with one output per AU.
    labels
        The AU names in output order (``AU1``, ``AU2``, ...).
    num_subjects
        People in the manifest (the identity head names every one of them).
    au
        The recipe's section (reversal scale, identity loss, learning-rate decay and scale of the identity head).
    optim
        Learning rate and weight decay.
    seed
        Seeds the flips, drawn from (seed, epoch, batch).
    """

    def __init__(
        self,
        backbone: nn.Module,
        labels: Sequence[str],
        *,
        num_subjects: int | None = None,
        au: AUConfig | None = None,
        optim: OptimConfig | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.au, self.optim, self.seed = au or AUConfig(), optim or OptimConfig(), int(seed)
        self.labels = tuple(labels)
        self.save_hyperparameters(
            {
                "labels": list(self.labels),
                "num_subjects": num_subjects,
                "au": asdict(self.au),
                "optim": asdict(self.optim),
                "seed": self.seed,
            }
        )
        self.model = backbone
        self.num_subjects = num_subjects or 1
        # a linear identity head (METHODS 2.3) on the layer-normalised feature: ViTs normalise it already (fc_norm);
        # for a CNN's unbounded pooled feature the reversed gradient would otherwise just inflate the feature
        self.id_head = nn.Sequential(
            nn.LayerNorm(self.model.num_features, elementwise_affine=False),
            nn.Linear(self.model.num_features, self.num_subjects),
        )
        if self.au.id_loss == "bce" and self.num_subjects > 1:
            # start the one-hot BCE head at the subject prior (1/N per output): at bias 0 every output says 0.5, and
            # a short run spends its steps walking the biases down while the reversed gradient just inflates logits
            nn.init.constant_(self.id_head[1].bias, -math.log(self.num_subjects - 1))

    def normalise(self, images: torch.Tensor) -> torch.Tensor:
        return normalise(images)

    def embed(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats = self.model.forward_features(x)
        return self.model.forward_head(feats, pre_logits=True), self.model.forward_head(feats)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.embed(self.normalise(images))[1]

    def reversal_scale(self) -> float:
        """lambda_id, ramped up from 0 with training progress when ``au.lambda_ramp`` (DANN schedule)."""
        a = self.au
        if not a.lambda_ramp:
            return a.lambda_id
        total = max(1, int(self.trainer.estimated_stepping_batches))
        p = min(1.0, self.global_step / total)
        return a.lambda_id * (2.0 / (1.0 + math.exp(-10.0 * p)) - 1.0)

    def identity_loss(self, z: torch.Tensor, subject: torch.Tensor, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
        """(identity logits, loss): the identity head reads ``z`` through a gradient reversal of ``scale``, so the
        head learns to name the person while the backbone receives ``-scale`` times that gradient."""
        logits = self.id_head(grad_reverse(z, scale))
        if self.au.id_loss == "ce":
            return logits, F.cross_entropy(logits, subject)
        return logits, F.binary_cross_entropy_with_logits(logits, F.one_hot(subject, self.num_subjects).float())

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        g = step_generator(self.seed, self.current_epoch, batch_idx, self.global_rank)
        x = weak_view(self.normalise(batch["image"]), g)
        z, logits = self.embed(x)
        loss_au = F.binary_cross_entropy_with_logits(logits, batch["aus"])
        loss = loss_au
        self.log("train/au", loss_au, batch_size=len(x))
        if self.au.lambda_id > 0:
            id_logits, loss_id = self.identity_loss(z, batch["subject"], self.reversal_scale())
            loss = loss + loss_id
            self.log("train/id", loss_id, batch_size=len(x))
            self.log("train/id_acc", (id_logits.argmax(1) == batch["subject"]).float().mean(), batch_size=len(x))
        self.log("train/loss", loss, prog_bar=True, batch_size=len(x))
        return loss

    def on_validation_epoch_start(self) -> None:
        self._val: list[tuple[torch.Tensor, torch.Tensor]] = []

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        probs = torch.sigmoid(self(batch["image"]).float())
        self._val.append((probs.cpu(), batch["aus"].cpu()))

    def on_validation_epoch_end(self) -> None:
        probs = torch.cat([p for p, _ in self._val]).numpy()
        y = torch.cat([t for _, t in self._val]).numpy()
        self.log("val/au_f1", float(f1_score(y, probs >= 0.5, average="macro", zero_division=0)), prog_bar=True)

    def configure_optimizers(self) -> Any:
        o, a = self.optim, self.au
        groups: list[dict[str, Any]] = []
        layer_id = getattr(self.model, "layer_id", None)
        if layer_id is not None and a.layer_decay < 1:  # ViT: deeper blocks learn faster (METHODS 2.2)
            top = len(self.model.blocks) + 1
            by_layer: dict[int, list] = {}
            for name, p in self.model.named_parameters():
                by_layer.setdefault(layer_id(name), []).append(p)
            groups += [{"params": ps, "lr": o.lr * a.layer_decay ** (top - i)} for i, ps in sorted(by_layer.items())]
        else:
            groups.append({"params": list(self.model.parameters()), "lr": o.lr})
        groups.append({"params": list(self.id_head.parameters()), "lr": o.lr * a.id_lr_scale})
        opt = torch.optim.AdamW(groups, lr=o.lr, weight_decay=o.weight_decay)
        total = max(1, int(self.trainer.estimated_stepping_batches))
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in groups], total_steps=total)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    @torch.no_grad()
    def _probs(self, table: _AURows) -> np.ndarray:
        self.eval()
        return np.concatenate(
            [torch.sigmoid(self(table.images[i : i + 256]).float()).numpy() for i in range(0, len(table), 256)]
        )

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> np.ndarray:
        self.eval()
        return np.concatenate(
            [self.embed(self.normalise(images[i : i + 256]))[0].float().numpy() for i in range(0, len(images), 256)]
        )

    def _identity_probe(self, table: _AURows, seed: int, folds: int = 3) -> dict[str, Any]:
        """Out-of-fold accuracy of a linear probe naming the subject, over the subjects with at least ``folds``
        faces (a dataset of one face per person has no identity to probe: accuracy None and the reason)."""
        from ..fairness.probe import probe_accuracy

        subjects = table.subjects.numpy()
        ids, counts = np.unique(subjects, return_counts=True)
        keep = np.isin(subjects, ids[counts >= folds])
        if len(ids[counts >= folds]) < 2:
            return {
                "accuracy": None,
                "chance": None,
                "n": int(keep.sum()),
                "reason": f"fewer than 2 subjects have {folds} or more faces",
            }
        return probe_accuracy(
            self.features(table.images[torch.as_tensor(np.flatnonzero(keep))]), subjects[keep], folds=folds, seed=seed
        )


@register_recipe("au_iat")
class AURecipe:
    """Action units with Identity Adversarial Training on subject-independent folds (METHODS 2)."""

    def prepare(self, cfg: RunConfig) -> None:
        if cfg.model.init:
            adopt_architecture(cfg, load_weights(cfg.model.init).card)

    def datamodule(self, cfg: RunConfig, progress: bool) -> AUDataModule:
        return AUDataModule(cfg, progress=progress)

    def module(self, cfg: RunConfig, dm: AUDataModule) -> AUModule:
        return AUModule(
            build_backbone(cfg.model, len(dm.labels)),
            list(dm.labels),
            num_subjects=len(dm.subjects),
            au=cfg.au,
            optim=cfg.optim,
            seed=cfg.trainer.seed,
        )

    def finish(self, run: RunFolder, cfg: RunConfig, trainer: L.Trainer, module: AUModule, dm: AUDataModule) -> dict:
        """Best weights -> model.safetensors; per-AU F1 on the test subjects at 0.5 and at the threshold chosen on
        the validation subjects; identity probes on the test subjects' and on the training subjects' features."""
        restore_best(trainer, module)
        module.cpu()
        # prepare() adopted the architecture of model.init's weights, if any
        card = card_for(
            cfg,
            dm.labels,
            run.name,
            training_data=str(cfg.data.manifest),
            notes="multi-label AU detector: apply a sigmoid per output, not a softmax",
            extra={"task": "au", "lambda_id": cfg.au.lambda_id},
        )
        save_checkpoint(module.model, card, run.path(RunFolder.MODEL))
        val_p, test_p = module._probs(dm.tables["val"]), module._probs(dm.tables["test"])
        val_y, test_y = dm.tables["val"].targets.numpy(), dm.tables["test"].targets.numpy()
        t = best_threshold(val_p, val_y)
        per_au = {
            lab: {
                "f1_at_0.5": round(float(f1_score(test_y[:, j], test_p[:, j] >= 0.5, zero_division=0)), 4),
                "f1_tuned": round(float(f1_score(test_y[:, j], test_p[:, j] >= t, zero_division=0)), 4),
                "base_rate": round(float(test_y[:, j].mean()), 4),
            }
            for j, lab in enumerate(dm.labels)
        }
        test, train = dm.tables["test"], dm.tables["train"]
        seed = cfg.trainer.seed
        probe = module._identity_probe(test, seed)
        # the paper's probe (METHODS 2.3): frames of the subjects the adversary was trained on, held-out frames
        # scored; the test-subject probe above asks the harder question of whether identity is gone for new people
        probe_train = module._identity_probe(train, seed)
        evaluation = {
            "recipe": "au_iat",
            "run": run.name,
            "split": "test",
            "fold": cfg.au.fold,
            "lambda_id": cfg.au.lambda_id,
            "threshold": t,
            "per_au": per_au,
            "mean_f1_at_0.5": round(float(np.mean([v["f1_at_0.5"] for v in per_au.values()])), 4),
            "mean_f1_tuned": round(float(np.mean([v["f1_tuned"] for v in per_au.values()])), 4),
            "identity_probe": probe,
            "identity_probe_train_subjects": probe_train,
            "n_test": len(test),
            "test_subjects": int(len(set(test.subjects.tolist()))),
        }
        return run.finish(
            evaluation, test={"mean_au_f1": evaluation["mean_f1_at_0.5"], "identity_probe": probe.get("accuracy")}
        )

    def summary(self, evaluation: dict) -> list[str]:
        e = evaluation
        lines = [
            f"test subjects: mean AU F1 {e['mean_f1_at_0.5']:.4f} at 0.5, {e['mean_f1_tuned']:.4f} at "
            f"{e['threshold']:.2f} (chosen on validation subjects)"
        ]
        for who, key in (("test", "identity_probe"), ("training", "identity_probe_train_subjects")):
            p = e.get(key) or {}
            lines.append(
                f"identity probe on the {who} people: "
                + (
                    f"accuracy {p['accuracy']:.3f} (chance {p['chance']:.3f})"
                    if p.get("accuracy") is not None
                    else f"not measured ({p.get('reason', 'no subjects')})"
                )
            )
        return lines
