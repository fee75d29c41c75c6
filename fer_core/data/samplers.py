"""Batch composition: class-balanced sampling and group-balanced batches (the MMD loss needs >= 2 per group)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from torch.utils.data import Sampler


class EpochSampler(Sampler):
    """Draws that depend only on (seed, epoch): Lightning calls ``set_epoch`` each epoch, so a resumed run sees the
    same batches as an uninterrupted one. Batch samplers set ``n`` and ``batch_size`` and yield
    ``len(dataset) // batch_size`` batches per epoch."""

    n: int
    batch_size: int

    def __init__(self, seed: int) -> None:
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return max(1, self.n // self.batch_size)


class ClassBalancedSampler(EpochSampler):
    """Draw ``num_samples`` indices: a class uniformly at random, then an example of it uniformly (with
    replacement), so every class is seen equally often whatever its frequency."""

    def __init__(self, labels: Sequence, num_samples: int | None = None, seed: int = 0) -> None:
        labels = np.asarray(labels)
        self.classes, inverse = np.unique(labels, return_inverse=True)
        self.by_class = [np.flatnonzero(inverse == c) for c in range(len(self.classes))]
        self.num_samples = num_samples or len(labels)
        super().__init__(seed)

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng((self.seed, self.epoch))
        cls = rng.integers(0, len(self.classes), size=self.num_samples)
        for c in cls:
            members = self.by_class[c]
            yield int(members[rng.integers(0, len(members))])


class GroupBalancedBatchSampler(EpochSampler):
    """Batches that hold ``per_group`` (>= 2) examples of every sensitive group, the rest filled at random.

    Yields ``len(dataset) // batch_size`` batches per epoch; groups smaller than ``per_group`` are sampled with
    replacement.
    """

    def __init__(self, groups: Sequence, batch_size: int, per_group: int = 2, seed: int = 0) -> None:
        groups = np.asarray(groups)
        self.names, inverse = np.unique(groups, return_inverse=True)
        if per_group < 1 or per_group * len(self.names) > batch_size:
            raise ValueError(f"batch_size {batch_size} cannot hold {per_group} of each of {len(self.names)} groups")
        self.by_group = [np.flatnonzero(inverse == g) for g in range(len(self.names))]
        self.n, self.batch_size, self.per_group = len(groups), batch_size, per_group
        super().__init__(seed)

    def __iter__(self) -> Iterator[list[int]]:
        rng = np.random.default_rng((self.seed, self.epoch))
        for _ in range(len(self)):
            batch = [
                int(i)
                for members in self.by_group
                for i in rng.choice(members, self.per_group, replace=len(members) < self.per_group)
            ]
            rest = self.batch_size - len(batch)
            batch += [int(i) for i in rng.choice(self.n, rest, replace=False)] if rest else []
            rng.shuffle(batch)
            yield batch


class GroupClassBalancedBatchSampler(EpochSampler):
    """Batches with the same number of rows from every sensitive group and, inside each group, classes drawn
    uniformly.

    Why: when labels correlate with a group in the training data (a planted or real bias), a batch whose groups
    carry different label mixes makes "align the groups' embeddings" (the MMD term) fight the classifier. With equal
    label mixes per group, any remaining difference between the groups' embeddings is group information the model
    should not use. Draws are with replacement; ``len(dataset) // batch_size`` batches per epoch.
    """

    def __init__(self, groups: Sequence, labels: Sequence, batch_size: int, seed: int = 0) -> None:
        groups, labels = np.asarray(groups), np.asarray(labels)
        if len(groups) != len(labels):
            raise ValueError(f"groups and labels must have the same length, got {len(groups)} and {len(labels)}")
        self.names, g_inv = np.unique(groups, return_inverse=True)
        if 2 * len(self.names) > batch_size:
            raise ValueError(f"batch_size {batch_size} cannot hold 2 of each of {len(self.names)} groups")
        _, y_inv = np.unique(labels, return_inverse=True)
        self.cells = [
            [np.flatnonzero((g_inv == g) & (y_inv == c)) for c in np.unique(y_inv[g_inv == g])]
            for g in range(len(self.names))
        ]
        self.n, self.batch_size = len(groups), batch_size
        super().__init__(seed)

    def __iter__(self) -> Iterator[list[int]]:
        rng = np.random.default_rng((self.seed, self.epoch, 7))
        n_groups = len(self.cells)
        for _ in range(len(self)):
            sizes = np.full(n_groups, self.batch_size // n_groups)
            sizes[rng.choice(n_groups, self.batch_size - sizes.sum(), replace=False)] += 1
            batch = []
            for cells, size in zip(self.cells, sizes):
                for c in rng.integers(0, len(cells), size):
                    batch.append(int(cells[c][rng.integers(0, len(cells[c]))]))
            rng.shuffle(batch)
            yield batch
