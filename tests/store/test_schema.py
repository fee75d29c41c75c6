"""Opening a store: where it lives, how SQLite is set up, and schema versions (create, upgrade, refuse newer)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fer_core.store import SCHEMA_VERSION, Store, StoreError, _migrations, _schema, resolve_url


def _version(store: Store) -> int:
    with store.engine.connect() as conn:
        return _migrations.current_version(conn)


def test_a_new_database_gets_every_table_and_the_current_version(store):
    tables = set(sa.inspect(store.engine).get_table_names())
    assert {"runs", "batches", "items", "reviews", "schema_version"} <= tables
    assert _version(store) == SCHEMA_VERSION


def test_reopening_keeps_the_data_and_the_version(db_url, clock):
    with Store.open(db_url, clock=clock) as first:
        first.create_batch("b", [{"path": "a.png", "label": "happy"}])
    with Store.open(db_url, clock=clock) as again:
        assert list(again.list_batches()["name"]) == ["b"]
        assert _version(again) == SCHEMA_VERSION


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path):
    with Store.open(tmp_path / "s.sqlite") as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000


def test_url_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv("FER_CORE_DB", raising=False)
    monkeypatch.setenv("FER_CORE_CACHE", str(tmp_path / "cache"))
    assert resolve_url().database == str(tmp_path / "cache" / "store.sqlite")  # the default file
    assert resolve_url(tmp_path / "x.sqlite").database == str(tmp_path / "x.sqlite")  # a plain path
    monkeypatch.setenv("FER_CORE_DB", "postgresql://ann@db.example/reviews")
    env = resolve_url()
    assert (env.drivername, env.host, env.database) == ("postgresql+psycopg", "db.example", "reviews")
    assert resolve_url("sqlite:///y.sqlite").database == "y.sqlite"  # the argument wins over the variable


def test_the_default_file_is_created_under_the_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("FER_CORE_DB", raising=False)
    monkeypatch.setenv("FER_CORE_CACHE", str(tmp_path / "cache"))
    with Store.open():
        pass
    assert (tmp_path / "cache" / "store.sqlite").is_file()


def _stamp(store: Store, version: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(_schema.schema_version.insert(), {"version": version, "applied": 0.0})


def test_a_newer_database_is_refused_with_a_clear_error(db_url, clock):
    with Store.open(db_url, clock=clock) as store:
        _stamp(store, SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}, newer than this fer_core knows"):
        Store.open(db_url, clock=clock)


def _add_note_column(conn: sa.Connection) -> None:
    conn.execute(sa.text("ALTER TABLE items ADD COLUMN note VARCHAR DEFAULT 'none'"))


def _add_column_then_fail(conn: sa.Connection) -> None:
    _add_note_column(conn)
    raise RuntimeError("step broke")


def test_an_old_database_is_upgraded_in_order_and_keeps_its_data(db_url, clock, monkeypatch):
    with Store.open(db_url, clock=clock) as store:
        store.create_batch("b", [{"path": "a.png", "label": "happy"}])
    monkeypatch.setattr(_schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setattr(_migrations, "UPGRADES", [*_migrations.UPGRADES, _add_note_column])
    with Store.open(db_url, clock=clock) as store:
        assert _version(store) == SCHEMA_VERSION + 1
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT path, note FROM items")).all() == [("a.png", "none")]


def test_a_failing_upgrade_changes_nothing(db_url, clock, monkeypatch):
    Store.open(db_url, clock=clock).close()
    monkeypatch.setattr(_schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setattr(_migrations, "UPGRADES", [*_migrations.UPGRADES, _add_column_then_fail])
    with pytest.raises(StoreError, match="nothing was changed.*step broke"):
        Store.open(db_url, clock=clock)
    monkeypatch.undo()
    with Store.open(db_url, clock=clock) as store:
        assert _version(store) == SCHEMA_VERSION
        assert "note" not in {c["name"] for c in sa.inspect(store.engine).get_columns("items")}


def test_every_schema_version_has_its_upgrade_step():
    assert len(_migrations.UPGRADES) == SCHEMA_VERSION - 1


def test_an_in_memory_store_works_for_quick_use():
    with Store.open("sqlite:///:memory:") as store:
        store.create_batch("b", [{"path": "a.png", "label": "happy"}])
        item = store.claim_next("b", "ann")
        store.decide(item.id, "ann", "accept")
        assert store.progress("b").num_done == 1
