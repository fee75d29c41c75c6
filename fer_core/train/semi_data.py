"""Labelled + unlabelled batches for semi-supervised training.

The labelled rows are the training split (optionally only ``semi.labeled_fraction`` of them, chosen per class);
the unlabelled pool is the rest of the training split plus ``semi.unlabeled`` (a manifest, a folder of face images
or a SynthFACS spec). Labels in the pool are kept as ``truth`` only to measure pseudo-label precision; training never
reads them. Each step gets a class-balanced labelled batch and ``mu`` times as many unlabelled rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from lightning.pytorch.utilities import CombinedLoader
from torch.utils.data import DataLoader, Dataset

from ..data.pool import pool_table, pool_truth
from ..data.samplers import ClassBalancedSampler
from ..data.sources import materialize
from ..errors import DatasetError
from .config import RunConfig
from .data import EpochShuffle, FaceDataModule, RankSlice, load_images

__all__ = ["Pool", "SemiDataModule", "pool_rows"]


class Pool:
    """Unlabelled faces: uint8 images (N, C, H, W), ``truth`` class index or -1, and their rows (path, source)."""

    def __init__(self, images: torch.Tensor, truth: torch.Tensor, rows: pd.DataFrame) -> None:
        self.images, self.truth, self.rows = images, truth, rows.reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.truth)


class _PoolRows(Dataset):
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    def __len__(self) -> int:
        return len(self.pool)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"image": self.pool.images[i], "truth": self.pool.truth[i], "index": torch.tensor(i)}


def pool_rows(source: Any, cfg: RunConfig, labels: tuple[str, ...], progress: bool = False) -> pd.DataFrame:
    """Rows (abs_path, path, truth) of an unlabelled source: a folder of images, a manifest or a SynthFACS spec."""
    folder = isinstance(source, (str, Path)) and Path(source).is_dir()
    table, paths = pool_table(source if folder else materialize(source, cfg.data.cache_dir, progress))
    truth = pool_truth(table, cfg.data.target, labels)
    return pd.DataFrame({"abs_path": [str(p) for p in paths], "path": table["path"].astype(str), "truth": truth})


class SemiDataModule(FaceDataModule):
    """:class:`FaceDataModule` plus the unlabelled pool; train batches are ``{"labeled": ..., "unlabeled": ...}``."""

    def __init__(self, cfg: RunConfig, progress: bool = False) -> None:
        super().__init__(cfg, progress)
        self.pool: Pool | None = None

    def prepare_data(self) -> None:
        super().prepare_data()
        u = self.cfg.semi.unlabeled
        if u is not None and not (isinstance(u, (str, Path)) and Path(u).is_dir()):
            materialize(u, self.cfg.data.cache_dir, self.progress)

    def setup(self, stage: str | None = None) -> None:
        if self.pool is not None:
            return
        super().setup(stage)
        cfg, train = self.cfg, self.tables["train"]
        keep = np.arange(len(train))
        if cfg.semi.labeled_fraction < 1.0:  # per class, at least one labelled row
            rng = np.random.default_rng((cfg.trainer.seed, 23))
            y = train.targets.numpy()
            keep = np.sort(
                np.concatenate(
                    [
                        rng.permutation(np.flatnonzero(y == c))[
                            : max(1, int(round(cfg.semi.labeled_fraction * (y == c).sum())))
                        ]
                        for c in np.unique(y)
                    ]
                )
            )
        moved = np.setdiff1d(np.arange(len(train)), keep)
        parts_img = [train.images[torch.as_tensor(moved, dtype=torch.long)]]
        parts_truth = [train.targets[torch.as_tensor(moved, dtype=torch.long)]]
        parts_rows = [train.rows.iloc[moved][["abs_path", "path", "source"]]]
        if cfg.semi.unlabeled is not None:
            rows = pool_rows(cfg.semi.unlabeled, cfg, self.labels, self.progress)
            parts_img.append(load_images([Path(p) for p in rows["abs_path"]], cfg, self.progress))
            parts_truth.append(torch.as_tensor(rows["truth"].to_numpy(), dtype=torch.long))
            parts_rows.append(rows[["abs_path", "path"]].assign(source="semi.unlabeled"))
        self.tables["train"] = train.take(keep)
        self.pool = Pool(torch.cat(parts_img), torch.cat(parts_truth), pd.concat(parts_rows, ignore_index=True))
        if not len(self.pool):
            raise DatasetError(
                "semi-supervised training needs unlabelled faces: set semi.unlabeled or semi.labeled_fraction < 1"
            )
        assert self.split_rows is not None
        split = self.split_rows
        train_idx = np.flatnonzero(split["split"].to_numpy() == "train")
        split.loc[train_idx[moved], "split"] = "unlabeled"
        if cfg.semi.unlabeled is not None:
            extra = self.pool.rows[self.pool.rows["source"] == "semi.unlabeled"]
            self.split_rows = pd.concat([split, extra.assign(split="unlabeled")], ignore_index=True)

    def train_dataloader(self) -> CombinedLoader:
        cfg = self.cfg
        seed, bs = cfg.trainer.seed, cfg.optim.batch_size
        rank, world = self._rank()
        labeled = self.tables["train"]
        assert self.pool is not None
        from .data import _TensorRows

        lab = DataLoader(
            _TensorRows(labeled),
            batch_size=min(bs, len(labeled)),
            drop_last=True,
            sampler=RankSlice(ClassBalancedSampler(labeled.targets.numpy(), seed=seed), rank, world),
        )
        unl = DataLoader(
            _PoolRows(self.pool),
            batch_size=min(bs * cfg.semi.mu, len(self.pool)),
            drop_last=True,
            sampler=RankSlice(EpochShuffle(len(self.pool), seed + 1_000_003), rank, world),
        )
        return CombinedLoader({"labeled": lab, "unlabeled": unl}, mode="max_size_cycle")
