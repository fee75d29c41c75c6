"""What the reviews add up to: progress, inter-annotator agreement, and the consensus labels of a batch.

Final label of one review: the proposed label if accepted, the new label if relabelled, ``"rejected"`` if
rejected (a category of its own, so "accept" against "reject" is a disagreement in kappa, not a missing value).

Consensus of an item with several reviews: the final label with most votes; a tie goes to the tied label that was
decided first. An item whose consensus is ``"rejected"`` has no trusted label and is left out of exports.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ._batches import batch_row
from ._records import REJECTED, Progress, final_label
from ._schema import DECISIONS, items, reviews

__all__ = ["review_frame", "progress", "agreement", "consensus", "accepted", "REVIEW_COLUMNS", "BY_REVIEWER_COLUMNS"]

REVIEW_COLUMNS: tuple[str, ...] = (
    "id",
    "item_id",
    "path",
    "label",
    "reviewer",
    "decision",
    "new_label",
    "final_label",
    "created",
    "undone",
)
BY_REVIEWER_COLUMNS: tuple[str, ...] = ("reviewer", "reviews", *DECISIONS, "per_minute", "last")


def review_frame(conn: sa.Connection, batch: sa.Row, include_undone: bool = False) -> pd.DataFrame:
    """Every review of a batch, oldest first, with the proposed label and each review's final label."""
    query = (
        sa.select(
            reviews.c.id,
            reviews.c.item_id,
            items.c.path,
            items.c.label,
            reviews.c.reviewer,
            reviews.c.decision,
            reviews.c.new_label,
            reviews.c.created,
            reviews.c.undone,
        )
        .join(items, items.c.id == reviews.c.item_id)
        .where(items.c.batch_id == batch.id)
        .order_by(reviews.c.created, reviews.c.id)
    )
    if not include_undone:
        query = query.where(reviews.c.undone == sa.false())
    rows = [dict(r) for r in conn.execute(query).mappings()]
    for r in rows:
        r["final_label"] = final_label(r["decision"], r["label"], r["new_label"])
    return pd.DataFrame(rows, columns=list(REVIEW_COLUMNS))


def progress(conn: sa.Connection, batch: int | str, window_s: float, now: float) -> Progress:
    """Counts of a batch and its decision rate over the last ``window_s`` seconds, overall and per reviewer."""
    row = batch_row(conn, batch)
    counts = conn.execute(
        sa.select(
            sa.func.count(items.c.id),
            sa.func.coalesce(sa.func.sum(sa.case((items.c.num_reviews >= row.reviews_per_item, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((items.c.claim_expires > now, 1), else_=0)), 0),
        ).where(items.c.batch_id == row.id)
    ).one()
    revs = review_frame(conn, row)
    recent = revs["created"] > now - window_s
    return Progress(
        batch=row.name,
        num_items=int(counts[0]),
        num_done=int(counts[1]),
        num_reviews=len(revs),
        num_claimed=int(counts[2]),
        per_minute=rate_per_minute(revs.loc[recent, "created"], now),
        window_s=float(window_s),
        by_reviewer=_by_reviewer(revs, recent, now),
        reviews_per_item=int(row.reviews_per_item),
    )


#: the shortest time a rate is measured over: one decision a second ago is not 60 per minute
MIN_RATE_SPAN_S = 10.0


def rate_per_minute(created: pd.Series, now: float) -> float:
    """Decisions per minute over the real time they took: from the first of them until now (at least
    ``MIN_RATE_SPAN_S``), so 10 decisions in 30 s read 20 per minute, and the rate falls while nobody works."""
    if created.empty:
        return 0.0
    span = max(now - float(created.min()), MIN_RATE_SPAN_S)
    return len(created) / span * 60.0


def _by_reviewer(revs: pd.DataFrame, recent: pd.Series, now: float) -> pd.DataFrame:
    if revs.empty:
        return pd.DataFrame(columns=list(BY_REVIEWER_COLUMNS))
    table = pd.crosstab(revs["reviewer"], revs["decision"]).reindex(columns=list(DECISIONS), fill_value=0)
    table["reviews"] = table.sum(axis=1)
    rates = revs.loc[recent].groupby("reviewer")["created"].apply(lambda c: rate_per_minute(c, now))
    table["per_minute"] = rates.reindex(table.index).fillna(0.0)
    table["last"] = revs.groupby("reviewer")["created"].max()
    return table.rename_axis(columns=None).reset_index()[list(BY_REVIEWER_COLUMNS)]


def agreement(conn: sa.Connection, batch: int | str) -> pd.DataFrame:
    """Cohen's kappa for every pair of reviewers over the items both decided (final labels, see module doc).

    Columns: reviewer_a, reviewer_b, num_items, agree (fraction of equal labels), kappa. kappa is NaN where it
    is undefined (both reviewers gave one and the same label throughout).
    """
    from sklearn.metrics import cohen_kappa_score  # lazy: sklearn.metrics takes a second to import

    revs = review_frame(conn, batch_row(conn, batch))
    table = revs.pivot(index="item_id", columns="reviewer", values="final_label")
    out = []
    for a, b in combinations(sorted(table.columns), 2):
        both = table[[a, b]].dropna()
        if both.empty:
            continue
        defined = len(set(both[a]) | set(both[b])) > 1  # one label throughout: chance agreement is 1, 0/0
        kappa = cohen_kappa_score(both[a], both[b]) if defined else np.nan
        out.append(
            {
                "reviewer_a": a,
                "reviewer_b": b,
                "num_items": len(both),
                "agree": float((both[a] == both[b]).mean()),
                "kappa": float(kappa),
            }
        )
    return pd.DataFrame(out, columns=["reviewer_a", "reviewer_b", "num_items", "agree", "kappa"])


def _vote(final_labels: list[str]) -> tuple[str, int]:
    """Majority of the labels (given oldest first); ties go to the label decided first."""
    votes = Counter(final_labels)
    top = max(votes.values())
    winner = next(label for label in final_labels if votes[label] == top)
    return winner, top


def consensus(conn: sa.Connection, batch: sa.Row, min_reviews: int) -> pd.DataFrame:
    """One row per item with at least ``min_reviews`` live reviews: the consensus label and its support.

    Columns: item_id, path, proposed_label, label, votes, num_reviews, reviewers, confidence, true_label.
    ``label`` is ``"rejected"`` when the reviewers threw the proposal out.
    """
    revs = review_frame(conn, batch)
    extra = pd.DataFrame(
        [
            dict(r)
            for r in conn.execute(
                sa.select(items.c.id.label("item_id"), items.c.confidence, items.c.true_label).where(
                    items.c.batch_id == batch.id
                )
            ).mappings()
        ],
        columns=["item_id", "confidence", "true_label"],
    )
    rows = []
    for item_id, group in revs.groupby("item_id", sort=True):
        if len(group) < min_reviews:
            continue
        label, votes = _vote(list(group["final_label"]))
        rows.append(
            {
                "item_id": item_id,
                "path": group["path"].iat[0],
                "proposed_label": group["label"].iat[0],
                "label": label,
                "votes": votes,
                "num_reviews": len(group),
                "reviewers": ",".join(group["reviewer"]),
            }
        )
    frame = pd.DataFrame(
        rows, columns=["item_id", "path", "proposed_label", "label", "votes", "num_reviews", "reviewers"]
    )
    return frame.merge(extra, on="item_id", how="left")


def accepted(frame: pd.DataFrame) -> pd.DataFrame:
    """The consensus rows that carry a label (rejected items left out)."""
    return frame[frame["label"] != REJECTED].reset_index(drop=True)
