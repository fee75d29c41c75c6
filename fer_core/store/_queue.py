"""The review queue: claim an item under a lease, decide it, undo the last decision.

Each function runs inside the caller's write transaction (``BEGIN IMMEDIATE`` on SQLite, so writers queue). A
claim is a conditional UPDATE whose WHERE repeats the "free" test and whose row count is checked, so two
reviewers can never hold the same item even where transactions do interleave (PostgreSQL under READ COMMITTED
re-checks the WHERE after waiting for the row; candidates are picked with ``FOR UPDATE SKIP LOCKED`` so
reviewers do not queue behind each other's rows). A reviewer holds at most one claim per batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from ..errors import StoreError
from ._batches import batch_row, check_label
from ._records import (
    MSG_CHANGED_MIND,
    MSG_CLAIMED,
    MSG_COMPLETE,
    MSG_DECISION,
    MSG_NEW_LABEL,
    MSG_UNKNOWN_ITEM,
    Item,
    Review,
)
from ._schema import DECISIONS, batches, items, reviews

__all__ = ["QueueFilter", "claim_next", "release", "decide", "undo_last"]

#: Items that other reviewers started come first (so double-reviewed items are completed early), then batch order.
QUEUE_ORDER = (items.c.num_reviews.desc(), items.c.id)
_MAX_TRIES = 20  # conditional-update retries before giving up on a busy queue (never reached on SQLite)


@dataclass(frozen=True)
class QueueFilter:
    """Which open items a reviewer wants: proposed label(s), a confidence band, below/above the class threshold."""

    labels: tuple[str, ...] | None = None
    band: tuple[float, float] | None = None  # (lo, hi), inclusive
    below_threshold: bool | None = None

    @classmethod
    def of(
        cls, label: str | Sequence[str] | None, band: tuple[float, float] | None, below_threshold: bool | None
    ) -> QueueFilter:
        labels = None if label is None else ((label,) if isinstance(label, str) else tuple(label))
        if band is not None:
            lo, hi = (float(v) for v in band)
            if not 0.0 <= lo <= hi <= 1.0:
                raise ValueError(f"band must be (lo, hi) with 0 <= lo <= hi <= 1, got {band!r}")
            band = (lo, hi)
        return cls(labels, band, below_threshold)

    def where(self) -> list[sa.ColumnElement[bool]]:
        clauses: list[sa.ColumnElement[bool]] = []
        if self.labels is not None:
            clauses.append(items.c.label.in_(self.labels))
        if self.band is not None:
            clauses.append(items.c.confidence.between(*self.band))
        if self.below_threshold is not None:
            clauses.append(items.c.above_threshold == (not self.below_threshold))
        return clauses


def _open_for(reviewer: str, needed: int, now: float) -> list[sa.ColumnElement[bool]]:
    """Items that still need a review, that ``reviewer`` has not decided, and that nobody else holds."""
    decided = sa.exists().where(
        reviews.c.item_id == items.c.id, reviews.c.reviewer == reviewer, reviews.c.undone == sa.false()
    )
    free = sa.or_(items.c.claimed_by.is_(None), items.c.claim_expires <= now, items.c.claimed_by == reviewer)
    return [items.c.num_reviews < needed, sa.not_(decided), free]


def _check_reviewer(reviewer: str) -> str:
    if not isinstance(reviewer, str) or not reviewer.strip():
        raise ValueError(f"reviewer must be a non-empty string, got {reviewer!r}")
    return reviewer


def _check_lease(lease_s: float) -> float:
    if not lease_s > 0:
        raise ValueError(f"lease_s must be > 0, got {lease_s!r}")
    return float(lease_s)


def _item(conn: sa.Connection, item_id: int) -> Item:
    return Item.from_row(conn.execute(sa.select(items).where(items.c.id == item_id)).mappings().one())


def release(conn: sa.Connection, batch_id: int, reviewer: str, keep: int | None = None) -> int:
    """Drop ``reviewer``'s claims in a batch (except item ``keep``); returns how many were dropped."""
    query = items.update().where(items.c.batch_id == batch_id, items.c.claimed_by == reviewer)
    if keep is not None:
        query = query.where(items.c.id != keep)
    return conn.execute(query.values(claimed_by=None, claim_expires=None)).rowcount


def claim_next(
    conn: sa.Connection, batch: int | str, reviewer: str, filt: QueueFilter, lease_s: float, now: float
) -> Item | None:
    """Claim the first open item (:data:`QUEUE_ORDER`) matching ``filt``, or hand back the one ``reviewer`` holds."""
    _check_reviewer(reviewer)
    lease_s = _check_lease(lease_s)
    row = batch_row(conn, batch)
    base = [items.c.batch_id == row.id, *_open_for(reviewer, row.reviews_per_item, now), *filt.where()]
    held = conn.execute(
        sa.select(items.c.id).where(*base, items.c.claimed_by == reviewer, items.c.claim_expires > now).limit(1)
    ).scalar()
    release(conn, row.id, reviewer, keep=held)  # one claim per reviewer: a held item outside the filter goes back
    candidates = [held] if held is not None else []
    for _ in range(_MAX_TRIES):
        if not candidates:
            candidates = (
                conn.execute(
                    sa.select(items.c.id).where(*base).order_by(*QUEUE_ORDER).limit(1).with_for_update(skip_locked=True)
                )
                .scalars()
                .all()
            )
        if not candidates:
            return None
        item_id = candidates.pop()
        claimed = conn.execute(
            items.update().where(items.c.id == item_id, *base).values(claimed_by=reviewer, claim_expires=now + lease_s)
        ).rowcount
        if claimed == 1:
            return _item(conn, item_id)
    raise StoreError(f"could not claim an item of batch {row.name!r} after {_MAX_TRIES} tries; try again")


