"""The runs index and pseudo-label batches: registering runs, creating batches in bulk, listing them."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import sqlalchemy as sa

from ..errors import StoreError
from ..taxonomy import LABEL_SETS
from ._records import (
    MSG_BAD_ITEM,
    MSG_BATCH_EXISTS,
    MSG_NO_ITEMS,
    MSG_RUN_EXISTS,
    MSG_UNKNOWN_BATCH,
    MSG_UNKNOWN_LABEL,
    MSG_UNKNOWN_RUN,
)
from ._schema import batches, items, runs

__all__ = [
    "add_run",
    "list_runs",
    "run_id",
    "create_batch",
    "batch_row",
    "list_batches",
    "batch_items",
    "check_label",
    "ITEM_COLUMNS",
]

ITEM_COLUMNS: tuple[str, ...] = (
    "id",
    "path",
    "label",
    "probs",
    "confidence",
    "threshold",
    "above_threshold",
    "true_label",
    "claimed_by",
    "claim_expires",
    "num_reviews",
)
_INSERT_CHUNK = 5_000  # rows per executemany: bounded memory for pools of millions


def add_run(conn: sa.Connection, name: str, path: str | None, recipe: str | None, now: float) -> int:
    """Register a training run by name; registering the same name and path again returns the same id."""
    row = conn.execute(sa.select(runs.c.id, runs.c.path).where(runs.c.name == name)).first()
    if row is not None:
        if row.path != path:
            raise StoreError(MSG_RUN_EXISTS.format(name=name, path=row.path))
        return row.id
    return conn.execute(
        runs.insert().values(name=name, path=path, recipe=recipe, created=now).returning(runs.c.id)
    ).scalar_one()


def list_runs(conn: sa.Connection) -> pd.DataFrame:
    return _frame(conn.execute(sa.select(runs).order_by(runs.c.id)), ["id", "name", "path", "recipe", "created"])


def _id_or_name(key: Any) -> int | str:
    """An id (any integer type, e.g. from a DataFrame) or a name."""
    if isinstance(key, numbers.Integral) and not isinstance(key, bool):
        return int(key)
    if isinstance(key, str):
        return key
    raise TypeError(f"expected an id (int) or a name (str), got {key!r}")


def run_id(conn: sa.Connection, run: int | str) -> int:
    """The id of a run given by id or name."""
    key = _id_or_name(run)
    col = runs.c.id if isinstance(key, int) else runs.c.name
    found = conn.execute(sa.select(runs.c.id).where(col == key)).scalar()
    if found is None:
        raise StoreError(MSG_UNKNOWN_RUN.format(run=run))
    return found


def batch_row(conn: sa.Connection, batch: int | str) -> sa.Row:
    """A batch given by id or name (the whole row)."""
    key = _id_or_name(batch)
    col = batches.c.id if isinstance(key, int) else batches.c.name
    row = conn.execute(sa.select(batches).where(col == key)).first()
    if row is None:
        known = conn.execute(sa.select(batches.c.name).order_by(batches.c.id)).scalars().all()
        raise StoreError(MSG_UNKNOWN_BATCH.format(batch=batch, known=", ".join(known) or "none"))
    return row


def check_label(label: Any, label_set: str | None) -> str:
    if not isinstance(label, str) or not label:
        raise ValueError(f"a label must be a non-empty string, got {label!r}")
    if label_set is not None and label not in LABEL_SETS[label_set]:
        raise ValueError(
            MSG_UNKNOWN_LABEL.format(label=label, label_set=label_set, known=", ".join(LABEL_SETS[label_set]))
        )
    return label


def _missing(value: Any) -> bool:
    """None, NaN or "" (what an empty cell of a DataFrame or CSV becomes)."""
    return value is None or (isinstance(value, float) and math.isnan(value)) or (isinstance(value, str) and not value)


def _unit(name: str, value: Any) -> float | None:
    if _missing(value):
        return None
    v = float(value)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}")
    return v


def _probs(value: Any, label_set: str | None) -> dict[str, float] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return {str(k): _unit(f"probs[{k!r}]", p) for k, p in value.items()}
    if label_set is None:
        raise ValueError(
            "probs given as a sequence need the batch's label_set to name the classes; "
            "pass a {label: probability} mapping instead"
        )
    labels = LABEL_SETS[label_set]
    if len(value) != len(labels):
        raise ValueError(f"probs has {len(value)} values, label set {label_set!r} has {len(labels)} classes")
    return {label: _unit(f"probs[{label!r}]", p) for label, p in zip(labels, value)}


def _item_row(raw: Mapping[str, Any], batch_id: int, label_set: str | None) -> dict[str, Any]:
    """Validate one item (a mapping with at least ``path`` and ``label``) and fill in what can be derived."""
    unknown = set(raw) - {"path", "label", "probs", "confidence", "threshold", "above_threshold", "true_label"}
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(sorted(unknown))}")
    raw = {key: None if _missing(value) else value for key, value in raw.items()}
    if not raw.get("path"):
        raise ValueError("path is required")
    probs = _probs(raw.get("probs"), label_set)
    confidence = _unit("confidence", raw.get("confidence"))
    if confidence is None and probs:
        confidence = max(probs.values())
    threshold = _unit("threshold", raw.get("threshold"))
    above = raw.get("above_threshold")
    if above is None and confidence is not None and threshold is not None:
        above = confidence >= threshold
    true_label = raw.get("true_label")
    true_label = None if true_label is None else check_label(true_label, label_set)
    return {
        "batch_id": batch_id,
        "path": str(raw["path"]),
        "label": check_label(raw.get("label"), label_set),
        "probs": probs,
        "confidence": confidence,
        "threshold": threshold,
        "above_threshold": None if above is None else bool(above),
        "true_label": true_label,
    }


def create_batch(
    conn: sa.Connection,
    name: str,
    rows: Iterable[Mapping[str, Any]],
    *,
    run: int | str | None,
    pool: str,
    label_set: str | None,
    reviews_per_item: int,
    now: float,
) -> int:
    """Insert a batch and all its items (validated first: a bad item inserts nothing)."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a batch name must be a non-empty string, got {name!r}")
    if isinstance(reviews_per_item, bool) or not isinstance(reviews_per_item, int) or reviews_per_item < 1:
        raise ValueError(f"reviews_per_item must be an int >= 1, got {reviews_per_item!r}")
    if label_set is not None and label_set not in LABEL_SETS:
        raise ValueError(f"unknown label set {label_set!r}; known: {', '.join(LABEL_SETS)}")
    if conn.execute(sa.select(batches.c.id).where(batches.c.name == name)).first() is not None:
        raise StoreError(MSG_BATCH_EXISTS.format(name=name))
    rid = None if run is None else run_id(conn, run)
    batch_id = conn.execute(
        batches.insert()
        .values(
            name=name,
            run_id=rid,
            created=now,
            pool=pool or "",
            label_set=label_set,
            reviews_per_item=reviews_per_item,
        )
        .returning(batches.c.id)
    ).scalar_one()
    records = rows.to_dict("records") if isinstance(rows, pd.DataFrame) else rows
    chunk: list[dict[str, Any]] = []
    count = 0
    for index, raw in enumerate(records):
        try:
            chunk.append(_item_row(raw, batch_id, label_set))
        except (ValueError, TypeError) as exc:
            raise ValueError(MSG_BAD_ITEM.format(index=index, problem=exc)) from exc
        if len(chunk) == _INSERT_CHUNK:
            conn.execute(items.insert(), chunk)
            count, chunk = count + len(chunk), []
    if chunk:
        conn.execute(items.insert(), chunk)
        count += len(chunk)
    if count == 0:
        raise ValueError(MSG_NO_ITEMS)
    return batch_id


