"""The tables of the review store (current schema, version :data:`SCHEMA_VERSION`).

Times are seconds since the epoch (UTC) stored as doubles: the same comparisons and arithmetic on SQLite and
PostgreSQL, and an injectable clock for tests. A review is never deleted: undo marks it ``undone``, so the
audit trail keeps every decision ever made; a partial unique index allows one live review per (item, reviewer).
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["SCHEMA_VERSION", "DECISIONS", "metadata", "runs", "batches", "items", "reviews", "schema_version"]

#: Bump when the tables change, and add the upgrade step to ``_migrations.UPGRADES``.
SCHEMA_VERSION = 1
DECISIONS: tuple[str, ...] = ("accept", "reject", "relabel")

metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied", sa.Double, nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String, nullable=False, unique=True),
    sa.Column("path", sa.String),
    sa.Column("recipe", sa.String),
    sa.Column("created", sa.Double, nullable=False),
)

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String, nullable=False, unique=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="SET NULL")),
    sa.Column("created", sa.Double, nullable=False),
    sa.Column("pool", sa.String, nullable=False, server_default=""),  # what the unlabeled faces are
    sa.Column("label_set", sa.String),  # a fer_core.taxonomy name: labels are checked against it when set
    sa.Column("reviews_per_item", sa.Integer, nullable=False, server_default="1"),
    sa.CheckConstraint("reviews_per_item >= 1", name="ck_batches_reviews_per_item"),
)

items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id", ondelete="CASCADE"), nullable=False),
    sa.Column("path", sa.String, nullable=False),
    sa.Column("label", sa.String, nullable=False),  # the proposed pseudo-label
    sa.Column("probs", sa.JSON),  # {label: probability}
    sa.Column("confidence", sa.Double),  # max probability (kept as a column so queues can filter on it)
    sa.Column("threshold", sa.Double),  # the class threshold in force when the label was proposed
    sa.Column("above_threshold", sa.Boolean),
    sa.Column("true_label", sa.String),  # known truth (e.g. SynthFACS), for pseudo-label precision
    sa.Column("claimed_by", sa.String),
    sa.Column("claim_expires", sa.Double),
    sa.Column("num_reviews", sa.Integer, nullable=False, server_default="0"),  # live (not undone) reviews
    sa.Index("ix_items_claim", "batch_id", "claimed_by"),
)
# queue order (see _queue.QUEUE_ORDER): the next item is found by walking this index, never by sorting the batch
sa.Index("ix_items_queue", items.c.batch_id, items.c.num_reviews.desc(), items.c.id)

reviews = sa.Table(
    "reviews",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    sa.Column("reviewer", sa.String, nullable=False),
    sa.Column("decision", sa.String, nullable=False),
    sa.Column("new_label", sa.String),
    sa.Column("created", sa.Double, nullable=False),
    sa.Column("undone", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("undone_at", sa.Double),
    sa.CheckConstraint("decision IN ('accept', 'reject', 'relabel')", name="ck_reviews_decision"),
    sa.CheckConstraint("(decision = 'relabel') = (new_label IS NOT NULL)", name="ck_reviews_new_label"),
    sa.Index("ix_reviews_reviewer", "reviewer", "created"),
)

_live = reviews.c.undone == sa.false()
sa.Index(
    "uq_reviews_live", reviews.c.item_id, reviews.c.reviewer, unique=True, sqlite_where=_live, postgresql_where=_live
)
