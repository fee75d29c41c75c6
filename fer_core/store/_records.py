"""What the store hands back: plain dataclasses (never rows or cursors), and the message templates of its errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = [
    "Item",
    "Review",
    "Progress",
    "REJECTED",
    "final_label",
    "MSG_UNKNOWN_BATCH",
    "MSG_UNKNOWN_RUN",
    "MSG_BATCH_EXISTS",
    "MSG_RUN_EXISTS",
    "MSG_DECISION",
    "MSG_NEW_LABEL",
    "MSG_UNKNOWN_LABEL",
    "MSG_UNKNOWN_ITEM",
    "MSG_CLAIMED",
    "MSG_COMPLETE",
    "MSG_CHANGED_MIND",
    "MSG_NO_ITEMS",
    "MSG_BAD_ITEM",
    "MSG_NOTHING_TO_EXPORT",
]

#: The final label of a rejected review: a category of its own, so accept-vs-reject counts as a disagreement.
REJECTED = "rejected"

MSG_UNKNOWN_BATCH = "no batch {batch!r} in the store; known batches: {known}"
MSG_UNKNOWN_RUN = "no run {run!r} in the store; add it first with add_run()"
MSG_BATCH_EXISTS = "a batch named {name!r} already exists; pick another name"
MSG_RUN_EXISTS = "a run named {name!r} is already registered with path {path!r}"
MSG_DECISION = "decision must be one of {allowed}, got {decision!r}"
MSG_NEW_LABEL = "new_label is required for 'relabel' and not allowed for {decision!r}, got {new_label!r}"
MSG_UNKNOWN_LABEL = "label {label!r} is not in label set {label_set!r}: {known}"
MSG_UNKNOWN_ITEM = "no item {item_id} in the store"
MSG_CLAIMED = (
    "item {item_id} is claimed by {holder!r} (your claim on it expired); your decision was not recorded: "
    "claim the next item"
)
MSG_COMPLETE = (
    "item {item_id} already has the {needed} review(s) it needs; your decision was not recorded: claim the next item"
)
MSG_CHANGED_MIND = "{reviewer!r} already decided item {item_id} ({existing}); undo that decision before deciding again"
MSG_NO_ITEMS = "a batch needs at least one item"
MSG_BAD_ITEM = "item {index}: {problem}"
MSG_NOTHING_TO_EXPORT = "batch {batch!r} has no reviewed item with a label to export (reviewed: {reviewed})"


def final_label(decision: str, proposed: str, new_label: str | None) -> str:
    """The label a review settles on: the proposal if accepted, the new label if relabelled, ``REJECTED`` else."""
    return {"accept": proposed, "relabel": new_label, "reject": REJECTED}[decision]


@dataclass(frozen=True)
class Item:
    """One pseudo-labelled face in a batch, as the review queue shows it."""

    id: int
    batch_id: int
    path: str
    label: str
    probs: Mapping[str, float] | None
    confidence: float | None
    threshold: float | None
    above_threshold: bool | None
    true_label: str | None
    claimed_by: str | None
    claim_expires: float | None
    num_reviews: int

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Item:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Review:
    """One reviewer's decision on one item."""

    id: int
    item_id: int
    reviewer: str
    decision: str
    new_label: str | None
    created: float
    undone: bool

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Review:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Progress:
    """Where a batch stands. ``per_minute``: live decisions of the last ``window_s`` seconds over the real time they
    took (from the first of them until now); an item is done with ``reviews_per_item`` reviews."""

    batch: str
    num_items: int
    num_done: int  # items with all the reviews they need
    num_reviews: int  # live decisions
    num_claimed: int  # items under a live lease now
    per_minute: float
    window_s: float
    by_reviewer: pd.DataFrame  # reviewer, reviews, accept, reject, relabel, per_minute, last
    reviews_per_item: int = 1

    @property
    def num_needed(self) -> int:
        """Decisions the whole batch needs (every item ``reviews_per_item`` times)."""
        return self.num_items * self.reviews_per_item

    @property
    def num_open(self) -> int:
        return self.num_items - self.num_done
