"""Reports over reviews: progress, Cohen's kappa, consensus labels and the exported manifest."""

from __future__ import annotations

import math

import pytest

from fer_core.data.manifest import read_manifest, validate_manifest
from fer_core.errors import DatasetError
from fer_core.store import MANIFEST_COLUMNS, StoreError

from .conftest import make_items


def _decide_all(store, clock, decisions):
    """decisions: (path, reviewer, decision, new_label) in time order, one second apart, without claims."""
    ids = store.batch_items(store.list_batches()["name"].iat[-1]).set_index("path")["id"]
    for path, reviewer, decision, new_label in decisions:
        store.decide(int(ids[path]), reviewer, decision, new_label)
        clock.advance(1)


def test_progress_counts_and_rates(store, clock):
    store.create_batch("b", make_items(["happy", "sad", "fear", "happy"]))
    t0 = clock.now
    for reviewer, decision, new_label, wait in [
        ("ann", "accept", None, 300),
        ("ann", "reject", None, 290),
        ("bob", "relabel", "angry", 0),
    ]:
        store.decide(store.claim_next("b", reviewer).id, reviewer, decision, new_label)
        clock.advance(wait)
    store.claim_next("b", "bob")  # 3.png, held
    clock.advance(20)  # now = t0 + 610: decisions at t0, t0 + 300, t0 + 590
    assert clock.now == t0 + 610
    p = store.progress("b", window_min=10)  # window from t0 + 10: two decisions, the first at t0 + 300
    assert (p.num_items, p.num_done, p.num_open, p.num_reviews, p.num_claimed) == (4, 3, 1, 3, 1)
    assert p.per_minute == pytest.approx(2 / 310 * 60)  # over the real 310 s since the first of them
    assert (p.reviews_per_item, p.num_needed) == (1, 4)
    by = p.by_reviewer.set_index("reviewer")
    assert by.loc["ann", ["reviews", "accept", "reject", "relabel"]].tolist() == [2, 1, 1, 0]
    assert by.loc["bob", ["reviews", "accept", "reject", "relabel"]].tolist() == [1, 0, 0, 1]
    assert by["per_minute"].tolist() == pytest.approx([1 / 310 * 60, 1 / 20 * 60])  # ann at t0 + 300, bob + 590
    assert by.loc["ann", "last"] == t0 + 300
    assert store.progress("b", window_min=1).per_minute == pytest.approx(3.0)  # from t0 + 550: one, 20 s ago
    clock.advance(-15)
    assert store.progress("b", window_min=1).per_minute == pytest.approx(6.0)  # 5 s ago: measured over 10 s
    with pytest.raises(ValueError, match="window_min must be > 0"):
        store.progress("b", window_min=0)


def test_progress_of_an_untouched_batch(store):
    store.create_batch("b", make_items(["happy"]))
    p = store.progress("b")
    assert (p.num_items, p.num_done, p.num_reviews, p.per_minute) == (1, 0, 0, 0.0) and p.by_reviewer.empty


def test_cohen_kappa_on_a_hand_computed_table(store, clock):
    # final labels (reject -> "rejected"):   item:  0      1      2    3      4         5
    #   ann: accept, accept, accept, relabel sad, reject, accept -> happy happy sad  sad   rejected  happy
    #   bob: accept, accept, accept, accept,      reject, reject -> happy happy sad  happy rejected  rejected
    # p_o = 4/6. Marginals: ann happy 3, sad 2, rejected 1; bob happy 3, sad 1, rejected 2 (of 6).
    # p_e = (3*3 + 2*1 + 1*2) / 36 = 13/36; kappa = (24/36 - 13/36) / (1 - 13/36) = 11/23 = 0.47826...
    store.create_batch("b", make_items(["happy", "happy", "sad", "happy", "fear", "happy"]), reviews_per_item=2)
    ann = [("accept", None)] * 3 + [("relabel", "sad"), ("reject", None), ("accept", None)]
    bob = [("accept", None)] * 4 + [("reject", None)] * 2
    _decide_all(
        store, clock, [(f"{i}.png", who, *d) for who, ds in (("ann", ann), ("bob", bob)) for i, d in enumerate(ds)]
    )
    table = store.agreement("b")
    assert table[["reviewer_a", "reviewer_b", "num_items"]].values.tolist() == [["ann", "bob", 6]]
    assert table["agree"].iat[0] == pytest.approx(4 / 6)
    assert table["kappa"].iat[0] == pytest.approx(11 / 23)


