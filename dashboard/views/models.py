"""Models: bring your own model (a state dict, TorchScript, ONNX, a transformers folder, a trusted pickle), preview
it on two faces before saving it, see which explanation methods apply, and remove added models."""

from __future__ import annotations

import streamlit as st

from dashboard import _model_files as files
from dashboard import _resources as res
from dashboard import _state as keys
from dashboard.components.model_views import (
    card_form,
    file_summary,
    model_errors,
    model_file_input,
    preview_panel,
    remove_buttons,
    support_table,
    user_models_table,
)
from dashboard.components.text import md
from fer_core import models as api
from fer_core.explain import method_support
from fer_core.models import DEFAULT_MODEL, list_models

st.title("Models")
home = str(api.models_dir()).replace("`", "")
st.caption(
    f"Added models are kept in `{home}` (set FER_CORE_HOME to change) and appear in the sidebar's model picker. "
    "The same as `fer-core models add FILE --name NAME --labels ...` on the command line."
)
flash = st.session_state.pop(keys.MODELS_FLASH, None)
if flash:
    st.success(flash, icon=":material/check_circle:")


def select(name: str) -> None:
    """Make ``name`` the sidebar's model (its picker shows it from the next run on)."""
    st.session_state[keys.MODEL] = name


def remove(name: str) -> None:
    with model_errors():
        files.remove_user_model(name)
        if st.session_state[keys.MODEL] == name:
            select(DEFAULT_MODEL)
        st.session_state[keys.MODELS_FLASH] = f"Removed **{md(name)}**."
        st.rerun()


st.subheader("Add a model")
file = model_file_input()
if file is None:
    st.info(
        "Give the path of a model file (or transformers folder) on this machine, or upload one: the form then "
        "starts from what the file says about itself."
    )
else:
    with model_errors():
        guess = files.guess_fields(file)
        file_summary(guess)
        request = card_form(file, guess, list_models())
        if request is not None and request.action == "preview":
            with st.spinner("Loading the model and explaining two faces…"):
                preview = files.preview_model(file, request.name, request.fields, request.trust_pickle)
            preview_panel(preview)
        elif request is not None:
            added = files.save_model(file, request.name, request.fields, request.trust_pickle, request.overwrite)
            select(added.name)
            st.session_state[keys.MODELS_FLASH] = (
                f"Added **{md(added.name)}** ({added.card.num_classes} labels); it is now the sidebar's model."
            )
            st.rerun()

st.subheader("Your models")
models = res.user_models()
if not models:
    st.info("No model added yet.")
else:
    user_models_table(models)
    remove_buttons(models, remove)

st.subheader("What applies")
names = res.model_names()
current = st.session_state[keys.MODEL]
chosen = st.selectbox(  # starts from the sidebar's model, again whenever that changes
    "Explanation methods for",
    names,
    index=names.index(current) if current in names else 0,
    key=f"{keys.MODELS_SUPPORT}_{current}",
)
with model_errors():
    loaded = res.load_model(chosen)
    support_table(method_support(loaded))
    if loaded.note:
        st.info(md(loaded.note), icon=":material/info:")
