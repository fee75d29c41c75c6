"""The LightningModule every classification recipe shares: a registry backbone, normalisation from its card,
seeded augmentation, cross-entropy, and validation accuracy / macro-F1 / worst-group accuracy.

Recipes subclass it and override :meth:`FerModule.loss_terms` (the fairness terms) or :meth:`build_backbone`
(starting from a base model), so the training loop, logging and checkpoints are one piece of code.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score

from ..models import LoadedModel, ModelCard, create_model, load_model, save_checkpoint
from ..runs import open_run
from .augment import step_generator, weak_view
from .config import RunConfig, config_from_dict

__all__ = ["FerModule", "card_for", "restore_best"]

PIXEL_MEAN, PIXEL_STD = 0.5, 0.5  # pixels in [0, 1] -> [-1, 1], as the FER2013 mini-Xception expects


def card_for(cfg: RunConfig, labels: tuple[str, ...], run_name: str = "", training_data: str = "") -> ModelCard:
    """The model card of a checkpoint this config trains."""
    c = cfg.model.in_chans
    return ModelCard(arch=cfg.model.arch, input_size=(cfg.model.input_size, cfg.model.input_size), in_chans=c,
                     mean=(PIXEL_MEAN,) * c, std=(PIXEL_STD,) * c, label_names=tuple(labels),
                     template=cfg.data.template, origin=f"fer_core train {cfg.recipe}" + (f" (run {run_name})"
                                                                                          if run_name else ""),
                     licence="same as the training data", training_data=training_data,
                     extra={"arch_kwargs": dict(cfg.model.arch_kwargs), "recipe": cfg.recipe, "run": run_name,
                            "target": cfg.data.target})


def load_weights(source: str | Path) -> LoadedModel:
    """Weights from a run folder (its ``model.safetensors``), a checkpoint path or a pretrained name."""
    if Path(str(source)).is_dir():
        return open_run(source).model()  # says what is missing if the run has not finished
    return load_model(source)


def adopt_architecture(cfg: RunConfig, card: ModelCard) -> None:
    """Make the config's model section describe the architecture of weights it starts from."""
    cfg.model.arch, cfg.model.in_chans = card.arch, card.in_chans
    cfg.model.input_size = card.input_size[0]
    cfg.model.arch_kwargs = dict(card.extra.get("arch_kwargs", {}))
    cfg.data.template = card.template


def restore_best(trainer: L.Trainer, module: L.LightningModule) -> None:
    """Load the best checkpoint's weights (``weights_only``) into ``module``, if the run saved one."""
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""  # type: ignore
    if best:
        module.load_state_dict(torch.load(best, map_location="cpu", weights_only=True)["state_dict"])


