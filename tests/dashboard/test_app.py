"""The dashboard through Streamlit's AppTest: every page renders real results with no exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.components.text import md

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")


@pytest.fixture()
def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=120).run()


def test_explain_page_shows_face_probabilities_and_seven_heatmaps(app):
    assert not app.exception
    assert any("Face 1: **happy**" in m.value for m in app.markdown)
    captions = [c for img in app.get("image") for c in img.captions]
    heat = [c for c in captions if " · " in c]
    assert len(heat) == 7 and heat[0].startswith("happy")
    # beside the heatmaps: how far to trust the happy map (perturbation curve, AOPC, mass in eyes / mouth)
    assert any("How far to trust the *happy* heatmap" in m.value for m in app.markdown)
    metrics = {m.label: m for m in app.metric}
    aopc = metrics["AOPC, most relevant first"]
    assert float(aopc.value) > 0 and aopc.delta.startswith("+")  # LRP's order beats a random order on this face
    assert " / " in metrics["Relevance in eyes / mouth"].value
    assert aopc.proto.help.startswith("Area over the perturbation curve")  # every statistic says what it is


def test_an_unstable_method_carries_a_caveat_and_lrp_does_not(app):
    assert not [w for w in app.warning if "numerically unstable" in w.value]
    app.selectbox(key="_w_method").set_value("lrp_gamma_box").run()
    assert not app.exception
    caveat = [w.value for w in app.warning if "numerically unstable" in w.value]
    assert caveat and "times its net relevance" in caveat[0]  # the portrait's gamma-box map: ~12,000 times


def test_slow_methods_draw_every_heatmap_through_their_progress_path(app):
    for method in ("ig", "occlusion"):  # many passes per face: an estimate and a progress bar, then the maps
        app.selectbox(key="_w_method").set_value(method).run()
        assert not app.exception, app.exception
        captions = [c for img in app.get("image") for c in img.captions]
        assert len([c for c in captions if " · " in c]) == 7, method
        assert any("How far to trust" in m.value for m in app.markdown)  # the faithfulness panel reuses the maps


def test_method_picker_switches_to_gradcam(app):
    app.selectbox(key="_w_method").set_value("gradcam").run()
    assert not app.exception
    assert any("Face 1" in m.value for m in app.markdown)


def test_every_page_renders_and_choices_survive_page_switches(app):
    app.selectbox(key="_w_method").set_value("saliency").run()
    app.switch_page("views/occlusion.py").run()
    assert not app.exception
    assert any("intact" in m.value for m in app.markdown)
    app.multiselect(key="_w_regions").set_value(["mouth"]).run()
    assert not app.exception
    app.switch_page("views/model_card.py").run()
    assert not app.exception and md("fer2013_mini_xception") in app.title[0].value  # escaped markdown
    app.switch_page("views/explain.py").run()
    assert app.selectbox(key="_w_method").value == "saliency"


@pytest.fixture()
def runs_env(monkeypatch, tiny_run):
    """The dashboard sees the session's tiny run (plus the embedded demo runs) and fresh caches."""
    import streamlit as st

    monkeypatch.setenv("FER_CORE_RUNS", str(tiny_run.parent))
    st.cache_data.clear()
    return tiny_run


@pytest.mark.slow
def test_fairness_page_compares_the_demo_runs_and_shows_a_groups_mistakes(runs_env):
    app = AppTest.from_file(APP, default_timeout=180).run()
    app.switch_page("views/fairness.py").run()
    assert not app.exception, app.exception
    text = " ".join(m.value for m in app.markdown)
    assert md("synthfacs_bias_supervised") in text and md("synthfacs_bias_fair_mmd") in text  # names escaped
    assert "linear probe guesses **age**" in text  # the attribute the fairness terms act on comes first
    assert len(app.dataframe) == 1  # the side-by-side summary
    captions = [c for img in app.get("image") for c in img.captions]
    mistakes = [c for c in captions if c.startswith("true ")]
    assert mistakes and all(" → " in c for c in mistakes)
    assert "age = older" in text  # the worst-served group is opened first
    # where the model looks, by group: a verdict of the stratified permutation test per run
    assert sum("groups differ" in m.value or "no evidence that groups differ" in m.value for m in app.markdown) == 2
    app.selectbox(key="_w_fair_group").set_value("young").run()
    assert not app.exception
    assert "age = young" in " ".join(m.value for m in app.markdown)


