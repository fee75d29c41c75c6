"""Schema versions: create a new database at the current version, upgrade an old one step by step.

A new database gets the tables of :mod:`._schema` and is stamped with :data:`SCHEMA_VERSION`. An existing one at
version ``v`` runs ``UPGRADES[v - 1:]`` in order, the upgrade step to version ``v + 1`` first. Everything happens
in one transaction (SQLite and PostgreSQL both have transactional DDL), so a failing step leaves the database as
it was. A database newer than this code is refused: guessing at a schema we do not know could corrupt it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa

from ..errors import StoreError
from . import _schema
from ._schema import schema_version

__all__ = ["UPGRADES", "MSG_TOO_NEW", "MSG_UPGRADE_FAILED", "current_version", "migrate"]

logger = logging.getLogger(__name__)

#: ``UPGRADES[i]`` turns a version ``i + 1`` database into version ``i + 2``. Append; never edit a released step.
UPGRADES: list[Callable[[sa.Connection], None]] = []

_LOCK_KEY = 0x4645525354  # 'FERST': any constant that other applications on the server do not use

MSG_TOO_NEW = (
    "the store at {url} has schema version {found}, newer than this fer_core knows ({known}); "
    "upgrade fer_core, or point FER_CORE_DB at another database"
)
MSG_UPGRADE_FAILED = "upgrading the store at {url} from schema version {version} failed (nothing was changed): {error}"


def current_version(conn: sa.Connection) -> int | None:
    """The database's schema version, or None for a database without our tables."""
    if not sa.inspect(conn).has_table(schema_version.name):
        return None
    return conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar()


def migrate(engine: sa.Engine, now: float) -> int:
    """Bring the database to :data:`SCHEMA_VERSION` (in one transaction) and return the version it had before (0
    for a new database)."""
    target = _schema.SCHEMA_VERSION
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # two processes opening a new database: one creates, one waits
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        found = current_version(conn)
        if found is None:
            _schema.metadata.create_all(conn)
            conn.execute(schema_version.insert(), {"version": target, "applied": now})
            return 0
        if found > target:
            raise StoreError(MSG_TOO_NEW.format(url=_safe(engine), found=found, known=target))
        for version in range(found, target):
            step = UPGRADES[version - 1]
            logger.info("store: upgrading schema %d -> %d (%s)", version, version + 1, step.__name__)
            try:
                step(conn)
            except Exception as exc:
                raise StoreError(MSG_UPGRADE_FAILED.format(url=_safe(engine), version=found, error=exc)) from exc
            conn.execute(schema_version.insert(), {"version": version + 1, "applied": now})
        return found


def _safe(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=True)
