"""Review page, first minutes without the CLI: create a batch from a folder (or the demo batch) on the page, review
a face; bad pools are messages, never tracebacks. Uploaded photos are saved only into the batch's own folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.components import review_views as views

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")
SAMPLE = ROOT / "assets" / "synthfacs_sample" / "images"
FACES = ["000006.png", "000015.png", "000024.png"]  # happy, disgust, surprise (aligned 112 px crops)
DEMO_SOURCE = "run synthfacs_bias_supervised"


@pytest.fixture()
def empty_store(monkeypatch, tmp_path):
    """An empty review store and an empty FER_CORE_HOME of this test only, and fresh dashboard caches."""
    import streamlit as st

    monkeypatch.setenv("FER_CORE_DB", str(tmp_path / "store.sqlite"))
    monkeypatch.setenv("FER_CORE_HOME", str(tmp_path / "home"))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield tmp_path / "store.sqlite"
    st.cache_resource.clear()  # the next test must not reuse this store's connection


@pytest.fixture()
def pool(tmp_path) -> Path:
    folder = tmp_path / "pool"
    folder.mkdir()
    for name in FACES:
        shutil.copy(SAMPLE / name, folder / name)
    return folder


def _review_page() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=180).run()
    app.switch_page("views/review.py").run()
    assert not app.exception, app.exception
    return app


def _progress_text(app: AppTest) -> str:
    return " ".join(p.proto.text for p in app.get("progress"))


def _confirm(app: AppTest, name: str) -> None:
    app.text_input(key="_w_reviewer").input(name)
    next(b for b in app.button if b.label == "Start reviewing").click().run()
    assert not app.exception, app.exception


@pytest.mark.slow
def test_a_batch_created_from_a_folder_is_selected_and_reviewed(empty_store, pool):
    from fer_core.store import Store

    app = _review_page()
    assert any("No pseudo-label batches yet" in i.value for i in app.info)
    assert app.toggle(key=views.NEW_OPEN).value  # the panel is open while the store has no batch
    app.selectbox(key=views.NEW_SOURCE).set_value(DEMO_SOURCE)
    app.text_input(key=views.NEW_POOL).input(str(pool))
    app.number_input(key=views.NEW_TAU).set_value(0.9)
    app.button(key=views.NEW_CREATE).click().run()
    assert not app.exception, app.exception
    name = app.session_state["_w_review_batch"]
    assert name.startswith("synthfacs_bias_supervised-")  # the suggested <run>-<date>
    assert app.selectbox(key="_w_review_batch").value == name  # the new batch is the one in the queue
    assert any("3 faces of 3 images" in s.value and "fixed 0" in s.value for s in app.success)
    with Store.open(empty_store) as store:
        batch = store.list_batches().set_index("name").loc[name]
        assert batch["num_items"] == 3 and batch["run"] == "synthfacs_bias_supervised"
        assert batch["pool"] == str(pool)
    assert "0 of 3 decisions made" in _progress_text(app)
    assert not app.toggle(key=views.NEW_OPEN).value and not [t for t in app.text_input if t.key == views.NEW_POOL]

    _confirm(app, "ada")
    assert any(m.value.startswith("### Proposed:") for m in app.markdown)
    next(b for b in app.button if b.label == "Accept").click().run()
    assert not app.exception, app.exception
    assert "1 of 3 decisions made" in _progress_text(app)
    with Store.open(empty_store) as store:
        reviews = store.reviews(name)
        assert list(reviews["decision"]) == ["accept"] and list(reviews["reviewer"]) == ["ada"]


@pytest.mark.slow
def test_bad_pools_and_taken_names_are_messages_and_create_nothing(empty_store, tmp_path, pool):
    from fer_core.store import Store

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no photos here")
    app = _review_page()
    app.button(key=views.NEW_CREATE).click().run()  # no pool named yet
    assert not app.exception and any("name the pool" in e.value for e in app.error)
    app.selectbox(key=views.NEW_SOURCE).set_value(DEMO_SOURCE)
    app.text_input(key=views.NEW_NAME).input("mine")
    app.text_input(key=views.NEW_POOL).input(str(empty))
    app.button(key=views.NEW_CREATE).click().run()
    assert not app.exception, app.exception
    assert any("**mine** could not be used" in e.value and "holds no images" in e.value for e in app.error)

    wrong = tmp_path / "faces.csv"
    wrong.write_text("file,label\na.png,happy\n")
    app.text_input(key=views.NEW_POOL).input(str(wrong))
    app.button(key=views.NEW_CREATE).click().run()
    assert not app.exception and any("needs a path column" in e.value for e in app.error)
    with Store.open(empty_store) as store:
        assert store.list_batches().empty

    app.text_input(key=views.NEW_POOL).input(str(pool))
    app.button(key=views.NEW_CREATE).click().run()
    assert not app.exception and app.session_state["_w_review_batch"] == "mine"
    app.toggle(key=views.NEW_OPEN).set_value(True).run()  # the panel closed on success: open it again
    app.selectbox(key=views.NEW_SOURCE).set_value(DEMO_SOURCE)
    app.text_input(key=views.NEW_NAME).input("mine")  # the same name
    app.text_input(key=views.NEW_POOL).input(str(pool))
    app.button(key=views.NEW_CREATE).click().run()
    assert not app.exception and any("already exists" in e.value for e in app.error)
    assert not any("Traceback" in e.value or "error id" in e.value for e in app.error)


@pytest.mark.slow
def test_the_demo_batch_is_one_click(empty_store):
    app = _review_page()
    app.button(key=views.NEW_DEMO).click().run()
    assert not app.exception, app.exception
    assert app.session_state["_w_review_batch"] == "demo-synthfacs"
    assert any("8 faces of 8 images" in s.value for s in app.success)
    assert "0 of 8 decisions made" in _progress_text(app)
    assert not [b for b in app.button if b.key == views.NEW_DEMO]  # offered only while there is none


def test_uploads_are_saved_only_into_the_batchs_folder_and_only_their_faces_stay(empty_store, tmp_path):
    import cv2
    import numpy as np

    from fer_core.errors import DatasetError, StoreError
    from fer_core.runs import open_run
    from fer_core.store import Store
    from fer_core.workflows import demo_sources, pseudo_label_uploads, upload_folder

    run_folder, _ = demo_sources()
    loaded = open_run(run_folder).model()
    files = [(f"Jane Doe {i}.PNG", (SAMPLE / n).read_bytes()) for i, n in enumerate(FACES)] + [("x.png", b"no image")]
    with Store.open(empty_store) as store:
        new = pseudo_label_uploads(store, "team/../one", loaded, files, run_folder=run_folder)
        folder = upload_folder("team/../one")
        assert folder.parent == tmp_path / "home" / "review_batches" and ".." not in folder.name
        kept = sorted(p.name for p in folder.iterdir())
        assert len(kept) == 3 and not any("Jane" in k for k in kept)  # no person's name on disk; the junk is gone
        assert {Path(p).parent for p in store.batch_items("team/../one")["path"]} == {folder}
        assert new.proposals.n == 4 and len(new.proposals.unreadable) == 1
        with pytest.raises(StoreError, match="already exists"):  # checked before anything is written
            pseudo_label_uploads(store, "team/../one", loaded, files, run_folder=run_folder)
        grey = cv2.imencode(".png", np.full((800, 800, 3), 128, np.uint8))[1].tobytes()  # a photo without a face
        with pytest.raises(DatasetError, match="no face found in any image of the uploaded photos"):
            pseudo_label_uploads(store, "none", loaded, [("wall.png", grey)], aligned=False)
        assert not upload_folder("none").exists()  # a batch that was not made keeps no photo
