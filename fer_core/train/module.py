"""The LightningModule every classification recipe shares, and the pieces every recipe builds its module from.

``FerModule`` receives its backbone (dependency injection, as the Lightning style guide asks) and typed arguments:
the labels, the sensitive groups, the ``optim`` section, the seed and whether to flip. It adds normalisation, seeded
augmentation, cross-entropy and validation accuracy / macro-F1 / worst-group accuracy. Recipes subclass it and
override :meth:`FerModule.loss_terms` (the fairness terms) or the training step, so the loop, logging and checkpoints
are one piece of code. :func:`build_backbone` and :func:`card_for` are the one backbone set-up and the one model card
of every recipe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score

from ..models import LoadedModel, ModelCard, create_model, load_model
from ..models.domain import SYNTHFACS_INTENDED_USE, SYNTHFACS_LIMITATIONS, SYNTHFACS_OUT_OF_SCOPE
from ..runs import open_run
from .augment import step_generator, weak_view
from .config import ModelConfig, OptimConfig, RunConfig

__all__ = [
    "FerModule",
    "PIXEL_MEAN",
    "PIXEL_STD",
    "adopt_architecture",
    "build_backbone",
    "card_for",
    "load_weights",
    "normalise",
    "restore_best",
]

PIXEL_MEAN, PIXEL_STD = 0.5, 0.5  # pixels in [0, 1] -> [-1, 1], as the FER2013 mini-Xception expects


def normalise(images: torch.Tensor) -> torch.Tensor:
    """uint8 pixels (N, C, H, W) -> the [-1, 1] floats every recipe's backbone sees."""
    return (images.float() / 255.0 - PIXEL_MEAN) / PIXEL_STD


def card_for(
    cfg: RunConfig, labels: Sequence[str], run_name: str = "", training_data: str = "", **changes: Any
) -> ModelCard:
    """The model card of a checkpoint this config trains; ``changes`` set other fields (``notes``, ``output``,
    ``arch``, more ``extra``). Trained on a SynthFACS spec, the card says so (domain ``synthfacs``, with what such a
    model is for); a manifest file's domain is left ``unknown``. The measured figures stay in the run's
    ``evaluation.json`` (written after the card), where ``fer_core.models.domain.documented`` reads them."""
    from .recipes import RECIPES

    c = cfg.model.in_chans
    extra = {
        "arch_kwargs": dict(cfg.model.arch_kwargs),
        "recipe": cfg.recipe,
        "run": run_name,
        "target": cfg.data.target,
    } | dict(changes.pop("extra", {}))
    info = RECIPES.get(cfg.recipe)
    synthetic = isinstance(cfg.data.manifest, dict) and "synthfacs" in cfg.data.manifest
    about = (
        {
            "domain": "synthfacs",
            "intended_use": SYNTHFACS_INTENDED_USE,
            "out_of_scope": SYNTHFACS_OUT_OF_SCOPE,
            "limitations": SYNTHFACS_LIMITATIONS,
        }
        if synthetic
        else {}
    )
    card = ModelCard(
        arch=cfg.model.arch,
        input_size=(cfg.model.input_size, cfg.model.input_size),
        in_chans=c,
        mean=(PIXEL_MEAN,) * c,
        std=(PIXEL_STD,) * c,
        label_names=tuple(labels),
        template=cfg.data.template,
        origin=f"fer_core train {cfg.recipe}" + (f" (run {run_name})" if run_name else ""),
        licence="same as the training data",
        training_data=training_data,
        extra=extra,
        output=info.output if info else "softmax",
        **about,
    )
    return replace(card, **changes) if changes else card


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


def build_backbone(model: ModelConfig, num_outputs: int, start_from: Any = None) -> nn.Module:
    """The network a recipe trains: ``start_from``'s weights (a run, checkpoint or pretrained name; default
    ``model.init``) with a new head of ``num_outputs``, or a fresh registry architecture."""
    source = start_from or model.init
    if source:
        net = load_weights(source).model
        net.reset_classifier(num_outputs)
        return net.train()  # checkpoints load in eval mode; Lightning keeps a module's mode as it finds it
    return create_model(model.arch, num_classes=num_outputs, in_chans=model.in_chans, **model.arch_kwargs)


