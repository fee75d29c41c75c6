"""Where the store lives and how it is connected: URL resolution and an engine with the right SQLite settings.

SQLite is the default (one file, no server): every connection turns on WAL (readers never block the writer),
a busy timeout (a second process waits for the lock instead of failing) and foreign keys. Python's sqlite3 driver
only opens a transaction before the first write, so a claim's read-then-write would not be atomic and DDL would
run outside any transaction; the driver is therefore put in autocommit mode and every transaction starts with
``BEGIN IMMEDIATE`` (takes the write lock up front: two writers queue, they never interleave). Read-only
transactions start with a plain ``BEGIN`` so they never wait for a writer.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

__all__ = ["DB_ENV", "BUSY_TIMEOUT_MS", "READ_ONLY", "default_db_path", "resolve_url", "create_store_engine"]

DB_ENV = "FER_CORE_DB"
BUSY_TIMEOUT_MS = 30_000
#: Execution option that marks a connection's transactions as read-only (plain BEGIN on SQLite).
READ_ONLY = "fer_store_read_only"


def default_db_path() -> Path:
    """``<FER_CORE_CACHE or ~/.cache/fer_core>/store.sqlite``: next to the other caches of the project."""
    from ..data.sources import default_cache_dir  # lazy: fer_core.data imports torch

    return default_cache_dir() / "store.sqlite"


def resolve_url(url: str | Path | URL | None = None) -> URL:
    """The database URL: ``url`` if given, else ``$FER_CORE_DB``, else the default SQLite file.

    A value without ``://`` is a SQLite file path. ``postgresql://`` gets the psycopg (3) driver, which is the
    one installed, whatever SQLAlchemy's default for that scheme is.
    """
    raw = url if url is not None else (os.environ.get(DB_ENV) or None)
    if raw is None:
        raw = default_db_path()
    if isinstance(raw, Path) or (isinstance(raw, str) and "://" not in raw):
        return URL.create("sqlite", database=str(Path(raw).expanduser()))
    parsed = make_url(raw)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _is_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def create_store_engine(url: URL, echo: bool = False) -> sa.Engine:
    """An engine for ``url``; SQLite files get WAL, a busy timeout, foreign keys and explicit transactions."""
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, echo=echo, pool_pre_ping=True)
    if _is_memory(url):  # one shared connection, or every connection would see its own empty database
        engine = sa.create_engine(url, echo=echo, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        )
    sa.event.listen(engine, "connect", _configure_sqlite)
    sa.event.listen(engine, "begin", _begin_sqlite)
    return engine


def _configure_sqlite(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None  # autocommit in the driver: transactions are ours (see module docstring)
    cur = dbapi_conn.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA foreign_keys = ON")
    finally:
        cur.close()


def _begin_sqlite(conn: sa.Connection) -> None:
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")