def test_kappa_is_nan_where_undefined_and_pairs_without_shared_items_are_absent(store, clock):
    store.create_batch("b", make_items(["happy", "sad", "fear"]), reviews_per_item=2)
    _decide_all(
        store,
        clock,
        [
            ("0.png", "ann", "accept", None),
            ("0.png", "bob", "accept", None),
            ("1.png", "ann", "accept", None),
            ("1.png", "bob", "accept", None),
            ("2.png", "cy", "accept", None),
        ],
    )
    table = store.agreement("b")  # ann and bob agree on happy and sad: kappa 1; cy shares nothing
    assert table[["reviewer_a", "reviewer_b"]].values.tolist() == [["ann", "bob"]]
    assert table["kappa"].iat[0] == pytest.approx(1.0)
    store.create_batch("c", make_items(["happy", "happy"]), reviews_per_item=2)
    _decide_all(store, clock, [(p, r, "accept", None) for p in ("0.png", "1.png") for r in ("ann", "bob")])
    assert math.isnan(store.agreement("c")["kappa"].iat[0])  # one label throughout: chance agreement is 1


@pytest.fixture()
def triple(store, clock):
    """Three reviewers per item; the consensus rule is exercised item by item."""
    items = make_items(["happy", "happy", "fear", "surprise", "sad"])
    items[0]["true_label"] = "sad"
    store.create_batch("b3", items, label_set="basic7", reviews_per_item=3)
    _decide_all(
        store,
        clock,
        [
            ("0.png", "ann", "accept", None),
            ("0.png", "bob", "relabel", "sad"),
            ("0.png", "cy", "relabel", "sad"),
            ("1.png", "ann", "relabel", "sad"),
            ("1.png", "bob", "accept", None),
            ("1.png", "cy", "reject", None),
            ("2.png", "ann", "reject", None),
            ("2.png", "bob", "reject", None),
            ("2.png", "cy", "accept", None),
            ("3.png", "ann", "accept", None),
            ("3.png", "bob", "accept", None),
        ],
    )
    return "b3"


def test_consensus_majority_ties_to_the_earliest_rejections_kept_as_such(store, triple):
    got = store.consensus(triple).set_index("path")
    assert got["label"].to_dict() == {
        "0.png": "sad",  # 2 of 3
        "1.png": "sad",  # sad / happy / rejected: a tie, ann's sad came first
        "2.png": "rejected",
    }  # 2 of 3 threw it out
    assert got["votes"].to_dict() == {"0.png": 2, "1.png": 1, "2.png": 2}
    assert got.loc["0.png", "reviewers"] == "ann,bob,cy"
    assert "3.png" in store.consensus(triple, min_reviews=2)["path"].tolist()  # only two reviews so far


def test_export_writes_a_valid_manifest_of_the_accepted_consensus(store, triple, tmp_path):
    out = store.export_manifest(triple, tmp_path / "out" / "reviewed.csv")
    manifest = read_manifest(out)
    validate_manifest(manifest, label_set="basic7")
    assert list(manifest.columns) == list(MANIFEST_COLUMNS)
    assert manifest[["path", "label", "proposed_label", "true_label", "votes"]].values.tolist() == [
        ["0.png", "sad", "happy", "sad", 2],
        ["1.png", "sad", "happy", "", 1],
    ]
    assert set(manifest["source"]) == {"review:b3"} and set(manifest["label_set"]) == {"basic7"}
    loose = read_manifest(store.export_manifest(triple, tmp_path / "loose.csv", min_reviews=2))
    assert loose["path"].tolist() == ["0.png", "1.png", "3.png"]


def test_export_checks_files_under_root_and_refuses_an_empty_result(store, triple, tmp_path):
    (tmp_path / "0.png").write_bytes(b"x")
    with pytest.raises(DatasetError, match="1 file.* missing .*1.png"):
        store.export_manifest(triple, tmp_path / "m.csv", root=tmp_path)
    assert not (tmp_path / "m.csv").exists() and not list(tmp_path.glob(".m.*"))  # nothing half-written
    store.create_batch("none", make_items(["happy"]))
    with pytest.raises(StoreError, match="batch 'none' has no reviewed item"):
        store.export_manifest("none", tmp_path / "n.csv")


def test_ten_decisions_in_thirty_seconds_read_twenty_per_minute(store, clock):
    """The Review page's rate: ten decisions 3 s apart, read 3 s after the last (issue 22 saw 1.0 per minute)."""
    store.create_batch("b", make_items(["happy"] * 10))
    for _ in range(10):
        store.decide(store.claim_next("b", "ann").id, "ann", "accept")
        clock.advance(3)
    assert store.progress("b").per_minute == pytest.approx(20.0)