def list_batches(conn: sa.Connection) -> pd.DataFrame:
    """One row per batch: id, name, run, created, pool, label_set, reviews_per_item, num_items, num_done."""
    done = sa.case((items.c.num_reviews >= batches.c.reviews_per_item, 1), else_=0)
    query = (
        sa.select(
            batches.c.id,
            batches.c.name,
            runs.c.name.label("run"),
            batches.c.created,
            batches.c.pool,
            batches.c.label_set,
            batches.c.reviews_per_item,
            sa.func.count(items.c.id).label("num_items"),
            sa.func.coalesce(sa.func.sum(done), 0).label("num_done"),
        )
        .select_from(
            batches.outerjoin(runs, runs.c.id == batches.c.run_id).outerjoin(items, items.c.batch_id == batches.c.id)
        )
        .group_by(batches.c.id, runs.c.name)
        .order_by(batches.c.id)
    )
    return _frame(
        conn.execute(query),
        ["id", "name", "run", "created", "pool", "label_set", "reviews_per_item", "num_items", "num_done"],
    )


def batch_items(conn: sa.Connection, batch: sa.Row, done: bool | None, labels: Sequence[str] | None) -> pd.DataFrame:
    """The items of a batch in queue order; ``done`` keeps only complete (True) or open (False) items."""
    query = sa.select(*(items.c[name] for name in ITEM_COLUMNS)).where(items.c.batch_id == batch.id)
    if done is not None:
        complete = items.c.num_reviews >= batch.reviews_per_item
        query = query.where(complete if done else sa.not_(complete))
    if labels is not None:
        query = query.where(items.c.label.in_(list(labels)))
    return _frame(conn.execute(query.order_by(items.c.id)), list(ITEM_COLUMNS))


def _frame(result: sa.Result, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([dict(row) for row in result.mappings()], columns=columns)
