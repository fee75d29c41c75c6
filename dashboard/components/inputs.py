"""The image source widget shared by pages: bundled samples or uploads (kept in memory, never written)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from .. import _resources as res
from .. import _state as keys


@dataclass
class ImageInput:
    """One chosen image: its name, bytes and position in the list (the same photo may be uploaded twice)."""

    name: str
    data: bytes
    index: int = 0

    @property
    def sha(self) -> str:
        return res.sha(self.data)

    @property
    def key(self) -> str:
        """A widget-key stem unique on the page, also when two uploads hold the same bytes."""
        return f"{self.index}_{self.sha}"


def image_inputs(key: str) -> list[ImageInput]:
    """Let the user pick a sample or upload photos; returns (name, bytes) of every chosen image."""
    source = st.radio(
        "Image source", ["Bundled sample", "Upload photos"], horizontal=True, key=f"{key}_{keys.INPUT_SOURCE}"
    )
    if source == "Upload photos":
        files = st.file_uploader(
            "Face photos (JPEG, PNG, WebP, TIFF, GIF, BMP). They stay in memory.",
            accept_multiple_files=True,
            key=f"{key}_{keys.INPUT_UPLOAD}",
        )
        return [ImageInput(f.name, f.getvalue(), i) for i, f in enumerate(files or [])]
    samples = res.sample_files()
    names = list(samples)
    current = st.session_state.get(keys.SAMPLE)
    choice = st.selectbox(
        "Sample", names, index=names.index(current) if current in names else 0, key=f"{key}_{keys.INPUT_SAMPLE}"
    )
    st.session_state[keys.SAMPLE] = choice
    return [ImageInput(choice, samples[choice].read_bytes())] if choice else []


def page_header(title: str, caption: str, key: str):
    """Title, caption, the image-source picker on the left; returns (inputs, right-hand column for options)."""
    st.title(title)
    st.caption(caption)
    left, right = st.columns([3, 2])
    with left:
        inputs = image_inputs(key)
    return inputs, right


def recipe_run_picker(recipe: str, label: str, key: str, missing: str, where) -> tuple[str, list[str]]:
    """(the folder chosen in a select box in ``where``, every finished ``recipe`` run, newest first); without any
    such run, ``missing`` (how to train one) is shown and the page stops."""
    runs = res.recipe_runs(recipe)
    if not runs:
        st.info(missing)
        st.stop()
    names = {Path(f).name: f for f in runs}
    with where:
        chosen = st.selectbox(label, list(names), key=key)
    return names[chosen], runs
