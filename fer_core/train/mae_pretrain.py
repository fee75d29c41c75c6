"""``mae_pretrain`` (METHODS.md 2.1): masked-autoencoder pretraining of a ViT on unlabelled faces.

AdamW (0.9, 0.95) with weight decay off for biases, norms and tokens; lr = blr x batch / 256 with a linear warm-up and
a half-cycle cosine to 0; 75 % of patches masked; per-patch normalised pixel loss; flips only. Every epoch writes a
reconstruction preview (original | masked | reconstruction) of held-out faces to ``previews/``. The run's
``model.safetensors`` is the encoder as a registry ViT, so ``model.init: runs/<this run>`` starts any other recipe
from it.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import cv2
import lightning as L
import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from ..errors import DatasetError
from ..models import create_model, save_checkpoint
from ..models.mae import MaskedAutoencoder
from ..runs import RunFolder
from .augment import step_generator, weak_view
from .config import MaeConfig, OptimConfig, RunConfig
from .data import load_images, rank_of, shuffled_loader
from .module import PIXEL_MEAN, PIXEL_STD, card_for, normalise, restore_best
from .recipes import register_recipe
from .semi_data import pool_rows

__all__ = ["MaePretrainModule", "MaeRecipe", "PoolDataModule", "encoder_kwargs"]


class _Images(Dataset):
    def __init__(self, images: torch.Tensor) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"image": self.images[i], "index": torch.tensor(i)}


class PoolDataModule(L.LightningDataModule):
    """Unlabelled faces in memory, a seeded share held out for validation (same attributes train() reads)."""

    def __init__(self, cfg: RunConfig, progress: bool = False) -> None:
        super().__init__()
        self.cfg, self.progress = cfg, progress
        self.labels: tuple[str, ...] = ()
        self.group_names: dict[str, tuple[str, ...]] = {}
        self.sensitive: list[str] = []
        self.tables: dict[str, torch.Tensor] = {}
        self.split_rows: pd.DataFrame | None = None
        self.aligned = cfg.data.aligned

    def prepare_data(self) -> None:
        if self.cfg.mae.pool is None:
            raise DatasetError("mae_pretrain needs mae.pool: a manifest, a folder of face images or {synthfacs: ...}")

    def setup(self, stage: str | None = None) -> None:
        if self.tables:
            return
        cfg = self.cfg
        rows = pool_rows(cfg.mae.pool, cfg, (), self.progress)
        images = load_images([Path(p) for p in rows["abs_path"]], cfg, self.progress)
        order = np.random.default_rng((cfg.trainer.seed, 31)).permutation(len(images))
        n_val = max(1, int(round(cfg.mae.val_fraction * len(images))))
        split = np.full(len(images), "train", dtype=object)
        split[order[:n_val]] = "val"
        self.tables = {
            "train": images[torch.as_tensor(np.flatnonzero(split == "train"))],
            "val": images[torch.as_tensor(np.flatnonzero(split == "val"))],
        }
        self.split_rows = rows.assign(source="mae.pool", split=split)[["source", "path", "split"]]

    def train_dataloader(self) -> DataLoader:
        return shuffled_loader(_Images(self.tables["train"]), self.cfg, *rank_of(self))

    def val_dataloader(self) -> DataLoader:
        return DataLoader(_Images(self.tables["val"]), batch_size=256, shuffle=False)


def encoder_kwargs(cfg: RunConfig) -> dict[str, Any]:
    """The registry ViT's arguments for ``mae.preset`` at the config's input size (depth and patch overridable)."""
    m, c = cfg.mae, cfg.model
    out: dict[str, Any] = {"img_size": c.input_size, "in_chans": c.in_chans, "num_classes": 2}
    if m.depth:
        out["depth"] = int(m.depth)
    if m.patch:
        out["patch_size"] = int(m.patch)
    return out


class MaePretrainModule(L.LightningModule):
    """A masked autoencoder around ``encoder`` (a registry ViT) with the decoder and masking of ``mae``.

    Parameters
    ----------
    encoder
        The ViT to pretrain; after training it is the run's model.
    mae
        Mask ratio, decoder size, loss, learning-rate rule and warm-up, previews.
    optim
        Epochs and batch size (the learning rate follows ``mae.blr``).
    seed
        Seeds the masks and flips.
    """

    def __init__(
        self, encoder: nn.Module, *, mae: MaeConfig | None = None, optim: OptimConfig | None = None, seed: int = 0
    ) -> None:
        super().__init__()
        self.mae_cfg, self.optim, self.seed = mae or MaeConfig(), optim or OptimConfig(), int(seed)
        self.save_hyperparameters({"mae": asdict(self.mae_cfg), "optim": asdict(self.optim), "seed": self.seed})
        self.mae = MaskedAutoencoder(
            encoder,
            decoder_dim=self.mae_cfg.decoder_dim,
            decoder_depth=self.mae_cfg.decoder_depth,
            norm_pix_loss=self.mae_cfg.norm_pix_loss,
        )

    def normalise(self, images: torch.Tensor) -> torch.Tensor:
        return normalise(images)

    def _generator(self, *key: int) -> torch.Generator:
        return step_generator(self.seed, *key)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        g = self._generator(self.current_epoch, batch_idx, self.global_rank)
        x = weak_view(self.normalise(batch["image"]), g)
        loss, _, _ = self.mae(x, self.mae_cfg.mask_ratio, g)
        self.log("train/loss", loss, prog_bar=True, batch_size=len(x))
        if batch_idx % self.trainer.log_every_n_steps == 0:
            self.log("train/lr", self.trainer.optimizers[0].param_groups[0]["lr"], batch_size=len(x))
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        x = self.normalise(batch["image"])
        loss, _, _ = self.mae(x, self.mae_cfg.mask_ratio, self._generator(10_007, batch_idx))  # same masks each epoch
        self.log("val/loss", loss, prog_bar=True, batch_size=len(x), sync_dist=True)

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking or self.global_rank != 0 or self.mae_cfg.previews <= 0:
            return
        val = self.trainer.datamodule.tables["val"][: self.mae_cfg.previews].to(self.device)
        x = self.normalise(val)
        masked, recon = self.mae.reconstruct(x, self.mae_cfg.mask_ratio, self._generator(10_007, 0))
        folder = Path(self.trainer.default_root_dir) / RunFolder.PREVIEWS
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(
            str(folder / f"epoch_{self.current_epoch:03d}.png"),
            cv2.cvtColor(preview_grid(x, masked, recon), cv2.COLOR_RGB2BGR),
        )

    def configure_optimizers(self) -> Any:
        m, o = self.mae_cfg, self.optim
        decay, no_decay = [], []
        for name, p in self.mae.named_parameters():
            (no_decay if p.ndim < 2 or "token" in name else decay).append(p)
        lr = m.blr * o.batch_size * self.trainer.world_size / 256
        opt = torch.optim.AdamW(
            [{"params": decay, "weight_decay": m.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=lr,
            betas=(0.9, 0.95),
        )
        total = max(1, int(self.trainer.estimated_stepping_batches))
        warm = min(total - 1, int(total * m.warmup_epochs / max(1, o.epochs)))

        def factor(step: int) -> float:
            if step < warm:
                return (step + 1) / max(1, warm)
            return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


@register_recipe("mae_pretrain")
class MaeRecipe:
    """A ViT pretrained as a masked autoencoder on an unlabelled pool; the encoder is the run's model."""

    def prepare(self, cfg: RunConfig) -> None:
        """The run's model is the preset's ViT (``model.arch`` follows ``mae.preset``)."""
        cfg.model.arch = f"vit_{cfg.mae.preset}"

    def datamodule(self, cfg: RunConfig, progress: bool) -> PoolDataModule:
        return PoolDataModule(cfg, progress=progress)

    def module(self, cfg: RunConfig, dm: PoolDataModule) -> MaePretrainModule:
        encoder = create_model(f"vit_{cfg.mae.preset}", **encoder_kwargs(cfg))
        return MaePretrainModule(encoder, mae=cfg.mae, optim=cfg.optim, seed=cfg.trainer.seed)

    def finish(
        self, run: RunFolder, cfg: RunConfig, trainer: L.Trainer, module: MaePretrainModule, dm: PoolDataModule
    ) -> dict:
        """The best encoder as a registry ViT checkpoint, and the reconstruction loss."""
        restore_best(trainer, module)
        encoder = module.mae.encoder.cpu().eval()
        kwargs = {k: v for k, v in encoder_kwargs(cfg).items() if k not in ("num_classes", "in_chans")}
        pool = json.dumps(cfg.mae.pool) if not isinstance(cfg.mae.pool, str) else cfg.mae.pool
        card = card_for(
            cfg,
            ("untrained_0", "untrained_1"),
            run.name,
            training_data=pool,
            licence="same as the pool",
            notes="MAE-pretrained encoder; the head is untrained: start a recipe from it (model.init) to fit one",
            extra={"arch_kwargs": kwargs},
        )
        save_checkpoint(encoder, card, run.path(RunFolder.MODEL))
        score = trainer.checkpoint_callback.best_model_score if trainer.checkpoint_callback else None  # type: ignore
        evaluation = {
            "recipe": "mae_pretrain",
            "run": run.name,
            "split": "val",
            "val_loss": None if score is None else round(float(score), 5),
            "n_train": len(dm.tables["train"]),
            "n_val": len(dm.tables["val"]),
        }
        return run.finish(evaluation, test={"val_loss": evaluation["val_loss"]})

    def summary(self, evaluation: dict) -> list[str]:
        return [f"validation reconstruction loss {evaluation['val_loss']} (previews in {RunFolder.PREVIEWS}/)"]


def preview_grid(x: torch.Tensor, masked: torch.Tensor, recon: torch.Tensor) -> np.ndarray:
    """Rows: original, masked input, reconstruction; one column per face (RGB uint8)."""

    def to_img(t: torch.Tensor) -> np.ndarray:
        img = ((t.float().cpu() * PIXEL_STD + PIXEL_MEAN).clamp(0, 1) * 255).round().byte()
        img = img.permute(0, 2, 3, 1).numpy()
        return np.repeat(img, 3, axis=3) if img.shape[3] == 1 else img

    rows = [np.concatenate(list(to_img(t)), axis=1) for t in (x, masked, recon)]
    return np.concatenate(rows, axis=0)