@pytest.mark.slow
def test_fairness_page_reads_a_users_run(runs_env):
    app = AppTest.from_file(APP, default_timeout=180).run()
    app.switch_page("views/fairness.py").run()
    app.multiselect(key="_w_fair_runs").set_value([runs_env.name]).run()
    assert not app.exception, app.exception
    app.selectbox(key="_w_fair_attribute").set_value("gender").run()
    assert not app.exception
    assert "Summary by gender" in [s.value for s in app.subheader]


@pytest.mark.slow
def test_runs_page_lists_runs_with_curves_and_config(runs_env):
    app = AppTest.from_file(APP, default_timeout=180).run()
    app.switch_page("views/runs.py").run()
    assert not app.exception, app.exception
    table = app.dataframe[0].value
    assert runs_env.name in set(table["run"]) and "synthfacs_bias_fair_mmd" in set(table["run"])
    assert not table.isna().any().any()  # no "None" cell: an AU run's missing accuracy is empty
    au = table.set_index("run").loc["synthfacs_au_iat"]
    assert au["test accuracy"] == "" and au["other test figures"].startswith("mean au f1")
    app.selectbox(key="run_pick").set_value(runs_env.name).run()
    assert not app.exception
    assert any("finished" in m.value for m in app.markdown)
    assert any("val/acc" in c.value for c in app.code) or app.get("plotly_chart")


def test_an_au_runs_f1_is_drawn_as_a_score_not_a_loss(runs_env):
    import json

    app = AppTest.from_file(APP, default_timeout=180).run()
    app.switch_page("views/runs.py").run()
    app.selectbox(key="run_pick").set_value("synthfacs_au_iat").run()
    assert not app.exception
    charts = {}
    for chart in app.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        charts[spec["layout"].get("yaxis", {}).get("title", {}).get("text")] = {t["name"] for t in spec["data"]}
    assert {"val/au_f1", "train/id_acc"} <= charts["accuracy / F1"]
    assert "train/loss" in charts["loss"] and not {"val/au_f1", "train/id_acc"} & charts["loss"]


def test_the_start_form_follows_the_chosen_config(runs_env):
    """Choosing a config re-fills the recipe and the run name from it (a form alone showed the previous one's)."""
    app = AppTest.from_file(APP, default_timeout=180).run()
    app.switch_page("views/runs.py").run()
    app.selectbox(key="_w_run_config").set_value("synthfacs_semi.yaml").run()
    assert app.selectbox(key="_w_run_recipe_synthfacs_semi.yaml").value == "semi_dtm"
    assert app.text_input(key="_w_run_name_synthfacs_semi.yaml").value.startswith("synthfacs_semi-")
    app.selectbox(key="_w_run_config").set_value("synthfacs_au_iat.yaml").run()
    assert not app.exception
    assert app.selectbox(key="_w_run_recipe_synthfacs_au_iat.yaml").value == "au_iat"
    assert app.text_input(key="_w_run_name_synthfacs_au_iat.yaml").value.startswith("synthfacs_au_iat-")


@pytest.mark.slow
def test_a_trained_runs_model_explains_photos_from_the_sidebar(runs_env):
    app = AppTest.from_file(APP, default_timeout=180).run()
    options = app.selectbox(key="_w_model_name").options
    assert "run:synthfacs_bias_fair_mmd" in options and f"run:{runs_env.name}" in options
    app.selectbox(key="_w_model_name").set_value("run:synthfacs_bias_fair_mmd").run()
    assert not app.exception, app.exception
    captions = [c for img in app.get("image") for c in img.captions]
    assert len([c for c in captions if " · " in c]) == 7  # one heatmap per class of the run's model