def _check_decision(decision: str, new_label: str | None, label_set: str | None) -> None:
    if decision not in DECISIONS:
        raise ValueError(MSG_DECISION.format(allowed=", ".join(DECISIONS), decision=decision))
    if (decision == "relabel") != (new_label is not None):
        raise ValueError(MSG_NEW_LABEL.format(decision=decision, new_label=new_label))
    if new_label is not None:
        check_label(new_label, label_set)


def decide(
    conn: sa.Connection, item_id: int, reviewer: str, decision: str, new_label: str | None, now: float
) -> Review:
    """Record ``reviewer``'s decision on an item and release the claim.

    Submitting the same decision twice returns the first review (no second row); a different decision on an
    item the reviewer already decided raises (undo first). A decision is refused if the item is complete or if
    another reviewer holds it under a live lease (the caller's own lease ran out and the item moved on).
    """
    row = conn.execute(
        sa.select(
            items.c.id,
            items.c.claimed_by,
            items.c.claim_expires,
            items.c.num_reviews,
            batches.c.reviews_per_item,
            batches.c.label_set,
        )
        .join(batches, batches.c.id == items.c.batch_id)
        .where(items.c.id == item_id)
        .with_for_update(of=items)
    ).first()
    if row is None:
        raise StoreError(MSG_UNKNOWN_ITEM.format(item_id=item_id))
    _check_reviewer(reviewer)
    _check_decision(decision, new_label, row.label_set)
    existing = (
        conn.execute(
            sa.select(reviews).where(
                reviews.c.item_id == item_id, reviews.c.reviewer == reviewer, reviews.c.undone == sa.false()
            )
        )
        .mappings()
        .first()
    )
    if existing is not None:
        if (existing["decision"], existing["new_label"]) == (decision, new_label):
            return Review.from_row(existing)  # a double submission: the decision is already recorded
        raise StoreError(MSG_CHANGED_MIND.format(reviewer=reviewer, item_id=item_id, existing=existing["decision"]))
    if row.num_reviews >= row.reviews_per_item:
        raise StoreError(MSG_COMPLETE.format(item_id=item_id, needed=row.reviews_per_item))
    if row.claimed_by not in (None, reviewer) and row.claim_expires > now:
        raise StoreError(MSG_CLAIMED.format(item_id=item_id, holder=row.claimed_by))
    review_id = conn.execute(
        reviews.insert()
        .values(item_id=item_id, reviewer=reviewer, decision=decision, new_label=new_label, created=now)
        .returning(reviews.c.id)
    ).scalar_one()
    # the claim goes whoever held it: an expired lease of another reviewer is void once the item is decided
    conn.execute(
        items.update()
        .where(items.c.id == item_id)
        .values(num_reviews=items.c.num_reviews + 1, claimed_by=None, claim_expires=None)
    )
    return Review(review_id, item_id, reviewer, decision, new_label, now, False)


def undo_last(conn: sa.Connection, batch: int | str, reviewer: str, lease_s: float, now: float) -> Item | None:
    """Mark ``reviewer``'s latest live decision in the batch undone and give them the item back under a new
    lease (unless another reviewer holds it now). Returns that item, or None when there is nothing to undo."""
    lease_s = _check_lease(lease_s)
    row = batch_row(conn, batch)
    last = conn.execute(
        sa.select(reviews.c.id, reviews.c.item_id)
        .join(items, items.c.id == reviews.c.item_id)
        .where(items.c.batch_id == row.id, reviews.c.reviewer == reviewer, reviews.c.undone == sa.false())
        .order_by(reviews.c.created.desc(), reviews.c.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return None
    item = conn.execute(
        sa.select(items.c.claimed_by, items.c.claim_expires).where(items.c.id == last.item_id).with_for_update()
    ).one()
    done = conn.execute(
        reviews.update()
        .where(reviews.c.id == last.id, reviews.c.undone == sa.false())
        .values(undone=True, undone_at=now)
    ).rowcount
    if done != 1:  # a concurrent undo of the same review won (PostgreSQL); nothing left for us to do
        return None
    values: dict = {"num_reviews": items.c.num_reviews - 1}
    if item.claimed_by is None or item.claimed_by == reviewer or item.claim_expires <= now:
        release(conn, row.id, reviewer, keep=last.item_id)
        values.update(claimed_by=reviewer, claim_expires=now + lease_s)
    conn.execute(items.update().where(items.c.id == last.item_id).values(**values))
    return _item(conn, last.item_id)
