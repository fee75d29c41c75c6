"""Widgets of the Models page: where a model file comes from, the card form filled in from the file, the preview of
a candidate model, which explanation methods apply, and the user's added models with their Remove buttons."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from fer_core.errors import FerCoreError
from fer_core.explain import METHODS, overlay
from fer_core.face import TEMPLATES
from fer_core.models import DOMAIN_NAMES
from fer_core.workflows import ModelPreview

from .. import _state as keys
from .._model_files import ModelFile
from .errors import report_unexpected, unexpected_message
from .figures import probability_chart
from .text import md

SOURCES = ("Path on this machine", "Upload a file")
UPLOAD_TYPES = ("pt", "pth", "bin", "ckpt", "safetensors", "onnx", "pkl", "pickle")
OUTPUT_NAMES = {
    "softmax": "one class of the labels (softmax)",
    "sigmoid": "each label its own probability (sigmoid)",
    "regression": "values, e.g. valence and arousal (regression)",
    "embedding": "an embedding (its head is untrained)",
}
OUTPUT_KINDS = {k: OUTPUT_NAMES[k] for k in ("softmax", "sigmoid", "regression")}  # what an added model may be
TEMPLATE_HELP = (
    "How faces are cropped before the model sees them. fer2013: loose crops as in FER2013 (brows to chin, little "
    "background); tight: the closer crop of SynthFACS-trained and ArcFace-like models."
)
PICKLE_WARNING = (
    "This file is a full Python pickle. Loading it runs whatever code its maker put in it, with this dashboard's "
    "rights on this machine: it can read, change or delete files and send them elsewhere. Tick the box only for a "
    "file from someone you trust. A state dict, TorchScript or ONNX export of the same model needs no trust."
)
TRUST_LABEL = "I trust this file and its maker: load it as a pickle"
NAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")
DOMAIN_KEY = "_w_models_domain"


@contextmanager
def model_errors() -> Iterator[None]:
    """What fer_core refuses (CheckpointError, UnknownModelError, a bad field) becomes its message in a red box; any
    other failure a short message with an error id (the details go to the server log). Never a traceback."""
    try:
        yield
    except (FerCoreError, ValueError) as exc:
        st.error(md(exc))
    except Exception as exc:  # noqa: BLE001 - a user's model file can fail in any way; the page goes on
        st.error(unexpected_message(report_unexpected(exc, "Models page"), "Reading this model"))


def model_file_input() -> ModelFile | None:
    """A path on the machine running the dashboard (a file or a transformers folder), or an uploaded file."""
    source = st.radio("Model file", SOURCES, horizontal=True, key=keys.MODELS_SOURCE)
    if source == SOURCES[1]:
        limit = st.get_option("server.maxUploadSize")
        upload = st.file_uploader(
            f"A state dict, TorchScript, ONNX or pickle file (up to {limit} MB; a larger file or a transformers "
            "folder: give its path instead)",
            type=list(UPLOAD_TYPES),
            key=keys.MODELS_UPLOAD,
        )
        return ModelFile.from_upload(upload.name, upload.getvalue()) if upload is not None else None
    text = st.text_input(
        "Path of a model file or a Hugging Face transformers folder on the machine running the dashboard",
        key=keys.MODELS_PATH,
        placeholder="/data/models/my_fer_resnet18.pt",
    )
    return ModelFile.from_path(text) if text.strip() else None


def file_summary(guess: dict) -> None:
    """One line of what the file itself says (format, outputs, channels, fitting architectures, SHA-256)."""
    parts = [f"format **{md(guess['format'])}**"]
    if guess.get("num_outputs"):
        parts.append(f"{guess['num_outputs']} outputs")
    if guess.get("label_names"):
        parts.append(f"{len(guess['label_names'])} named labels")
    if guess.get("in_chans"):
        parts.append(f"{guess['in_chans']} input channel(s)")
    if guess.get("input_size"):
        parts.append(f"input {guess['input_size'][0]} x {guess['input_size'][1]} px")
    if guess["format"] == "state_dict":
        fits = guess.get("arch_candidates") or []
        parts.append(f"fits {md(', '.join(fits))}" if fits else "no registered architecture fits it exactly")
    parts.append(f"SHA-256 `{guess['sha256'][:12]}…`")
    st.markdown("The file says: " + " · ".join(parts))


def default_name(file_name: str) -> str:
    """A valid model name from a file name: its stem with other characters as '-'."""
    stem = Path(file_name).stem if Path(file_name).suffix else file_name
    return NAME_CHARS.sub("-", stem).strip("-._")[:64] or "my-model"


def _numbers(values: Sequence[float]) -> str:
    return ", ".join(f"{v:g}" for v in values)


def _parse_numbers(text: str, what: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.replace(";", ",").split(",") if v.strip())
    except ValueError:
        raise ValueError(f"{what} must be numbers separated by commas, like 0.5, 0.5, 0.5; got {text!r}") from None
    if not values:
        raise ValueError(f"{what} needs one number per input channel")
    return values


@dataclass
class CardRequest:
    """What the user asked for in the card form: ``preview`` or ``save``, under ``name``, with these card fields."""

    action: str
    name: str
    fields: dict
    trust_pickle: bool
    overwrite: bool


def _refill(ident: tuple, defaults: dict) -> None:
    """The form's fields start from what the file says when another file is chosen (or the page is opened again).

    They are set through the session state, not as the widgets' defaults: only a value set that way replaces what
    the browser still shows in a form of the file before.
    """
    if st.session_state.get(keys.MODELS_FORM_FOR) == ident and all(k in st.session_state for k in defaults):
        return
    for key in keys.MODELS_FORM_FIELDS:
        st.session_state.pop(key, None)
    for key, value in defaults.items():
        st.session_state[key] = value
    st.session_state[keys.MODELS_FORM_FOR] = ident


def card_form(file: ModelFile, guess: dict, architectures: Sequence[str]) -> CardRequest | None:
    """The card of the model, pre-filled from ``guess`` (``guess_card_fields``), with Preview and Save; returns the
    request when one of them was pressed (ValueError for a field that cannot be read, naming it)."""
    fmt, outputs = guess["format"], guess.get("num_outputs")
    size, chans = guess.get("input_size") or (224, 224), guess.get("in_chans", 3)
    mean_text, std_text = _numbers(guess["mean"]), _numbers(guess["std"])
    fits = list(guess.get("arch_candidates") or [])
    arch_options = fits + [a for a in architectures if a not in fits]
    defaults = {
        keys.MODELS_NAME: default_name(file.name),
        keys.MODELS_ARCH: arch_options[0] if fmt == "state_dict" and arch_options else str(guess.get("arch", fmt)),
        keys.MODELS_LABELS: ", ".join(guess.get("label_names", ())),
        keys.MODELS_HEIGHT: int(size[0]),
        keys.MODELS_WIDTH: int(size[1]),
        keys.MODELS_CHANS: 1 if chans == 1 else 3,
        keys.MODELS_MEAN: mean_text,
        keys.MODELS_STD: std_text,
        keys.MODELS_OUTPUT: "softmax",
        keys.MODELS_TEMPLATE: "fer2013",
        keys.MODELS_MARGIN: 0.0,
        keys.MODELS_ORIGIN_URL: "",
        keys.MODELS_LICENCE: "",
        keys.MODELS_TRAINING: "",
        DOMAIN_KEY: "unknown",
        keys.MODELS_NOTES: "",
        keys.MODELS_OVERWRITE: False,
    } | ({keys.MODELS_TRUST: False} if fmt == "pickle" else {})
    _refill(file.ident, defaults)
    with st.form(keys.MODELS_FORM, border=True):
        c1, c2 = st.columns(2)
        name = c1.text_input(
            "Name",
            key=keys.MODELS_NAME,
            help="What the model is called in the sidebar's picker and on the command line (--model NAME): 1-64 "
            "letters, digits, '.', '_' or '-'.",
        )
        if fmt == "state_dict":
            arch = c2.selectbox(
                "Architecture",
                arch_options,
                key=keys.MODELS_ARCH,
                help="The network these weights belong to; the ones listed first fit the file's tensors exactly.",
            )
        else:
            arch = None
            c2.text_input(
                "Architecture",
                disabled=True,
                key=keys.MODELS_ARCH,
                help="A file of this format carries its own network.",
            )
        labels = st.text_input(
            "Labels, in output order, separated by commas" + (f" ({outputs} outputs)" if outputs else ""),
            key=keys.MODELS_LABELS,
            placeholder="angry, disgust, fear, happy, sad, surprise, neutral",
            help="The name of each output of the model, first output first.",
        )
        c1, c2, c3 = st.columns(3)
        height = c1.number_input("Input height (px)", min_value=1, max_value=4096, key=keys.MODELS_HEIGHT)
        width = c2.number_input("Input width (px)", min_value=1, max_value=4096, key=keys.MODELS_WIDTH)
        in_chans = c3.selectbox(
            "Input channels",
            [3, 1],
            format_func=lambda c: "3 (RGB)" if c == 3 else "1 (grey)",
            key=keys.MODELS_CHANS,
        )
        c1, c2 = st.columns(2)
        mean = c1.text_input(
            "Mean per channel (pixels scaled to 0-1)",
            key=keys.MODELS_MEAN,
            help="Subtracted from each channel; left as it is, it follows the channels chosen.",
        )
        std = c2.text_input("Std per channel", key=keys.MODELS_STD, help="Each channel is divided by it.")
        c1, c2, c3 = st.columns(3)
        output = c1.selectbox(
            "The outputs are", list(OUTPUT_KINDS), format_func=OUTPUT_KINDS.get, key=keys.MODELS_OUTPUT
        )
        template = c2.selectbox(
            "Face crop (alignment template)", list(TEMPLATES), key=keys.MODELS_TEMPLATE, help=TEMPLATE_HELP
        )
        margin = c3.number_input(
            "Margin around the crop",
            min_value=0.0,
            max_value=1.0,
            step=0.05,
            key=keys.MODELS_MARGIN,
            help="Extra border on each side, as a fraction of the crop side (0.2: 20 % more of the head each way).",
        )
        c1, c2 = st.columns(2)
        source = c1.text_input("Source (where you got the file)", key=keys.MODELS_ORIGIN_URL, placeholder="https://…")
        licence = c2.text_input("Licence", key=keys.MODELS_LICENCE, placeholder="e.g. MIT, CC BY-NC 4.0, internal")
        with st.expander("Training data and notes"):
            training = st.text_input("Training data", key=keys.MODELS_TRAINING)
            domain = st.selectbox(
                "Trained on",
                ["unknown", "photos", "synthfacs"],
                format_func=DOMAIN_NAMES.get,
                key=DOMAIN_KEY,
                help="Pages warn when the images you explain are of another kind than the model was trained on.",
            )
            notes = st.text_area("Notes", key=keys.MODELS_NOTES, height=80)
        trust = False
        if fmt == "pickle":
            st.warning(PICKLE_WARNING, icon=":material/warning:")
            trust = st.checkbox(TRUST_LABEL, key=keys.MODELS_TRUST)
        overwrite = st.checkbox("Replace an added model of the same name", key=keys.MODELS_OVERWRITE)
        b1, b2, _ = st.columns([1, 1, 4])
        preview = b1.form_submit_button(
            "Preview", icon=":material/visibility:", key=keys.MODELS_PREVIEW, width="stretch"
        )
        save = b2.form_submit_button(
            "Save", type="primary", icon=":material/save:", key=keys.MODELS_SAVE, width="stretch"
        )
    if not (preview or save):
        return None
    names = tuple(n.strip() for n in labels.split(",") if n.strip())
    if not names:
        raise ValueError(
            "Name the model's outputs in order, separated by commas"
            + (f" (the file has {outputs})." if outputs else ".")
        )
    if fmt == "pickle" and not trust:
        raise ValueError(f"This file is a full pickle: it is loaded only once you tick “{TRUST_LABEL}” (see above).")
    fields = {
        "label_names": names,
        "input_size": (int(height), int(width)),
        "in_chans": int(in_chans),
        "output": output,
        "template": template,
        "margin": float(margin),
        "source": source.strip(),
        "licence": licence.strip(),
        "training_data": training.strip(),
        "domain": domain,
        "notes": notes.strip(),
    }
    if arch:
        fields["arch"] = arch
    if mean.strip() != mean_text or std.strip() != std_text:  # edited: both as typed (else they follow the channels)
        fields["mean"], fields["std"] = _parse_numbers(mean, "Mean"), _parse_numbers(std, "Std")
    return CardRequest("preview" if preview else "save", name.strip(), fields, trust, overwrite)


def scores_chart(labels: Sequence[str], scores: np.ndarray, output: str, key: str) -> None:
    """Probability bars (softmax, sigmoid), or the raw values of a regression model."""
    if output in ("softmax", "sigmoid"):
        probability_chart(labels, scores, key=key)
        return
    df = pd.DataFrame({"output": list(labels), "value": [float(v) for v in scores]})
    fig = px.bar(df, x="value", y="output", orientation="h", text_auto=".2f", height=260)
    fig.update_layout(
        margin=dict(l=0, r=10, t=10, b=0),
        yaxis=dict(categoryorder="array", categoryarray=list(labels)[::-1], title=None),
    )
    st.plotly_chart(fig, width="stretch", key=key)


def support_table(support: dict[str, str]) -> None:
    """``method_support`` as a table: method, whether it applies, and why not."""
    st.table(
        pd.DataFrame(
            {
                "method": [METHODS.get(m, m) for m in support],
                "applies": ["yes" if not why else "no" for why in support.values()],
                "why not": [why or "" for why in support.values()],
            }
        ).set_index("method")
    )


def _headline(face) -> str:
    if face.probs is None:
        return f"**{md(face.name)}**"
    top = float(np.max(face.probs))
    if face.output == "softmax":
        return f"**{md(face.name)}**: **{md(face.pred)}** ({top:.0%})"
    if face.output == "sigmoid":
        return f"**{md(face.name)}**: strongest output **{md(face.pred)}** ({top:.0%})"
    return f"**{md(face.name)}**: largest value **{md(face.pred)}** ({top:.2f})"


def preview_panel(preview: ModelPreview) -> None:
    """The candidate model on the preview faces: each face's crop, heatmap and scores; then what applies."""
    method = METHODS.get(preview.method, "none applies")
    st.subheader("Preview")
    st.markdown(
        f"Nothing is saved yet · runs in {preview.runtime} · {preview.parameters:,} parameters · "
        f"{preview.card.num_classes} outputs · heatmap: {md(method)}"
    )
    if preview.note:
        st.info(md(preview.note), icon=":material/info:")
    columns = st.columns(max(1, len(preview.faces)), border=True)
    for i, (column, face) in enumerate(zip(columns, preview.faces)):
        with column:
            st.markdown(_headline(face))
            if face.crop is not None:
                left, right = st.columns(2)
                left.image(face.crop, caption="what the model sees", width="stretch")
                if face.heatmap is not None:
                    right.image(
                        overlay(face.crop, face.heatmap, size=192),
                        caption=f"evidence for {face.pred}",
                        width="stretch",
                    )
            if face.probs is not None:
                scores_chart(face.labels, face.probs, face.output, key=f"{keys.MODELS_PREVIEW_CHART}_{i}")
            if face.problem:
                st.warning(md(face.problem))
    st.markdown("**What applies** to this model")
    support_table(preview.support)


