"""The Models page through Streamlit's AppTest: a user's own model file (a torchvision state dict made here, no
download) is read, previewed on two faces, saved, picked in the sidebar, shown on the Model card and removed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")
LABELS = "angry, happy, neutral"
SIZE = 64  # a resnet18 runs on any size; small keeps the preview's heatmaps fast


@pytest.fixture()
def models_home(monkeypatch, tmp_path):
    """Added models go to a fresh FER_CORE_HOME; the dashboard's cached model lists start empty."""
    from dashboard import _resources as res

    home = tmp_path / "home"
    monkeypatch.setenv("FER_CORE_HOME", str(home))
    res.model_names.clear()
    res.user_models.clear()
    yield home
    res.model_names.clear()
    res.user_models.clear()


@pytest.fixture(scope="module")
def resnet_file(tmp_path_factory) -> Path:
    """A 3-output torchvision resnet18 state dict (random weights), as a user would have saved it."""
    import torch
    import torchvision

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("user_files") / "my resnet.pt"  # a space: the default name must still be valid
    torch.save(torchvision.models.resnet18(weights=None, num_classes=3).state_dict(), path)
    return path


def models_page() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120)
    app.switch_page("views/models.py").run()  # straight to the page: the Heatmaps page is not computed
    assert not app.exception, app.exception
    return app


def fill_card(app: AppTest, labels: str, **text) -> None:
    """The form's fields (sent with the next Preview or Save, as a browser sends a form)."""
    app.text_input(key="_w_models_labels").set_value(labels)
    app.number_input(key="_w_models_height").set_value(SIZE)
    app.number_input(key="_w_models_width").set_value(SIZE)
    for key, value in text.items():
        app.text_input(key=f"_w_models_{key}").set_value(value)


def errors(app: AppTest) -> list[str]:
    return [e.value for e in app.error]


def test_a_users_model_is_previewed_saved_picked_and_removed(models_home, resnet_file):
    app = models_page()
    app.text_input(key="_w_models_path").set_value(str(resnet_file)).run()
    assert not app.exception and not errors(app), errors(app)
    said = next(m.value for m in app.markdown if m.value.startswith("The file says"))
    assert "3 outputs" in said and "resnet18" in said
    assert app.selectbox(key="_w_models_arch").value == "resnet18"  # the architecture the tensors fit, first
    assert app.text_input(key="_w_models_name").value == "my-resnet"

    fill_card(app, LABELS, name="r18-fer")
    app.button(key="models_preview").click().run()
    assert not app.exception and not errors(app), errors(app)
    charts = app.get("plotly_chart")
    assert len(charts) == 2  # the portrait and a SynthFACS face
    for chart in charts:
        bars = json.loads(chart.proto.spec)["data"][0]
        assert list(bars["y"]) == ["angry", "happy", "neutral"]
    headlines = [m.value for m in app.markdown if m.value.startswith("**") and "(" in m.value]
    assert any("astronaut" in h for h in headlines) and any("SynthFACS" in h for h in headlines)
    assert any(c.startswith("evidence for ") for img in app.get("image") for c in img.captions)  # one heatmap each
    assert "Preview" in [s.value for s in app.subheader]
    assert "LRP" in next(m.value for m in app.markdown if m.value.startswith("Nothing is saved yet"))
    support = app.table[0].value
    assert set(support["applies"]) == {"yes"}  # a torchvision resnet: every method applies
    assert not (models_home / "models").exists()  # a preview stores nothing

    fill_card(app, LABELS, name="r18-fer", source_url="https://example.org/r18", licence="MIT")
    app.button(key="models_save").click().run()
    assert not app.exception and not errors(app), errors(app)
    assert any("Added **r18\\-fer**" in s.value for s in app.success)
    picker = app.selectbox(key="_w_model_name")
    assert "r18-fer" in picker.options and picker.value == "r18-fer"  # the picker has it and follows the save
    table = app.dataframe[0].value
    assert list(table["name"]) == ["r18-fer"] and table["labels"][0] == LABELS and table["licence"][0] == "MIT"
    assert (models_home / "models" / "r18-fer" / "card.yaml").is_file()

    app.switch_page("views/model_card.py").run()
    assert not app.exception
    card = " ".join(m.value for m in app.markdown)
    assert "`state_dict`" in card and "`resnet18`" in card and "MIT" in card
    assert "`https://example.org/r18`" in card  # the source as typed, in code (never a link)
    assert f"`{table['SHA-256'][0]}" in card  # the full SHA-256 starts with the table's short one

    app.switch_page("views/models.py").run()
    app.button(key="models_rm_r18-fer").click().run()
    assert any("Remove **r18\\-fer**?" in w.value for w in app.warning)
    assert (models_home / "models" / "r18-fer").is_dir()  # not before the confirmation
    app.button(key="models_rm_yes_r18-fer").click().run()
    assert not app.exception and not errors(app), errors(app)
    assert any("Removed **r18\\-fer**" in s.value for s in app.success)
    picker = app.selectbox(key="_w_model_name")
    assert "r18-fer" not in picker.options and picker.value == "fer2013_mini_xception"
    assert not (models_home / "models" / "r18-fer").exists() and resnet_file.is_file()  # the user's file stays
    assert any("No model added yet" in i.value for i in app.info)


