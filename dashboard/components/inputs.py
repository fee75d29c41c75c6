"""The image source widget shared by pages: bundled samples or uploads (kept in memory, never written)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from .. import _resources as res
from .. import _state as keys
from .text import md


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


def _share_uploads(uploader_key: str) -> None:
    """The uploader changed (a photo added or removed): the photo pages' shared selection follows it."""
    files = st.session_state.get(uploader_key) or []
    st.session_state[keys.UPLOADS] = [(f.name, f.getvalue()) for f in files]


CAMERA = "Camera"


def image_inputs(key: str, camera: bool = False) -> list[ImageInput]:
    """Let the user pick a sample, upload photos or (with ``camera``) take a snapshot; returns (name, bytes) of
    every chosen image.

    Photos uploaded on one photo page stay chosen on the others (in this session's memory only), so a user who
    moves from Heatmaps to Occlusion need not upload again; uploading others, or removing them, changes it for all.
    A camera snapshot is kept by its widget only (memory), for a live demo.
    """
    shared = st.session_state.get(keys.UPLOADS) or []
    source = st.radio(
        "Image source",
        ["Bundled sample", "Upload photos"] + ([CAMERA] if camera else []),
        index=1 if shared else 0,
        horizontal=True,
        key=f"{key}_{keys.INPUT_SOURCE}",
    )
    if source == CAMERA:
        shot = st.camera_input("Take a snapshot (it stays in this app's memory)", key=f"{key}_{keys.INPUT_CAMERA}")
        return [ImageInput("camera snapshot", shot.getvalue())] if shot is not None else []
    if source == "Upload photos":
        uploader_key = f"{key}_{keys.INPUT_UPLOAD}"
        files = st.file_uploader(
            "Face photos (JPEG, PNG, WebP, TIFF, GIF, BMP). They stay in memory.",
            accept_multiple_files=True,
            key=uploader_key,
            on_change=_share_uploads,
            args=(uploader_key,),
        )
        if files:
            return [ImageInput(f.name, f.getvalue(), i) for i, f in enumerate(files)]
        if shared:
            names = ", ".join(md(name) for name, _ in shared)
            st.caption(f"Showing the photo(s) you uploaded earlier in this session: {names}. Upload others above.")
            if st.button("Forget these photos", key=f"{key}_{keys.INPUT_FORGET}"):
                st.session_state[keys.UPLOADS] = []
                st.rerun()
            return [ImageInput(name, data, i) for i, (name, data) in enumerate(shared)]
        return []
    samples = res.sample_files()
    names = list(samples)
    current = st.session_state.get(keys.SAMPLE)
    choice = st.selectbox(
        "Sample", names, index=names.index(current) if current in names else 0, key=f"{key}_{keys.INPUT_SAMPLE}"
    )
    st.session_state[keys.SAMPLE] = choice
    return [ImageInput(choice, samples[choice].read_bytes())] if choice else []


def page_header(title: str, caption: str, key: str, camera: bool = False):
    """Title, caption, the image-source picker on the left (with a camera snapshot when ``camera``); returns
    (inputs, right-hand column for options)."""
    st.title(title)
    st.caption(caption)
    left, right = st.columns([3, 2])
    with left:
        inputs = image_inputs(key, camera)
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


MANIFEST_CHOICE = "a manifest file…"


def dataset_source(source_key: str, manifest_key: str, label: str, help_text: str) -> tuple[str, str, str]:
    """A run's test set (with its own model) or a manifest path (with the sidebar model): (source label, the
    run folder or manifest path, the model name; "" for a run's own model)."""
    runs = res.classifier_runs()
    sources = [f"run: {n} (test set)" for n in runs] + [MANIFEST_CHOICE]
    source = st.selectbox(label, sources, key=source_key, help=help_text)
    if source == MANIFEST_CHOICE:
        path = st.text_input("Manifest path (.csv / .parquet)", key=manifest_key)
        model_name = st.session_state[keys.MODEL]
        st.caption(f"Model: **{md(model_name)}** (sidebar); faces are detected and aligned.")
        return source, path, model_name
    return source, runs[source.removeprefix("run: ").removesuffix(" (test set)")], ""
