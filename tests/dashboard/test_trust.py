"""The domain warning on the photo pages and the model-card sections, through Streamlit's AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fer_core.models.domain import NOTE_SYNTHFACS_ON_PHOTO

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")
RUN_MODEL = "run:synthfacs_bias_supervised"  # an embedded demo run, trained on SynthFACS renders


def _warned(app: AppTest) -> bool:
    return any(NOTE_SYNTHFACS_ON_PHOTO in w.value for w in app.warning)


@pytest.fixture()
def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=180).run()


@pytest.mark.slow
def test_a_synthfacs_run_model_on_the_portrait_warns_and_the_default_model_does_not(app):
    assert not app.exception, app.exception
    assert "astronaut" in app.selectbox(key="explain_sample").value  # the bundled portrait, a real photo
    assert not _warned(app)  # the default FER2013 model is trained on real photos
    assert any("grey at 64x64 px; colour is dropped" in c.value for c in app.caption)
    app.selectbox(key="_w_model_name").set_value(RUN_MODEL).run()
    assert not app.exception, app.exception
    assert _warned(app)
    synth = next(o for o in app.selectbox(key="explain_sample").options if o.startswith("SynthFACS"))
    app.selectbox(key="explain_sample").set_value(synth).run()
    assert not app.exception and not _warned(app)  # a render is what this model knows
    app.selectbox(key="explain_sample").set_value(app.selectbox(key="explain_sample").options[0]).run()
    app.switch_page("views/occlusion.py").run()
    assert not app.exception and _warned(app)


@pytest.mark.slow
def test_the_model_card_shows_model_card_sections_and_a_runs_figures(app):
    app.switch_page("views/model_card.py").run()
    assert not app.exception, app.exception
    heads = [s.value for s in app.subheader]
    for title in ("Intended use", "Out-of-scope uses", "Training data", "Evaluation data and figures"):
        assert title in heads
    assert heads.index("Caveats and limitations") < heads.index("Model details")
    text = " ".join(m.value for m in app.markdown)
    assert "1e\\-5" in " ".join(i.value for i in app.info) and "real photographs" in text
    app.selectbox(key="_w_model_name").set_value(RUN_MODEL).run()
    assert not app.exception, app.exception
    heads = [s.value for s in app.subheader]
    assert "Per-group figures" in heads
    table = app.dataframe[0].value
    assert {"age", "skin_tone", "gender"} <= set(table["attribute"]) and "older" in set(table["group"])
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["accuracy"] == "0.905" and metrics["faces"] == "3,000"  # from the run's evaluation.json
