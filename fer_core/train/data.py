"""Manifests -> in-memory aligned crops -> batches: the one data path every recipe trains, validates and tests on.

Crops are decoded (and, for photos, detected and aligned through the crop cache) once in ``setup`` and kept as one
uint8 tensor, so an epoch never touches the disk or the face detector. Every random draw (split, sampler,
augmentation) is a function of (seed, epoch), which is what makes a resumed run end exactly like an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import lightning as L
import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from .._utils.progress import ProgressFn, progress_iter
from ..data.crop_cache import CropCache, build_crop_cache
from ..data.manifest import read_manifest, resolve_paths, validate_manifest
from ..data.samplers import (
    ClassBalancedSampler,
    EpochSampler,
    GroupBalancedBatchSampler,
    GroupClassBalancedBatchSampler,
)
from ..data.sources import default_cache_dir, materialize
from ..errors import DatasetError, ImageLoadError
from ..face.io import load_image
from ..face.pipeline import CROP_FALLBACK_MAX_SIDE, resize_crop
from ..taxonomy import LABEL_SETS
from .config import RunConfig

__all__ = [
    "EpochShuffle",
    "FaceDataModule",
    "FaceTable",
    "RankSlice",
    "crops_to_tensor",
    "load_crops",
    "load_images",
    "load_table",
    "rank_of",
    "shuffled_loader",
]

SPLITS = ("train", "val", "test")


def _subject_split(table: pd.DataFrame, val: float, test: float, seed: int) -> np.ndarray:
    """train/val/test by subject (every subject's rows in one split); by row where there is no subject column."""
    units = (
        table["subject"].astype(str)
        if "subject" in table and table["subject"].astype(str).ne("").all()
        else pd.Series(np.arange(len(table))).astype(str)
    )
    names = np.array(sorted(units.unique()))
    rng = np.random.default_rng((seed, 11))
    order = names[rng.permutation(len(names))]
    n_val, n_test = int(round(val * len(order))), int(round(test * len(order)))
    split_of = {s: "test" for s in order[:n_test]} | {s: "val" for s in order[n_test : n_test + n_val]}
    return units.map(lambda s: split_of.get(s, "train")).to_numpy()


def _labels_for(cfg: RunConfig, table: pd.DataFrame) -> tuple[str, ...]:
    d = cfg.data
    if d.labels:
        return tuple(str(x) for x in d.labels)
    if d.target == "label":
        sets = table["label_set"].astype(str).unique().tolist() if "label_set" in table else []
        sets = [s for s in sets if s]
        if len(sets) == 1 and sets[0] in LABEL_SETS:
            return tuple(LABEL_SETS[sets[0]])
    return tuple(sorted(table[d.target].astype(str).unique()))


def _is_small(path: Path) -> bool:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return max(im.size) <= CROP_FALLBACK_MAX_SIDE
    except OSError:
        return False


def resolve_aligned(paths: list[Path], aligned: bool | None) -> bool:
    """``data.aligned: null`` means: the images are aligned crops if (a sample of) them are at most 160 px."""
    if aligned is None:
        return all(_is_small(p) for p in paths[:: max(1, len(paths) // 200)])
    return bool(aligned)


def load_crops(
    paths: list[Path], cfg: RunConfig, progress: bool = False, callback: ProgressFn | None = None
) -> np.ndarray:
    """(N, H, W, 3) uint8 crops at the model's size: aligned crops are resized; photos go through the crop cache."""
    size = (cfg.model.input_size, cfg.model.input_size)
    aligned = resolve_aligned(paths, cfg.data.aligned)
    if aligned:
        return _aligned_crops(
            paths, size, Path(cfg.data.cache_dir or default_cache_dir()) / "aligned", progress, callback
        )
    root = Path(cfg.data.cache_dir or default_cache_dir()) / "crops"
    report = build_crop_cache(paths, root, size, cfg.data.template, show_progress=progress, progress=callback)
    if len(report.failed):
        first = report.failed.iloc[0]
        raise DatasetError(
            f"{len(report.failed)} image(s) have no usable face, e.g. {first['path']}: "
            f"{first['reason']}; drop them from the manifest or set data.aligned: true for crops"
        )
    cache = CropCache(root, size, cfg.data.template)
    return np.stack([cache[p] for p in paths])


def _aligned_crops(
    paths: list[Path], size: tuple[int, int], root: Path, progress: bool, callback: ProgressFn | None
) -> np.ndarray:
    """Aligned crops decoded and resized once, then kept as one array in the cache: every run of a claim (and every
    run a user repeats) reads its few thousand crops in milliseconds instead of decoding each file again. The key is
    the size and every file's path, length and modification time, so a changed file is decoded afresh."""
    import hashlib
    import json
    import os

    try:
        stamp = [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in paths]
    except OSError as exc:
        raise DatasetError(f"{exc.filename}: {exc.strerror}; the manifest lists a file that cannot be read") from exc
    key = hashlib.sha256(json.dumps([list(size), stamp]).encode()).hexdigest()[:24]
    path = root / f"{size[0]}x{size[1]}_{key}.npy"
    if path.is_file():
        try:
            cached = np.load(path, allow_pickle=False)
            if cached.shape == (len(paths), *size, 3) and cached.dtype == np.uint8:
                return cached
        except (OSError, ValueError):
            pass  # a damaged cache file is rebuilt below
    out = np.empty((len(paths), *size, 3), dtype=np.uint8)
    for i, p in enumerate(progress_iter(paths, progress, "loading crops", callback=callback)):
        try:
            out[i] = resize_crop(load_image(p), size)
        except ImageLoadError as exc:
            raise DatasetError(f"{p}: {exc}; replace the file or drop its row from the manifest") from exc
    root.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.npy")
    np.save(tmp, out)
    tmp.replace(path)
    return out


def crops_to_tensor(crops: np.ndarray, in_chans: int) -> torch.Tensor:
    """(N, H, W, 3) RGB uint8 crops -> (N, C, H, W) uint8 tensor, grey (OpenCV's RGB->GRAY) when ``in_chans`` is 1."""
    if in_chans == 1:
        crops = (
            np.stack([cv2.cvtColor(c, cv2.COLOR_RGB2GRAY) for c in crops])[..., None] if len(crops) else crops[..., :1]
        )
    return torch.from_numpy(np.ascontiguousarray(crops.transpose(0, 3, 1, 2)))


def load_images(paths: list[Path], cfg: RunConfig, progress: bool = False) -> torch.Tensor:
    """:func:`load_crops` as the (N, C, H, W) uint8 tensor the recipes train on."""
    return crops_to_tensor(load_crops(paths, cfg, progress), cfg.model.in_chans)


class FaceTable:
    """Rows of one split: crops (N, C, H, W) uint8, target index, sensitive-group codes, and the manifest rows."""

    def __init__(
        self,
        rows: pd.DataFrame,
        crops: np.ndarray,
        labels: tuple[str, ...],
        sensitive: list[str],
        group_names: dict[str, tuple[str, ...]],
        target: str,
        in_chans: int,
    ) -> None:
        self.rows = rows.reset_index(drop=True)
        self.images = crops_to_tensor(crops, in_chans)
        values = self.rows[target].astype(str)
        unknown = sorted(set(values) - set(labels))
        if unknown:
            raise DatasetError(f"{target} value(s) {unknown[:5]} are not among the run's labels {list(labels)}")
        self.targets = torch.tensor([labels.index(v) for v in values], dtype=torch.long)
        self.extras: dict[str, torch.Tensor] = {}  # per-row tensors a recipe adds (batched under their own key)
        self.groups = torch.zeros((len(self.rows), len(sensitive)), dtype=torch.long)
        for j, col in enumerate(sensitive):
            names = group_names[col]
            self.groups[:, j] = torch.tensor(
                [names.index(v) if v in names else -1 for v in self.rows[col].astype(str)], dtype=torch.long
            )

    def __len__(self) -> int:
        return len(self.rows)

    def take(self, index: np.ndarray) -> FaceTable:
        """The rows ``index`` as a new table (tensors indexed, nothing decoded again)."""
        import copy

        out = copy.copy(self)
        idx = torch.as_tensor(np.asarray(index), dtype=torch.long)
        out.rows = self.rows.iloc[idx.numpy()].reset_index(drop=True)
        out.images, out.targets, out.groups = self.images[idx], self.targets[idx], self.groups[idx]
        out.extras = {k: v[idx] for k, v in self.extras.items()}
        return out


class _TensorRows(Dataset):
    def __init__(self, table: FaceTable) -> None:
        self.t = table

    def __len__(self) -> int:
        return len(self.t)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {
            "image": self.t.images[i],
            "target": self.t.targets[i],
            "groups": self.t.groups[i],
            "index": torch.tensor(i),
            **{k: v[i] for k, v in self.t.extras.items()},
        }


class EpochShuffle(EpochSampler):
    """A permutation that depends only on (seed, epoch)."""

    def __init__(self, n: int, seed: int = 0) -> None:
        self.n = n
        super().__init__(seed)

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[int]:
        return iter(np.random.default_rng((self.seed, self.epoch, 5)).permutation(self.n).tolist())


class RankSlice(Sampler):
    """Under DDP every process takes every ``world``-th item of the same seeded stream: disjoint shards, no
    coordination, and the same union of rows as a single-process run."""

    def __init__(self, inner: Sampler, rank: int, world: int) -> None:
        self.inner, self.rank, self.world = inner, rank, world

    def set_epoch(self, epoch: int) -> None:
        self.inner.set_epoch(epoch)  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return (len(self.inner) - self.rank + self.world - 1) // self.world  # type: ignore[arg-type]

    def __iter__(self) -> Iterator:
        for i, item in enumerate(self.inner):
            if i % self.world == self.rank:
                yield item


def rank_of(datamodule: L.LightningDataModule) -> tuple[int, int]:
    """(global rank, world size) of the process a data module serves; (0, 1) outside a trainer."""
    trainer = getattr(datamodule, "trainer", None)
    return (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)


def shuffled_loader(dataset: Dataset, cfg: RunConfig, rank: int = 0, world: int = 1) -> DataLoader:
    """Batches of ``optim.batch_size`` rows in a (seed, epoch) permutation, this rank's share of it."""
    return DataLoader(
        dataset,
        batch_size=min(cfg.optim.batch_size, len(dataset)),
        drop_last=True,  # type: ignore
        sampler=RankSlice(EpochShuffle(len(dataset), cfg.trainer.seed), rank, world),
    )  # type: ignore


def load_table(
    source: Any, cfg: RunConfig, progress: bool = False, role: str = "manifest", groups_optional: bool = False
) -> pd.DataFrame:
    """A validated manifest with absolute paths in ``abs_path`` and the config key it came from in ``source``.

    ``groups_optional``: sensitive columns the manifest lacks are added empty (group unknown: such rows train but
    carry no group signal), as reviewed pseudo-labels usually come without demographics."""
    path = materialize(source, cfg.data.cache_dir, progress)
    table = validate_manifest(read_manifest(path))
    if groups_optional:
        table = table.assign(**{c: "" for c in _sensitive(cfg) if c not in table.columns})
    needed = [cfg.data.target, *_sensitive(cfg)]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise DatasetError(f"manifest {path} has no column(s) {missing}; its columns are {list(table.columns)}")
    table = table.copy()
    table["abs_path"] = [str(p) for p in resolve_paths(table, path.parent)]
    table["source"] = role
    return table


def _sensitive(cfg: RunConfig) -> list[str]:
    s = cfg.data.sensitive
    return [] if s in (None, "", []) else ([s] if isinstance(s, str) else [str(x) for x in s])


class FaceDataModule(L.LightningDataModule):
    """Train/val/test (and predict = test) loaders over a manifest, a separate test manifest if given."""

    def __init__(self, cfg: RunConfig, progress: bool = False) -> None:
        super().__init__()
        self.cfg, self.progress = cfg, progress
        self.sensitive = _sensitive(cfg)
        self.tables: dict[str, FaceTable] = {}
        self.split_rows: pd.DataFrame | None = None
        self.labels: tuple[str, ...] = ()
        self.group_names: dict[str, tuple[str, ...]] = {}
        self.aligned: bool | None = cfg.data.aligned

    def prepare_data(self) -> None:
        materialize(self.cfg.data.manifest, self.cfg.data.cache_dir, self.progress)
        if self.cfg.data.test_manifest is not None:
            materialize(self.cfg.data.test_manifest, self.cfg.data.cache_dir, self.progress)
        for extra in self.cfg.data.extra_manifests or []:
            materialize(extra, self.cfg.data.cache_dir, self.progress)

    def setup(self, stage: str | None = None) -> None:
        if self.tables:
            return
        cfg = self.cfg
        if cfg.data.manifest is None:
            raise DatasetError("data.manifest is required: a manifest path or {synthfacs: {...}}")
        table = load_table(cfg.data.manifest, cfg, self.progress)
        if "split" in table and table["split"].isin(SPLITS).any():
            split = table["split"].astype(str).to_numpy().copy()
            if not (split == "val").any():  # carve validation subjects out of train
                sub = _subject_split(table[split == "train"], cfg.data.val_fraction, 0.0, cfg.trainer.seed)
                split[np.flatnonzero(split == "train")[sub == "val"]] = "val"
        else:
            split = _subject_split(
                table,
                cfg.data.val_fraction,
                0.0 if cfg.data.test_manifest is not None else cfg.data.test_fraction,
                cfg.trainer.seed,
            )
        table["split"] = split
        if cfg.data.test_manifest is not None:
            test = load_table(cfg.data.test_manifest, cfg, self.progress, "test_manifest")  # all rows test
            table = pd.concat([table[table["split"] != "test"], test.assign(split="test")], ignore_index=True)
        for i, extra in enumerate(cfg.data.extra_manifests or []):  # e.g. reviewed pseudo-labels: all training rows
            table = pd.concat(
                [table, load_table(extra, cfg, self.progress, f"extra_manifests.{i}", True).assign(split="train")],
                ignore_index=True,
            )
        table = table[table["split"].isin(SPLITS)].reset_index(drop=True)
        for name in ("train", "val"):
            if not (table["split"] == name).any():
                raise DatasetError(f"no {name} rows: give the manifest a split column or rows for every split")
        self.labels = _labels_for(cfg, table[table["split"] == "train"])
        self.group_names = {
            c: tuple(sorted(set(table.loc[table["split"] == "train", c].astype(str)) - {""})) for c in self.sensitive
        }  # "" = unknown (e.g. reviewed pseudo-labels): no group
        paths = [Path(p) for p in table["abs_path"]]
        self.aligned = resolve_aligned(paths, cfg.data.aligned)
        crops = load_crops(paths, cfg, self.progress)
        self.split_rows = table
        for name in SPLITS:
            mask = (table["split"] == name).to_numpy()
            if mask.any():
                self.tables[name] = FaceTable(
                    table[mask],
                    crops[mask],
                    self.labels,
                    self.sensitive,
                    self.group_names,
                    cfg.data.target,
                    cfg.model.in_chans,
                )

    # --- loaders -----------------------------------------------------------------------------------------------
    def _rank(self) -> tuple[int, int]:
        return rank_of(self)

    def train_dataloader(self) -> DataLoader:
        cfg, t = self.cfg, self.tables["train"]
        seed, bs = cfg.trainer.seed, cfg.optim.batch_size
        rank, world = self._rank()
        kind = cfg.data.sampler
        if kind in ("group_balanced", "group_class_balanced") and not self.sensitive:
            raise DatasetError(f"data.sampler {kind} needs data.sensitive (the group column)")
        groups = t.groups[:, 0].numpy() if self.sensitive else None
        if kind == "group_balanced":
            batches = GroupBalancedBatchSampler(groups, bs * world, cfg.data.per_group, seed)
            return self._batch_loader(t, RankSlice(_Split(batches, world), rank, world))
        if kind == "group_class_balanced":
            batches = GroupClassBalancedBatchSampler(groups, t.targets.numpy(), bs * world, seed)
            return self._batch_loader(t, RankSlice(_Split(batches, world), rank, world))
        sampler = (
            ClassBalancedSampler(t.targets.numpy(), seed=seed)
            if kind == "class_balanced"
            else EpochShuffle(len(t), seed)
        )
        return DataLoader(
            _TensorRows(t),
            batch_size=bs,
            sampler=RankSlice(sampler, rank, world),
            drop_last=True,
            num_workers=cfg.data.num_workers,
            persistent_workers=cfg.data.num_workers > 0,
        )

    def _batch_loader(self, t: FaceTable, batch_sampler: Sampler) -> DataLoader:
        return DataLoader(
            _TensorRows(t),
            batch_sampler=batch_sampler,
            num_workers=self.cfg.data.num_workers,
            persistent_workers=self.cfg.data.num_workers > 0,
        )

    def _eval_loader(self, name: str) -> DataLoader:
        return DataLoader(
            _TensorRows(self.tables[name]),
            batch_size=max(256, self.cfg.optim.batch_size),
            shuffle=False,
            num_workers=self.cfg.data.num_workers,
        )

    def val_dataloader(self) -> DataLoader:
        return self._eval_loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._eval_loader("test")

    def predict_dataloader(self) -> DataLoader:
        return self._eval_loader("test" if "test" in self.tables else "val")


class _Split(Sampler):
    """A global batch of ``bs * world`` rows cut into ``world`` consecutive per-process batches."""

    def __init__(self, batches: Sampler, world: int) -> None:
        self.batches, self.world = batches, world

    def set_epoch(self, epoch: int) -> None:
        self.batches.set_epoch(epoch)  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return len(self.batches) * self.world  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self.batches:
            step = len(batch) // self.world
            for r in range(self.world):
                yield batch[r * step : (r + 1) * step]