@pytest.mark.slow
def test_occlusion_study_page_answers_which_region_each_class_needs(runs_env):
    app = AppTest.from_file(APP, default_timeout=240).run()
    app.switch_page("views/occlusion_study.py").run()
    assert not app.exception, app.exception
    # expression models come first (the age and gender base models last), so the page opens on an expression study
    options = app.selectbox(key="_w_study_source").options
    assert app.selectbox(key="_w_study_source").value == "run: synthfacs_bias_fair_mmd (test set)"
    assert options.index("run: synthfacs_base_age (test set)") > options.index(
        "run: synthfacs_transfer_from_age (test set)"
    )
    assert not app.error, [e.value for e in app.error]
    assert not app.tabs and any("Run study" in i.value for i in app.info)  # nothing computed before the button
    app.button(key="_w_study_run").click().run()
    assert [t.label for t in app.tabs] == ["fill: mean", "fill: blur"]  # the study's results are drawn
    source = app.selectbox(key="_w_study_source")
    source.set_value("run: synthfacs_bias_supervised (test set)").run()
    app.select_slider(key="_w_study_limit").set_value(200).run()
    assert not app.tabs  # new settings wait for the button again
    app.button(key="_w_study_run").click().run()
    assert not app.exception, app.exception
    text = " ".join(m.value for m in app.markdown)
    assert "200 faces" in text and "By age" in text
    assert [t.label for t in app.tabs] == ["fill: mean", "fill: blur"]
    assert any(c.value.startswith("Accuracy intact") for c in app.caption)
    app.selectbox(key="_w_study_source").set_value("a manifest file…").run()
    app.text_input(key="_w_study_manifest").input("/nonexistent/manifest.csv").run()
    app.button(key="_w_study_run").click().run()
    assert not app.exception  # a bad path is a message on the page, not a crash
    assert any("does not exist" in e.value or "not found" in e.value.lower() for e in app.error)


@pytest.fixture()
def review_env(monkeypatch, tmp_path):
    """A store with a 5-face batch proposed by the embedded demo run's model."""
    import streamlit as st

    from fer_core.data.sources import materialize
    from fer_core.runs import open_run
    from fer_core.store import Store
    from fer_core.workflows import propose, write_batch

    db = tmp_path / "store.sqlite"
    monkeypatch.setenv("FER_CORE_DB", str(db))
    st.cache_data.clear()
    st.cache_resource.clear()
    run = open_run(ROOT / "assets" / "runs" / "synthfacs_bias_supervised")
    pool = materialize({"synthfacs": {"n": 5, "size": 48, "seed": 31}})
    with Store.open(db) as store:
        write_batch(
            store,
            "demo",
            propose(run.model(), pool, tau=0.9, aligned=True),
            run_name=run.name,
            run_path=run.folder,
            recipe="supervised",
        )
    return db


@pytest.mark.slow
def test_review_page_records_accept_relabel_and_undo(review_env):
    from fer_core.store import Store

    app = AppTest.from_file(APP, default_timeout=180).run()
    app.switch_page("views/review.py").run()
    assert not app.exception, app.exception
    assert any("Type your name" in i.value for i in app.info)
    app.text_input(key="_w_reviewer").input("alice")
    next(b for b in app.button if b.label == "Start reviewing").click().run()  # Enter or the button confirms
    assert not app.exception, app.exception
    assert not app.text_input  # no text field left to type decision keys into
    assert any("Reviewing as **alice**" in m.value for m in app.markdown)
    assert any(m.value.startswith("### Proposed:") for m in app.markdown)
    captions = [c for img in app.get("image") for c in img.captions]
    assert any(c.startswith("LRP evidence for") for c in captions)
    first = next(c for c in captions if c.startswith("face #"))
    next(b for b in app.button if b.label == "Accept").click().run()
    captions = [c for img in app.get("image") for c in img.captions]
    assert first not in captions  # the next face is shown
    relabel_to = next(s for s in app.selectbox if s.label == "Relabel as").options[0]
    shown = int(next(c for c in captions if c.startswith("face #")).removeprefix("face #"))
    with Store.open(review_env) as store:  # the model's second guess comes first, not the first label
        item = store.batch_items("demo").set_index("id").loc[shown]
    rivals = {k: v for k, v in item["probs"].items() if k != item["label"]}
    assert relabel_to == max(rivals, key=rivals.get)
    next(b for b in app.button if b.label == "Relabel").click().run()
    next(b for b in app.button if b.label == "Undo my last decision").click().run()
    assert not app.exception, app.exception
    with Store.open(review_env) as store:
        live = store.reviews("demo")
        assert list(live["decision"]) == ["accept"] and list(live["reviewer"]) == ["alice"]
        every = store.reviews("demo", include_undone=True)
        assert list(every["decision"]) == ["accept", "relabel"] and every["new_label"].iloc[1] == relabel_to