def restore_best(trainer: L.Trainer, module: L.LightningModule) -> None:
    """Load the best checkpoint's weights (``weights_only``) into ``module``, if the run saved one."""
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""  # type: ignore
    if best:
        module.load_state_dict(torch.load(best, map_location="cpu", weights_only=True)["state_dict"])


class FerModule(L.LightningModule):
    """Supervised classification of ``labels`` by ``backbone``; subclasses add loss terms.

    Parameters
    ----------
    backbone
        A registry network (``forward_features``, ``forward_head``) with one output per label.
    labels
        Class names in output order.
    group_names
        Per sensitive column, its groups in code order (validation tracks the first column's groups).
    optim
        Learning rate, schedule, epochs, label smoothing, weight decay.
    seed
        Seeds the flips, drawn from (seed, epoch, batch), so a resumed run draws the same.
    hflip
        Flip faces horizontally at random while training.
    """

    def __init__(
        self,
        backbone: nn.Module,
        labels: Sequence[str],
        group_names: dict[str, Sequence[str]] | None = None,
        *,
        optim: OptimConfig | None = None,
        seed: int = 0,
        hflip: bool = True,
    ) -> None:
        super().__init__()
        self.optim = optim or OptimConfig()
        self.seed, self.hflip = int(seed), bool(hflip)
        self.labels = tuple(labels)
        self.group_names = {k: tuple(v) for k, v in (group_names or {}).items()}
        self.sensitive = list(self.group_names)
        self.save_hyperparameters(
            {
                "labels": list(self.labels),
                "group_names": {k: list(v) for k, v in self.group_names.items()},
                "optim": asdict(self.optim),
                "seed": self.seed,
                "hflip": self.hflip,
            }
        )
        self.model = backbone
        k = len(self.labels)
        self.val_acc = MulticlassAccuracy(num_classes=k, average="micro")
        self.val_f1 = MulticlassF1Score(num_classes=k, average="macro")
        n_groups = len(self.group_names[self.sensitive[0]]) if self.sensitive else 0
        self.register_buffer("_group_hits", torch.zeros(max(n_groups, 1), 2), persistent=False)

    # --- model ------------------------------------------------------------------------------------------------
    def normalise(self, images: torch.Tensor) -> torch.Tensor:
        return normalise(images)

    def augment(self, x: torch.Tensor, batch_idx: int) -> torch.Tensor:
        """Horizontal flips drawn from (seed, epoch, batch): identical on a resumed run."""
        if not self.hflip:
            return x
        return weak_view(x, step_generator(self.seed, self.current_epoch, batch_idx, self.global_rank))

    def embed(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(penultimate embedding, logits) from one pass through the backbone."""
        feats = self.model.forward_features(x)
        return self.model.forward_head(feats, pre_logits=True), self.model.forward_head(feats)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.embed(self.normalise(images))[1]

    # --- losses -----------------------------------------------------------------------------------------------
    def loss_terms(
        self, z: torch.Tensor, logits: torch.Tensor, batch: dict[str, torch.Tensor]
    ) -> dict[str, torch.Tensor]:
        """Named loss terms, already weighted; their sum is minimised."""
        return {"ce": F.cross_entropy(logits, batch["target"], label_smoothing=self.optim.label_smoothing)}

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

    def predict_step(
        self, batch: dict[str, torch.Tensor], batch_idx: int, dataloader_idx: int = 0
    ) -> dict[str, torch.Tensor]:
        z, logits = self.embed(self.normalise(batch["image"]))
        return {"index": batch["index"], "probs": self.probabilities(logits.float()), "embedding": z.float()}

    @torch.no_grad()
    def predict_images(self, images: torch.Tensor, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
        """(N, K) probabilities (float64) and (N, D) embeddings of uint8 images, in batches."""
        probs, embs = [], []
        for i in range(0, len(images), batch_size):
            z, logits = self.embed(self.normalise(images[i : i + batch_size]))
            probs.append(self.probabilities(logits.double()).numpy())
            embs.append(z.numpy())
        return np.concatenate(probs), np.concatenate(embs)

    # --- optimisation -----------------------------------------------------------------------------------------
    def param_groups(self) -> list[dict[str, Any]]:
        return [{"params": list(self.parameters()), "lr": self.optim.lr}]

    def configure_optimizers(self) -> Any:
        o = self.optim
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