class FerModule(L.LightningModule):
    """Supervised classification; subclasses add loss terms. ``hparams`` are plain data (safe to checkpoint)."""

    recipe = "supervised"

    def __init__(self, config: dict, labels: list[str], group_names: dict[str, list[str]] | None = None) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.cfg = config_from_dict(config)
        self.labels = tuple(labels)
        self.sensitive = list((group_names or {}).keys())
        self.group_names = {k: tuple(v) for k, v in (group_names or {}).items()}
        self.model = self.build_backbone()
        k = len(self.labels)
        self.val_acc = MulticlassAccuracy(num_classes=k, average="micro")
        self.val_f1 = MulticlassF1Score(num_classes=k, average="macro")
        n_groups = len(self.group_names[self.sensitive[0]]) if self.sensitive else 0
        self.register_buffer("_group_hits", torch.zeros(max(n_groups, 1), 2), persistent=False)

    # --- model ------------------------------------------------------------------------------------------------
    def build_backbone(self) -> nn.Module:
        m = self.cfg.model
        if m.init:
            model = load_weights(m.init).model
            model.reset_classifier(len(self.labels))
            return model.train()  # checkpoints load in eval mode; Lightning keeps a module's mode as it finds it
        return create_model(m.arch, num_classes=len(self.labels), in_chans=m.in_chans, **m.arch_kwargs)

    def normalise(self, images: torch.Tensor) -> torch.Tensor:
        return (images.float() / 255.0 - PIXEL_MEAN) / PIXEL_STD

    def augment(self, x: torch.Tensor, batch_idx: int) -> torch.Tensor:
        """Horizontal flips drawn from (seed, epoch, batch): identical on a resumed run."""
        if not self.cfg.data.hflip:
            return x
        return weak_view(x, step_generator(self.cfg.trainer.seed, self.current_epoch, batch_idx, self.global_rank))

    def embed(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(penultimate embedding, logits) from one pass through the backbone."""
        feats = self.model.forward_features(x)
        return self.model.forward_head(feats, pre_logits=True), self.model.forward_head(feats)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.embed(self.normalise(images))[1]

    # --- losses -----------------------------------------------------------------------------------------------
    def loss_terms(self, z: torch.Tensor, logits: torch.Tensor, batch: dict[str, torch.Tensor]
                   ) -> dict[str, torch.Tensor]:
        """Named loss terms, already weighted; their sum is minimised."""
        return {"ce": F.cross_entropy(logits, batch["target"], label_smoothing=self.cfg.optim.label_smoothing)}

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x = self.augment(self.normalise(batch["image"]), batch_idx)
        z, logits = self.embed(x)
        terms = self.loss_terms(z, logits, batch)
        loss = torch.stack(list(terms.values())).sum()
        n = x.shape[0]
        self.log("train/loss", loss, prog_bar=True, batch_size=n)
        if batch_idx % self.trainer.log_every_n_steps == 0:  # the other curves only on the steps that get written
            for name, value in terms.items():
                self.log(f"train/{name}", value.detach(), batch_size=n)
            self.log("train/acc", (logits.argmax(1) == batch["target"]).float().mean(), batch_size=n)
        return loss

    # --- validation -------------------------------------------------------------------------------------------
    def on_validation_epoch_start(self) -> None:
        self._group_hits.zero_()

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        logits = self(batch["image"])
        y = batch["target"]
        self.log("val/loss", F.cross_entropy(logits, y), batch_size=len(y), sync_dist=True)
        pred = logits.argmax(1)
        self.val_acc.update(pred, y)
        self.val_f1.update(pred, y)
        if self.sensitive:
            g = batch["groups"][:, 0]
            keep = g >= 0
            hits = torch.zeros_like(self._group_hits)
            hits[:, 0].index_add_(0, g[keep], (pred[keep] == y[keep]).float())
            hits[:, 1].index_add_(0, g[keep], torch.ones_like(g[keep], dtype=hits.dtype))
            self._group_hits += hits

    def on_validation_epoch_end(self) -> None:
        self.log("val/acc", self.val_acc.compute(), prog_bar=True, sync_dist=True)
        self.log("val/macro_f1", self.val_f1.compute(), sync_dist=True)
        self.val_acc.reset()
        self.val_f1.reset()
        if self.sensitive:
            hits = self.all_gather(self._group_hits)
            hits = hits.sum(0) if hits.dim() == 3 else hits
            acc = hits[:, 0] / hits[:, 1].clamp_min(1)
            seen = hits[:, 1] > 0
            if seen.any():
                self.log("val/worst_group_acc", acc[seen].min(), prog_bar=True)
                self.log("val/group_gap", acc[seen].max() - acc[seen].min())

    # --- prediction -------------------------------------------------------------------------------------------
    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """Output probabilities from logits (a softmax over classes; recipes with one sigmoid per output override)."""
        return torch.softmax(logits, 1)

    def predict_step(self, batch: dict[str, torch.Tensor], batch_idx: int, dataloader_idx: int = 0
                     ) -> dict[str, torch.Tensor]:
        z, logits = self.embed(self.normalise(batch["image"]))
        return {"index": batch["index"], "probs": self.probabilities(logits.float()), "embedding": z.float()}

    @torch.no_grad()
    def predict_images(self, images: torch.Tensor, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
        """(N, K) probabilities (float64) and (N, D) embeddings of uint8 images, in batches."""
        probs, embs = [], []
        for i in range(0, len(images), batch_size):
            z, logits = self.embed(self.normalise(images[i:i + batch_size]))
            probs.append(self.probabilities(logits.double()).numpy())
            embs.append(z.numpy())
        return np.concatenate(probs), np.concatenate(embs)

    def write_test_outputs(self, folder: Path, dm: Any, card: ModelCard
                           ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """Best weights with ``card`` -> model.safetensors; the test split's (else validation's) probabilities ->
        test_predictions.csv and embeddings -> test_embeddings.npy. Returns (that table, probabilities, embeddings)."""
        cfg = self.cfg
        save_checkpoint(self.model, card, folder / "model.safetensors")
        split = "test" if "test" in dm.tables else "val"
        rows = dm.tables[split].rows
        probs, emb = self.predict_images(dm.tables[split].images)
        pred = probs.argmax(1)
        out = pd.DataFrame({"path": rows["abs_path"], "source": rows["source"], "rel_path": rows["path"],
                            "split": split, "target": rows[cfg.data.target].astype(str),
                            "pred": [dm.labels[i] for i in pred], "confidence": probs.max(1).round(5)})
        for col in dm.sensitive:
            out[col] = rows[col].astype(str).to_numpy()
        for j, lab in enumerate(dm.labels):
            out[f"p_{lab}"] = probs[:, j].round(6)
        out.to_csv(folder / "test_predictions.csv", index=False)
        np.save(folder / "test_embeddings.npy", emb.astype(np.float32))
        return out, probs, emb

    # --- optimisation -----------------------------------------------------------------------------------------
    def param_groups(self) -> list[dict[str, Any]]:
        return [{"params": list(self.parameters()), "lr": self.cfg.optim.lr}]

    def configure_optimizers(self) -> Any:
        o = self.cfg.optim
        groups = self.param_groups()
        opt = torch.optim.AdamW(groups, lr=o.lr, weight_decay=o.weight_decay)
        if o.schedule == "constant":
            return opt
        total = max(1, int(self.trainer.estimated_stepping_batches))
        if o.schedule == "onecycle":
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in groups], total_steps=total)
        else:
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
