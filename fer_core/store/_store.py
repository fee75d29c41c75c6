"""``Store``: the one object callers hold. Each method is one transaction around a function of the modules beside it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import URL

from ..errors import StoreError
from . import _batches, _queue, _reports
from ._engine import READ_ONLY, create_store_engine, resolve_url
from ._export import write_manifest
from ._migrations import migrate
from ._records import MSG_BATCH_EXISTS, Item, Progress, Review

__all__ = ["Store", "DEFAULT_LEASE_S"]

DEFAULT_LEASE_S = 120.0


class Store:
    """The pseudo-label review store: runs index, batches of pseudo-labels, a claimable review queue, reports.

    Open it with :meth:`Store.open`. One ``Store`` is safe to share between threads (each call takes its own
    connection from the pool); several processes may open the same database at once.

    Parameters
    ----------
    engine
        A SQLAlchemy engine on a database whose schema is current (what :meth:`Store.open` makes).
    clock
        Seconds since the epoch, for every timestamp the store writes; injectable so tests can move time.

    Examples
    --------
    >>> store = Store.open("reviews.sqlite")                       # doctest: +SKIP
    >>> store.create_batch("pool-1", [{"path": "a.png", "label": "happy", "probs": {...}}])  # doctest: +SKIP
    >>> item = store.claim_next("pool-1", "ann")                   # doctest: +SKIP
    >>> store.decide(item.id, "ann", "accept")                     # doctest: +SKIP
    """

    def __init__(self, engine: sa.Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    @classmethod
    def open(
        cls, url: str | Path | URL | None = None, *, clock: Callable[[], float] = time.time, echo: bool = False
    ) -> Store:
        """Connect to ``url`` (default ``$FER_CORE_DB``, else ``<cache>/store.sqlite``), creating or upgrading
        the schema. ``clock`` (seconds since the epoch) is injectable so tests can move time."""
        engine = create_store_engine(resolve_url(url), echo=echo)
        try:
            migrate(engine, clock())
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, clock)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            conn.execution_options(**{READ_ONLY: True})
            with conn.begin():
                yield conn

    # runs and batches ------------------------------------------------------------------------------------------
    def add_run(self, name: str, path: str | Path | None = None, recipe: str | None = None) -> int:
        """Register a training run (idempotent for the same name and path); returns its id."""
        with self._write() as conn:
            return _batches.add_run(conn, name, None if path is None else str(path), recipe, self.clock())

    def list_runs(self) -> pd.DataFrame:
        """The runs index: id, name, path, recipe, created."""
        with self._read() as conn:
            return _batches.list_runs(conn)

    def create_batch(
        self,
        name: str,
        items: Iterable[Mapping[str, Any]] | pd.DataFrame,
        *,
        run: int | str | None = None,
        pool: str = "",
        label_set: str | None = None,
        reviews_per_item: int = 1,
    ) -> int:
        """Store a batch of pseudo-labels in one transaction; returns the batch id.

        Parameters
        ----------
        name
            A non-empty name, unique in the store.
        items
            Mappings (or DataFrame rows) with ``path`` and ``label`` (the proposed label), and optionally
            ``probs`` ({label: p}, or a sequence in ``label_set`` order), ``confidence`` (default max(probs)),
            ``threshold`` (the class threshold in force), ``above_threshold`` (default confidence >= threshold)
            and ``true_label`` (known truth, e.g. SynthFACS). An invalid item raises ValueError naming it, and
            nothing is stored.
        run
            Id or name of a run registered with :meth:`add_run` that proposed the labels.
        pool
            A free-text description of the unlabeled face pool.
        label_set
            A :mod:`fer_core.taxonomy` label-set name; labels and relabels are checked against it.
        reviews_per_item
            Distinct reviewers an item needs before it leaves the queue (2+ for agreement).

        Returns
        -------
        int
            The new batch's id.

        Raises
        ------
        StoreError
            If a batch of that name exists.
        """
        try:
            with self._write() as conn:
                return _batches.create_batch(
                    conn,
                    name,
                    items,
                    run=run,
                    pool=pool,
                    label_set=label_set,
                    reviews_per_item=reviews_per_item,
                    now=self.clock(),
                )
        except sa.exc.IntegrityError as exc:  # another process created the same name between our check and insert
            raise StoreError(MSG_BATCH_EXISTS.format(name=name)) from exc

    def list_batches(self) -> pd.DataFrame:
        """One row per batch: id, name, run, created, pool, label_set, reviews_per_item, num_items, num_done."""
        with self._read() as conn:
            return _batches.list_batches(conn)

    def batch_items(
        self, batch: int | str, *, done: bool | None = None, labels: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """A batch's items in queue order (``done``: only complete / only open items; ``labels``: proposed)."""
        with self._read() as conn:
            return _batches.batch_items(conn, _batches.batch_row(conn, batch), done, labels)

    # the review queue ------------------------------------------------------------------------------------------
    def claim_next(
        self,
        batch: int | str,
        reviewer: str,
        *,
        label: str | Sequence[str] | None = None,
        band: tuple[float, float] | None = None,
        below_threshold: bool | None = None,
        lease_s: float = DEFAULT_LEASE_S,
    ) -> Item | None:
        """Claim the next open item for ``reviewer`` for ``lease_s`` seconds, or None when none is left.

        Open means: fewer live reviews than the batch needs, not decided by this reviewer, not under another
        reviewer's live lease, and matching the filters (proposed ``label``; confidence in ``band`` = (lo, hi),
        inclusive; ``below_threshold`` True/False for items under/over their class threshold). A reviewer who
        already holds a matching item gets it back with a renewed lease; a held item that no longer matches the
        filters is released (one claim per reviewer and batch).
        """
        filt = _queue.QueueFilter.of(label, band, below_threshold)
        with self._write() as conn:
            return _queue.claim_next(conn, batch, reviewer, filt, lease_s, self.clock())

    def release(self, batch: int | str, reviewer: str) -> int:
        """Give back ``reviewer``'s claim in a batch (e.g. leaving the queue); returns how many were released."""
        with self._write() as conn:
            return _queue.release(conn, _batches.batch_row(conn, batch).id, reviewer)

    def decide(self, item_id: int, reviewer: str, decision: str, new_label: str | None = None) -> Review:
        """Record a decision (``accept``, ``reject``, or ``relabel`` with ``new_label``) and release the claim.

        Idempotent: the same reviewer submitting the same decision again gets the recorded review back. Raises
        StoreError if the reviewer already decided the item differently (undo first), if the item has all the
        reviews it needs, or if another reviewer holds it now (the caller's lease expired).
        """
        with self._write() as conn:
            return _queue.decide(conn, int(item_id), reviewer, decision, new_label, self.clock())

    def undo_last(self, batch: int | str, reviewer: str, *, lease_s: float = DEFAULT_LEASE_S) -> Item | None:
        """Undo ``reviewer``'s latest live decision in the batch (kept, marked undone) and claim that item for
        them again; returns the item, or None when there is nothing to undo."""
        with self._write() as conn:
            return _queue.undo_last(conn, batch, reviewer, lease_s, self.clock())

    # reports ---------------------------------------------------------------------------------------------------
    def reviews(self, batch: int | str, *, include_undone: bool = False) -> pd.DataFrame:
        """The batch's reviews, oldest first, with each review's final label (see :mod:`._reports`)."""
        with self._read() as conn:
            return _reports.review_frame(conn, _batches.batch_row(conn, batch), include_undone)

    def progress(self, batch: int | str, *, window_min: float = 10.0) -> Progress:
        """Items, completed items, live reviews and claims, and decisions per minute over the last
        ``window_min`` minutes (overall and per reviewer)."""
        if not window_min > 0:
            raise ValueError(f"window_min must be > 0, got {window_min!r}")
        with self._read() as conn:
            return _reports.progress(conn, batch, 60.0 * window_min, self.clock())

    def agreement(self, batch: int | str) -> pd.DataFrame:
        """Cohen's kappa between each pair of reviewers on the items both decided."""
        with self._read() as conn:
            return _reports.agreement(conn, batch)

    def consensus(self, batch: int | str, *, min_reviews: int | None = None) -> pd.DataFrame:
        """Each sufficiently reviewed item's consensus label (majority; ties: earliest decision)."""
        with self._read() as conn:
            row = _batches.batch_row(conn, batch)
            return _reports.consensus(conn, row, row.reviews_per_item if min_reviews is None else min_reviews)

    def export_manifest(
        self, batch: int | str, out_path: str | Path, *, min_reviews: int | None = None, root: str | Path | None = None
    ) -> Path:
        """Write the batch's reviewed labels as a manifest CSV (``source`` = ``review:<batch>``) and return it.

        Items with fewer than ``min_reviews`` live reviews (default: the batch's ``reviews_per_item``) and items
        whose consensus is a rejection are left out. With ``root``, image paths are checked to exist under it.
        """
        with self._read() as conn:
            row = _batches.batch_row(conn, batch)
            frame = _reports.consensus(conn, row, row.reviews_per_item if min_reviews is None else min_reviews)
        return write_manifest(frame, row.name, row.label_set, out_path, root)