def test_a_label_count_that_contradicts_the_file_is_an_error_naming_both_numbers(models_home, resnet_file):
    app = models_page()
    app.text_input(key="_w_models_path").set_value(str(resnet_file)).run()
    fill_card(app, "angry, happy, neutral, sad")
    app.button(key="models_save").click().run()
    assert not app.exception
    shown = errors(app)
    assert len(shown) == 1 and "4 labels" in shown[0] and "3 outputs" in shown[0], shown
    assert "Traceback" not in shown[0]
    assert not (models_home / "models").exists()  # nothing stored
    assert "my-resnet" not in app.selectbox(key="_w_model_name").options


def test_missing_labels_and_a_missing_file_are_messages(models_home, resnet_file):
    app = models_page()
    app.text_input(key="_w_models_path").set_value(str(resnet_file)).run()
    app.button(key="models_preview").click().run()  # the file names no labels and none were typed
    assert not app.exception
    assert any("Name the model" in e and "3" in e for e in errors(app)), errors(app)
    app.text_input(key="_w_models_path").set_value(str(resnet_file.with_name("nowhere.pt"))).run()
    assert not app.exception
    assert any("not found" in e for e in errors(app)), errors(app)
    assert app.selectbox(key="_w_device").options[:2] == ["auto", "cpu"]  # the sidebar's device picker


def test_a_pickle_is_loaded_only_once_trusted_and_another_file_refills_the_form(models_home, resnet_file, tmp_path):
    import torch
    import torchvision

    pickled = tmp_path / "whole_model.pkl"
    torch.save(torchvision.models.resnet18(weights=None, num_classes=3), pickled)
    app = models_page()
    app.text_input(key="_w_models_path").set_value(str(resnet_file)).run()
    assert app.text_input(key="_w_models_name").value == "my-resnet"
    assert "_w_models_trust" not in [c.key for c in app.checkbox]  # asked for pickles only
    app.text_input(key="_w_models_path").set_value(str(pickled)).run()
    assert app.text_input(key="_w_models_name").value == "whole_model"  # the form starts again from this file
    assert any("runs whatever code its maker put in it" in w.value for w in app.warning)
    fill_card(app, LABELS)
    app.button(key="models_preview").click().run()
    assert not app.exception and not app.get("plotly_chart")  # not unpickled
    assert any("tick" in e for e in errors(app)), errors(app)
    fill_card(app, LABELS)
    app.checkbox(key="_w_models_trust").check()
    app.button(key="models_preview").click().run()
    assert not app.exception and not errors(app), errors(app)
    assert len(app.get("plotly_chart")) == 2


def test_the_heatmaps_page_offers_only_the_methods_that_apply_to_an_onnx_model(models_home, tmp_path):
    """An ONNX graph runs only in onnxruntime: the picker offers occlusion, says why the rest do not apply, and the
    page draws heatmaps without an exception."""

    import torch
    import torchvision

    from dashboard import _state as keys
    from fer_core.models import add_model
    from tests._onnx import export_onnx

    torch.manual_seed(0)
    net = torchvision.models.resnet18(weights=None, num_classes=3).eval()
    export_onnx(net, tmp_path / "v.onnx", (1, 3, SIZE, SIZE))
    add_model(tmp_path / "v.onnx", "vendor", label_names=("angry", "happy", "neutral"), input_size=(SIZE, SIZE))
    app = AppTest.from_file(APP, default_timeout=180)
    app.session_state[keys.MODEL] = "vendor"
    app.run()
    assert not app.exception, app.exception
    method = app.selectbox(key=keys.widget_key(keys.METHOD))
    assert method.options == ["Sliding-window occlusion"]
    assert any("without gradients" in c.value for c in app.caption)
    assert not errors(app), errors(app)
    app.switch_page("views/report.py").run()  # the report's heatmaps use a method that applies, not LRP
    assert not app.exception, app.exception
    assert any("heatmaps: **occlusion**" in m.value for m in app.markdown)
