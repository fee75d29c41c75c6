"""Two annotators in two OS processes on one queue, and an annotator killed mid-way (DESIGN section 7: never lose
or duplicate a decision; a crash loses nothing committed). Run on a SQLite file and on the PostgreSQL server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from fer_core.store import Store
from fer_core.store._schema import items, reviews

WORKER = Path(__file__).with_name("_review_worker.py")
NUM_ITEMS = 1000

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def _start(url: str, reviewer: str, *extra: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), url, "queue", reviewer, *extra],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline() == "ready\n", proc.stderr.read()
    return proc


def _go(*procs: subprocess.Popen) -> None:
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()


def _log(lines: list[str]) -> set[tuple[int, int, str]]:
    """(item id, review id, decision) of each committed decision a worker printed."""
    return {(int(i), int(r), d) for i, r, d in (line.split() for line in lines)}


def _db(store: Store, reviewer: str | None = None) -> list[tuple[int, int, str]]:
    query = sa.select(reviews.c.item_id, reviews.c.id, reviews.c.decision).where(reviews.c.undone == sa.false())
    if reviewer is not None:
        query = query.where(reviews.c.reviewer == reviewer)
    with store.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


@pytest.fixture()
def queue(db_url):
    with Store.open(db_url) as store:
        store.create_batch("queue", [{"path": f"{i}.png", "label": "happy"} for i in range(NUM_ITEMS)])
        yield store


def test_two_processes_decide_every_item_exactly_once(db_url, queue):
    procs = {name: _start(db_url, name) for name in ("ann", "bob")}
    _go(*procs.values())
    outs = {name: proc.communicate(timeout=150) for name, proc in procs.items()}
    for name, (_out, err) in outs.items():
        assert procs[name].returncode == 0, err
        assert "lost" not in err, err  # with 120 s leases no claim may be taken over
    logs = {name: _log(out.splitlines()) for name, (out, _) in outs.items()}
    all_reviews = _db(queue)
    assert len(all_reviews) == NUM_ITEMS
    with queue.engine.connect() as conn:
        item_ids = set(conn.execute(sa.select(items.c.id)).scalars())
        assert set(conn.execute(sa.select(items.c.num_reviews)).scalars()) == {1}
        assert conn.execute(sa.select(sa.func.count()).where(items.c.claimed_by.is_not(None))).scalar() == 0
    assert sorted(i for i, _, _ in all_reviews) == sorted(item_ids)  # each item exactly once
    assert not {i for i, _, _ in logs["ann"]} & {i for i, _, _ in logs["bob"]}  # none decided by both
    for name in procs:
        assert logs[name] == set(_db(queue, name))  # each process's own record matches the database
    split = {name: len(log) for name, log in logs.items()}
    assert min(split.values()) >= 10, f"the two workers did not really run side by side: {split}"


def test_a_killed_annotator_loses_no_committed_decision(db_url, queue):
    proc = _start(db_url, "crashy", "30")
    _go(proc)
    printed = []
    for line in proc.stdout:
        printed.append(line)
        if len(printed) == 100:
            os.kill(proc.pid, signal.SIGKILL)
            break
    printed += proc.stdout.read().splitlines(keepends=True)  # whatever it printed before it died
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    promised = _log(printed)
    with Store.open(db_url) as after:  # a fresh connection, as after a restart
        stored = set(_db(after, "crashy"))
        assert promised <= stored  # every printed (= committed) decision survived
        assert len(stored) - len(promised) <= 1  # at most the one committed before it could print
        if after.engine.dialect.name == "sqlite":
            with after.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        with after.engine.connect() as conn:
            held = conn.execute(sa.select(items.c.id).where(items.c.claimed_by == "crashy")).scalars().all()
        assert len(held) <= 1
        nxt = after.claim_next("queue", "rescuer")  # the dead worker's live lease keeps its item for now
        assert nxt is not None and nxt.id not in held
    later = Store.open(db_url, clock=lambda: time.time() + 60)  # once the 30 s lease has run out
    with later:
        back = later.claim_next("queue", "rescuer-2")
        assert back is not None and (not held or back.id == held[0])
