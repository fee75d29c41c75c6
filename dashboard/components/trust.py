"""How far to trust a model on this image: the notes of ``fer_core.models.domain`` shown beside the results."""

from __future__ import annotations

import streamlit as st

from fer_core.models import LoadedModel, domain_notes

from .. import _resources as res
from .inputs import ImageInput
from .text import md


def input_kind(item: ImageInput) -> str:
    """``synthfacs`` for a bundled SynthFACS sample (its name and its bytes), ``photo`` for anything else."""
    path = res.sample_files().get(item.name)
    if path is None or not path.is_relative_to(res.SYNTH_SAMPLE.parent):
        return "photo"
    return "synthfacs" if res.sha(path.read_bytes()) == item.sha else "photo"


def domain_notice(model: str | LoadedModel, item: ImageInput) -> None:
    """A warning when the model was trained on another kind of image than ``item`` (a SynthFACS model on a photo),
    a caption for the milder notes (a photo model on a render, an unstated domain, colour dropped).

    Parameters
    ----------
    model
        The model that produced the results: a name the sidebar offers, or a loaded model (a run's own model).
    item
        The image the results are for.
    """
    loaded = res.load_model(model) if isinstance(model, str) else model
    notes = domain_notes(loaded.card, input_kind=input_kind(item), image_shape=res.decode(item.sha, item.data).shape)
    for note in notes:
        if note.severity == "warning":
            st.warning(f"**{md(loaded.name)}**: {note.text}", icon=":material/warning:")
        else:
            st.caption(note.text)
