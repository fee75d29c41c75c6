"""The runs index and pseudo-label batches: bulk creation, validation, listing."""

from __future__ import annotations

import pandas as pd
import pytest

from fer_core.store import StoreError

from .conftest import make_items


def test_add_run_is_idempotent_for_the_same_path_and_refuses_another(store):
    rid = store.add_run("semi_dtm-1", "runs/semi_dtm-1", recipe="semi_dtm")
    assert store.add_run("semi_dtm-1", "runs/semi_dtm-1") == rid
    with pytest.raises(StoreError, match="already registered with path 'runs/semi_dtm-1'"):
        store.add_run("semi_dtm-1", "elsewhere")
    runs = store.list_runs()
    assert list(runs[["id", "name", "recipe"]].itertuples(index=False, name=None)) == [(rid, "semi_dtm-1", "semi_dtm")]


def test_create_batch_stores_items_and_derives_confidence_and_threshold_side(store):
    store.add_run("r1", "runs/r1")
    items = make_items(["happy", "sad", "fear"], confidences=[0.95, 0.6, 0.8], threshold=0.8)
    items[2]["true_label"] = "surprise"
    bid = store.create_batch("pool-1", items, run="r1", pool="FR pool, stage 1", label_set="basic7")
    got = store.batch_items("pool-1")
    assert list(got["path"]) == ["0.png", "1.png", "2.png"]
    assert list(got["label"]) == ["happy", "sad", "fear"]
    assert list(got["confidence"]) == [0.95, 0.6, 0.8]  # max(probs) when not given
    assert list(got["above_threshold"]) == [True, False, True]  # confidence >= threshold (0.8 >= 0.8)
    assert got["probs"].iat[0] == {"happy": 0.95, "neutral": 0.05}
    assert got["true_label"].iat[2] == "surprise" and got["num_reviews"].eq(0).all()
    listed = store.list_batches()
    assert listed.to_dict("records")[0] | {"created": None} == {
        "id": bid,
        "name": "pool-1",
        "run": "r1",
        "created": None,
        "pool": "FR pool, stage 1",
        "label_set": "basic7",
        "reviews_per_item": 1,
        "num_items": 3,
        "num_done": 0,
    }


def test_probs_as_a_sequence_follow_the_label_set_order(store):
    from fer_core.taxonomy import LABEL_SETS

    probs = [0.0] * len(LABEL_SETS["basic7"])
    probs[LABEL_SETS["basic7"].index("sad")] = 0.7
    store.create_batch("b", [{"path": "a.png", "label": "sad", "probs": probs}], label_set="basic7")
    row = store.batch_items("b").iloc[0]
    assert row["probs"]["sad"] == 0.7 and row["confidence"] == 0.7


def test_a_dataframe_of_items_with_empty_cells_is_accepted(store):
    frame = pd.DataFrame(
        {
            "path": ["a.png", "b.png"],
            "label": ["happy", "sad"],
            "confidence": [0.9, None],
            "true_label": ["happy", None],
        }
    )
    store.create_batch("b", frame)
    got = store.batch_items("b")
    assert got["confidence"].iat[0] == 0.9 and pd.isna(got["confidence"].iat[1])
    assert got["true_label"].iat[0] == "happy" and pd.isna(got["true_label"].iat[1])


def test_a_duplicate_batch_name_fails_clearly(store):
    store.create_batch("b", [{"path": "a.png", "label": "happy"}])
    with pytest.raises(StoreError, match="a batch named 'b' already exists"):
        store.create_batch("b", [{"path": "z.png", "label": "happy"}])
    assert len(store.batch_items("b")) == 1


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"path": "x.png", "label": "joy"}, "item 1: label 'joy' is not in label set 'basic7'"),
        ({"label": "happy"}, "item 1: path is required"),
        ({"path": "x.png", "label": "happy", "threshold": 1.5}, r"item 1: threshold must lie in \[0, 1\]"),
        ({"path": "x.png", "label": "happy", "colour": "red"}, r"item 1: unknown field\(s\) colour"),
    ],
)
def test_an_invalid_item_names_itself_and_inserts_nothing(store, bad, match):
    with pytest.raises(ValueError, match=match):
        store.create_batch("b", [{"path": "ok.png", "label": "happy"}, bad], label_set="basic7")
    assert store.list_batches().empty


def test_batch_arguments_are_checked(store):
    with pytest.raises(ValueError, match="at least one item"):
        store.create_batch("empty", [])
    with pytest.raises(ValueError, match="reviews_per_item must be an int >= 1"):
        store.create_batch("b", [{"path": "a.png", "label": "happy"}], reviews_per_item=0)
    with pytest.raises(StoreError, match="no run 'ghost'"):
        store.create_batch("b", [{"path": "a.png", "label": "happy"}], run="ghost")
    with pytest.raises(StoreError, match="no batch 'nope' in the store; known batches: none"):
        store.batch_items("nope")
    assert store.list_batches().empty


def test_batch_items_filters_open_done_and_labels(store):
    store.create_batch("b", make_items(["happy", "sad", "happy"]))
    first = store.claim_next("b", "ann")
    store.decide(first.id, "ann", "accept")
    assert list(store.batch_items("b", done=True)["path"]) == ["0.png"]
    assert list(store.batch_items("b", done=False)["path"]) == ["1.png", "2.png"]
    assert list(store.batch_items("b", labels=["happy"])["path"]) == ["0.png", "2.png"]
    assert store.list_batches()["num_done"].iat[0] == 1
    assert store.batch_items(store.list_batches()["id"].iat[0]).shape[0] == 3  # by id as well as by name
