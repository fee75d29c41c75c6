"""Store fixtures: every store test runs on a SQLite file and on a real PostgreSQL server (one per session, one
fresh schema per test), with a clock the test moves by hand."""

from __future__ import annotations

import itertools

import pytest

from ._postgres import start_server

BACKENDS = ["sqlite", "postgresql"]
_schemas = itertools.count()


class FakeClock:
    """Seconds since the epoch that only move when told to."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@pytest.fixture(scope="session")
def postgres_server():
    server = start_server()
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path) -> str:
    """A URL to an empty database of each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    server = request.getfixturevalue("postgres_server")
    if server.error:
        pytest.skip(f"PostgreSQL tests skipped: {server.error}")
    schema = f"t{next(_schemas)}"
    server.create_schema(schema)
    return server.url(schema)


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def store(db_url, clock):
    from fer_core.store import Store

    s = Store.open(db_url, clock=clock)
    yield s
    s.close()


def make_items(labels, confidences=None, threshold=0.8):
    """Items ``0.png, 1.png, ...`` proposing ``labels``; probs put ``confidence`` on the label, rest on 'neutral'."""
    confidences = confidences or [0.9] * len(labels)
    out = []
    for i, (label, conf) in enumerate(zip(labels, confidences)):
        probs = {label: conf} if label == "neutral" else {label: conf, "neutral": round(1 - conf, 6)}
        out.append({"path": f"{i}.png", "label": label, "probs": probs, "threshold": threshold})
    return out
