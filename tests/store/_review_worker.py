"""An annotator in its own OS process, for the concurrency and crash tests.

``python _review_worker.py URL BATCH REVIEWER [LEASE_S]`` prints ``ready`` once imported and connected, waits for a
line on stdin (so several workers start together), then claims and decides items until the queue is empty,
printing ``<item id> <review id> <decision>`` on stdout (flushed) after each decision is committed: a line on
stdout is a promise that the decision is in the database.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, wherever this is started

from fer_core.store import Store, StoreError  # noqa: E402

DECISIONS = ("accept", "reject", "relabel")


def main(url: str, batch: str, reviewer: str, lease_s: float = 120.0) -> None:
    store = Store.open(url)
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        while (item := store.claim_next(batch, reviewer, lease_s=lease_s)) is not None:
            decision = DECISIONS[item.id % 3]
            try:
                review = store.decide(item.id, reviewer, decision, "sad" if decision == "relabel" else None)
            except StoreError as exc:  # lease lost to the other annotator: not recorded, say so and go on
                print(f"lost {item.id} {exc}", file=sys.stderr, flush=True)
                continue
            print(f"{item.id} {review.id} {decision}", flush=True)
            time.sleep(0.002)  # an annotator is not a hot loop: without a pause SQLite's unfair lock can starve
            # the other writer (its busy handler backs off up to 100 ms while this process re-locks at once)
    finally:
        store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], *(float(a) for a in sys.argv[4:5]))
