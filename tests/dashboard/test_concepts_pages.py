"""The concept views through AppTest: a face's top concepts on the Heatmaps page (with reference faces from a run's
test set), and the Explanation atlas page on a demo run (clusters, a chosen cluster's faces, the class's concepts)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


def _captions(at) -> list[str]:
    return [c for img in at.get("image") for c in img.captions]


def test_heatmaps_page_shows_a_faces_top_concepts_and_their_reference_faces():
    at = AppTest.from_file(APP, default_timeout=240).run()
    at.toggle(key="_w_concepts_on").set_value(True).run()
    assert not at.exception, at.exception
    layer = at.selectbox(key="_w_concept_layer_fer2013_mini_xception")
    assert layer.options[-1].startswith("1.3 (block, 128 channels)") and layer.value == "1.3"
    concepts = [c for c in _captions(at) if c.startswith("channel ") and " · " in c]
    assert len(concepts) == 8  # the bundled portrait has one face
    refs = at.selectbox(key="_w_concept_refs")
    refs.set_value(next(o for o in refs.options if o.startswith("synthfacs_bias_supervised"))).run()
    next(b for b in at.button if b.key.startswith("_w_concept_find_")).click().run()
    assert not at.exception, at.exception
    assert sum(c.startswith("where channel") for c in _captions(at)) >= 1


def test_atlas_page_builds_clusters_and_shows_a_clusters_faces_and_concepts():
    at = AppTest.from_file(APP, default_timeout=300).run()
    at.switch_page("views/atlas.py").run()
    assert not at.exception, at.exception
    at.select_slider(key="_w_atlas_limit").set_value(500).run()
    at.button(key="_w_atlas_run").click().run()
    assert not at.exception, at.exception
    assert any("strategies (clusters)" in m.value for m in at.markdown)
    cluster = at.selectbox(key="_w_atlas_cluster")
    assert 2 <= len(cluster.options) <= 8
    assert any(c.startswith("mean heatmap of cluster") for c in _captions(at))
    assert sum(c.startswith("where channel") for c in _captions(at)) == 6
    last = int(cluster.options[-1].split(":")[0])  # options read "ID: N faces[ · flagged]"
    cluster.set_value(last).run()
    assert not at.exception
    assert any(c.startswith(f"mean heatmap of cluster {last} ") for c in _captions(at))