def user_models_table(models: Sequence) -> None:
    """The added models (``UserModel.summary()``), one row each."""
    rows = []
    for m in models:
        s = m.summary()
        rows.append(
            {
                "name": s["name"],
                "format": s["format"],
                "architecture": s["arch"],
                "labels": ", ".join(s["labels"]),
                "outputs": s["output"],
                "input": s["input"],
                "SHA-256": s["sha256"][:12],
                "source": s["source"],
                "licence": s["licence"],
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def remove_buttons(models: Sequence, on_remove: Callable[[str], None]) -> None:
    """A Remove button per added model; pressing it asks for confirmation before ``on_remove(name)``."""
    waiting = st.session_state.get(keys.MODELS_REMOVING)
    for m in models:
        text, button = st.columns([5, 1], vertical_alignment="center")
        text.markdown(f"**{md(m.name)}** · {md(m.card.arch)} · {m.card.num_classes} labels")
        if button.button("Remove", key=f"{keys.MODELS_REMOVE}_{m.name}", icon=":material/delete:", width="stretch"):
            st.session_state[keys.MODELS_REMOVING] = waiting = m.name
        if waiting == m.name:
            with st.container(border=True):
                st.warning(
                    f"Remove **{md(m.name)}**? Its stored copy and card are deleted; the file you added it from is "
                    "not touched."
                )
                yes, no, _ = st.columns([1, 1, 4])
                if yes.button("Yes, remove", key=f"{keys.MODELS_REMOVE_YES}_{m.name}", type="primary"):
                    st.session_state.pop(keys.MODELS_REMOVING, None)
                    on_remove(m.name)
                if no.button("Cancel", key=f"{keys.MODELS_REMOVE_NO}_{m.name}"):
                    st.session_state.pop(keys.MODELS_REMOVING, None)
                    st.rerun()