@pytest.fixture()
def au_env(monkeypatch, tmp_path):
    """A tiny finished au_iat run (lambda 1) beside the two embedded SynthFACS AU runs."""
    import streamlit as st

    from fer_core.train import config_from_dict, train

    cfg = config_from_dict(
        {
            "recipe": "au_iat",
            "name": "au_tiny",
            "out_dir": str(tmp_path / "runs"),
            "data": {
                "manifest": {"synthfacs": {"n": 120, "size": 48, "seed": 5, "habit_rate": 1.0, "n_identities": 12}},
                "aligned": True,
                "val_fraction": 0.25,
            },
            "model": {"input_size": 48, "arch_kwargs": {"widths": [4, 8, 16, 16]}},
            "optim": {"epochs": 1, "batch_size": 32},
            "au": {"au_set": "DISFA8"},
            "trainer": {"seed": 0, "monitor": "val/au_f1"},
        }
    )
    train(cfg, progress=False)
    monkeypatch.setenv("FER_CORE_RUNS", str(tmp_path / "runs"))
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.mark.slow
def test_action_units_page_shows_per_au_heatmaps_and_the_run_tables(au_env):
    app = AppTest.from_file(APP, default_timeout=180).run()
    app.switch_page("views/action_units.py").run()
    assert not app.exception, app.exception
    assert any(m.value.startswith("#### Face 1:") for m in app.markdown)
    captions = [c for img in app.get("image") for c in img.captions]
    au_maps = [c for c in captions if c.startswith("AU")]
    assert len(au_maps) == 6 and any(" in mouth" in c or " in brows" in c for c in au_maps)
    tables = app.dataframe
    assert len(tables) == 2 and len(tables[0].value) == 8  # the newest run's DISFA-8 per-AU F1, then the comparison
    # every AU run, the baseline (lambda 0) first and the strongest IAT last, as in the chart above the table
    assert list(tables[1].value["run"]) == ["synthfacs_au_lambda0", "au_tiny", "synthfacs_au_iat"]
    assert list(tables[1].value["IAT lambda"]) == [0.0, 1.0, 2.0]


@pytest.mark.slow
def test_emonet_page_shows_families_top_heatmaps_and_the_agreement_table():
    """The embedded synthfacs_emonet40 run: a face's 40 intensities, the valence view, heatmaps of the 3 strongest
    categories, and the run's agreement with its (simulated) expert annotators."""
    import streamlit as st

    st.cache_data.clear()
    app = AppTest.from_file(APP, default_timeout=180).run()
    app.switch_page("views/emonet.py").run()
    assert not app.exception, app.exception
    assert any(m.value.startswith("#### Face 1: **") for m in app.markdown)
    assert any(m.value.startswith("Overall: **") for m in app.markdown)
    captions = [c for img in app.get("image") for c in img.captions]
    assert sum("most evidence:" in c or "evidence only against" in c for c in captions) == 3
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Strongest category right"].endswith("%") and "Annotators vs each other" in metrics
    table = app.dataframe[0].value
    assert len(table) == 15 and {"human", "alpha", "alpha_lo", "alpha_hi"} <= set(table.columns)
    assert any(
        "could be an annotator" in m.value.lower() or "not like an annotator" in m.value.lower() for m in app.markdown
    )
