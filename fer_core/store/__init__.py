"""The pseudo-label review store: runs index, pseudo-label batches, a review queue for several annotators, and the
reviewed labels exported as a manifest.

SQLite by default (one file, WAL; ``$FER_CORE_DB`` or ``Store.open(url)`` for any SQLAlchemy URL, e.g. a
PostgreSQL server for a team). Two annotators on one queue never get the same item (claims under a lease), never
lose or duplicate a decision (one transaction each, one live review per item and reviewer), and a crash loses
nothing that was committed.
"""

from __future__ import annotations

from ..errors import StoreError
from ._engine import DB_ENV, default_db_path, resolve_url
from ._export import MANIFEST_COLUMNS
from ._migrations import UPGRADES
from ._records import REJECTED, Item, Progress, Review, final_label
from ._schema import DECISIONS, SCHEMA_VERSION
from ._store import DEFAULT_LEASE_S, Store

__all__ = [
    "DB_ENV",
    "DECISIONS",
    "DEFAULT_LEASE_S",
    "Item",
    "MANIFEST_COLUMNS",
    "Progress",
    "REJECTED",
    "Review",
    "SCHEMA_VERSION",
    "Store",
    "StoreError",
    "UPGRADES",
    "default_db_path",
    "final_label",
    "resolve_url",
]
