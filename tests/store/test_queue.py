"""The review queue: claims under a lease, decisions (idempotent), undo, double review."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from fer_core.store import Store, StoreError
from fer_core.store._schema import reviews

from .conftest import make_items


@pytest.fixture()
def batch(store):
    """Five items: happy 0.95, sad 0.60, happy 0.70, fear 0.85, sad 0.90 (class threshold 0.8)."""
    store.create_batch(
        "b", make_items(["happy", "sad", "happy", "fear", "sad"], [0.95, 0.6, 0.7, 0.85, 0.9]), label_set="basic7"
    )
    return "b"


def _paths(items):
    return [None if i is None else i.path for i in items]


def test_claims_follow_batch_order_and_two_reviewers_never_share_an_item(store, batch, clock):
    a = store.claim_next(batch, "ann", lease_s=60)
    b = store.claim_next(batch, "bob", lease_s=60)
    assert (a.path, b.path) == ("0.png", "1.png")
    assert (a.claimed_by, a.claim_expires) == ("ann", clock.now + 60)
    assert store.progress(batch).num_claimed == 2


def test_a_reviewer_holding_a_live_claim_gets_the_same_item_back_with_a_new_lease(store, batch, clock):
    first = store.claim_next(batch, "ann", lease_s=60)
    clock.advance(30)
    again = store.claim_next(batch, "ann", lease_s=60)
    assert again.id == first.id and again.claim_expires == clock.now + 60


def test_an_expired_lease_frees_the_item_for_another_reviewer(store, batch, clock):
    held = store.claim_next(batch, "ann", lease_s=10)
    clock.advance(10)  # expires at exactly now: no longer live
    taken = store.claim_next(batch, "bob", lease_s=10)
    assert taken.id == held.id and taken.claimed_by == "bob"
    with pytest.raises(StoreError, match=f"item {held.id} is claimed by 'bob'.*not recorded"):
        store.decide(held.id, "ann", "accept")  # ann came back too late
    assert store.decide(held.id, "bob", "accept").reviewer == "bob"


def test_a_decision_after_an_expired_lease_that_nobody_took_still_counts(store, batch, clock):
    held = store.claim_next(batch, "ann", lease_s=10)
    clock.advance(60)
    assert store.decide(held.id, "ann", "reject").decision == "reject"


def test_filters_label_band_and_threshold_side(store, batch):
    assert store.claim_next(batch, "u1", label="fear").path == "3.png"
    assert store.claim_next(batch, "u2", band=(0.6, 0.7)).path == "1.png"  # inclusive band: 0.60 and 0.70
    assert store.claim_next(batch, "u3", band=(0.6, 0.7)).path == "2.png"
    assert store.claim_next(batch, "u4", below_threshold=True) is None  # 1.png and 2.png are held
    assert store.claim_next(batch, "u5", below_threshold=False).path == "0.png"
    assert store.claim_next(batch, "u6", label=["sad", "happy"]).path == "4.png"
    with pytest.raises(ValueError, match="band must be"):
        store.claim_next(batch, "u7", band=(0.9, 0.1))


def test_a_held_item_outside_new_filters_is_released(store, batch):
    first = store.claim_next(batch, "ann")
    assert first.label == "happy"
    sad = store.claim_next(batch, "ann", label="sad")
    assert sad.label == "sad"
    items = store.batch_items(batch).set_index("id")
    assert pd.isna(items.loc[first.id, "claimed_by"])
    assert items["claimed_by"].notna().sum() == 1  # one claim per reviewer and batch


def test_decide_records_the_review_and_releases_the_claim(store, batch, clock):
    item = store.claim_next(batch, "ann")
    clock.advance(5)
    review = store.decide(item.id, "ann", "relabel", new_label="surprise")
    assert (review.item_id, review.reviewer, review.decision, review.new_label, review.created, review.undone) == (
        item.id,
        "ann",
        "relabel",
        "surprise",
        clock.now,
        False,
    )
    row = store.batch_items(batch).set_index("id").loc[item.id]
    assert row["num_reviews"] == 1 and pd.isna(row["claimed_by"]) and pd.isna(row["claim_expires"])
    assert store.claim_next(batch, "ann").id != item.id


def test_a_double_submission_records_one_review(store, batch):
    item = store.claim_next(batch, "ann")
    first = store.decide(item.id, "ann", "accept")
    assert store.decide(item.id, "ann", "accept") == first
    assert len(store.reviews(batch)) == 1
    with pytest.raises(StoreError, match="'ann' already decided item .* undo that decision"):
        store.decide(item.id, "ann", "reject")


def test_the_database_itself_refuses_two_live_reviews_of_one_item_by_one_reviewer(store, batch, clock):
    item = store.claim_next(batch, "ann")
    store.decide(item.id, "ann", "accept")
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
        conn.execute(reviews.insert().values(item_id=item.id, reviewer="ann", decision="reject", created=clock.now))


@pytest.mark.parametrize(
    "decision, new_label, match",
    [
        ("maybe", None, "decision must be one of accept, reject, relabel, got 'maybe'"),
        ("relabel", None, "new_label is required for 'relabel'"),
        ("accept", "sad", "not allowed for 'accept'"),
        ("relabel", "joy", "label 'joy' is not in label set 'basic7'"),
    ],
)
def test_invalid_decisions_are_refused_and_record_nothing(store, batch, decision, new_label, match):
    item = store.claim_next(batch, "ann")
    with pytest.raises(ValueError, match=match):
        store.decide(item.id, "ann", decision, new_label)
    assert store.reviews(batch).empty


def test_a_complete_item_refuses_more_decisions(store, batch):
    item = store.claim_next(batch, "ann")
    store.decide(item.id, "ann", "accept")
    with pytest.raises(StoreError, match="already has the 1 review"):
        store.decide(item.id, "bob", "accept")
    with pytest.raises(StoreError, match="no item 999"):
        store.decide(999, "bob", "accept")


def test_the_queue_ends_with_none(store):
    store.create_batch("one", make_items(["happy"]))
    item = store.claim_next("one", "ann")
    store.decide(item.id, "ann", "accept")
    assert store.claim_next("one", "ann") is None and store.claim_next("one", "bob") is None


def test_undo_last_walks_back_and_hands_the_item_back(store, batch, clock):
    decided = []
    for decision in ("accept", "reject"):
        item = store.claim_next(batch, "ann")
        decided.append(store.decide(item.id, "ann", decision))
        clock.advance(1)
    held = store.claim_next(batch, "ann")  # ann moved on to the third item
    back = store.undo_last(batch, "ann", lease_s=30)
    assert back.id == decided[1].item_id and back.claimed_by == "ann" and back.claim_expires == clock.now + 30
    assert back.num_reviews == 0
    items = store.batch_items(batch).set_index("id")
    assert items["claimed_by"].notna().sum() == 1 and held.id != back.id  # the third item went back to the queue
    assert store.claim_next(batch, "ann").id == back.id  # and ann's queue resumes at the undone item
    history = store.reviews(batch, include_undone=True)
    assert list(history["undone"]) == [False, True]  # kept for the record, marked undone
    assert store.undo_last(batch, "ann").id == decided[0].item_id
    assert store.undo_last(batch, "ann") is None
    redo = store.decide(back.id, "ann", "relabel", "sad")  # a new decision after undo is a new live review
    assert list(store.reviews(batch)["id"]) == [redo.id]


def test_undo_does_not_steal_an_item_another_reviewer_holds(db_url, clock):
    with Store.open(db_url, clock=clock) as store:
        store.create_batch("double", make_items(["happy", "sad"]), reviews_per_item=2)
        item = store.claim_next("double", "ann")
        store.decide(item.id, "ann", "accept")
        assert store.claim_next("double", "bob").id == item.id
        back = store.undo_last("double", "ann")
        assert back.id == item.id and back.claimed_by == "bob" and back.num_reviews == 0


def test_double_review_needs_distinct_reviewers_and_never_repeats_one(db_url, clock):
    with Store.open(db_url, clock=clock) as store:
        store.create_batch("double", make_items(["happy", "sad"]), reviews_per_item=2)
        seen = {"ann": [], "bob": []}
        for _ in range(2):
            for reviewer in seen:
                item = store.claim_next("double", reviewer)
                seen[reviewer].append(item.path)
                store.decide(item.id, reviewer, "accept")
        assert seen == {"ann": ["0.png", "1.png"], "bob": ["0.png", "1.png"]}  # bob finishes what ann started
        assert store.claim_next("double", "ann") is None and store.claim_next("double", "cy") is None
        assert store.progress("double").num_done == 2


def test_release_gives_the_claim_back(store, batch):
    item = store.claim_next(batch, "ann")
    assert store.release(batch, "ann") == 1
    assert store.claim_next(batch, "bob").id == item.id


def test_reviewer_and_lease_are_checked(store, batch):
    with pytest.raises(ValueError, match="reviewer must be a non-empty string"):
        store.claim_next(batch, " ")
    with pytest.raises(ValueError, match="lease_s must be > 0"):
        store.claim_next(batch, "ann", lease_s=0)
    assert store.progress(batch).num_claimed == 0
