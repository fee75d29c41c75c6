"""The Models page's resources: a user's model file (a path on this machine or an upload, staged in a temporary
folder only while fer_core reads it), what the file says, a preview, and saving or removing it. The shared model
and result caches stay in ``_resources``; these functions clear them when a model comes or goes."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from dashboard import _resources as res
from fer_core import models
from fer_core.face import load_image
from fer_core.workflows import ModelPreview


@dataclass(frozen=True)
class ModelFile:
    """A model file (or transformers folder) the user named on this machine, or one they uploaded (its bytes, put
    in a temporary folder only while fer_core reads it); ``ident`` tells two files apart for caches and forms."""

    name: str
    ident: tuple
    path: Path | None = None
    data: bytes | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_path(cls, text: str) -> ModelFile:
        path = Path(text.strip().strip("'\"")).expanduser()
        try:
            stat = path.stat()
            ident = ("path", str(path), stat.st_mtime_ns, stat.st_size)
        except OSError:
            ident = ("path", str(path))  # fer_core says that it is missing
        return cls(path.name or str(path), ident, path=path)

    @classmethod
    def from_upload(cls, name: str, data: bytes) -> ModelFile:
        safe = Path(name).name.strip() or "model"
        return cls(safe, ("upload", safe, res.sha(data)), data=data)

    @contextmanager
    def staged(self) -> Iterator[Path]:
        """The path to read: the user's own, or the upload written to a temporary folder removed afterwards."""
        if self.path is not None:
            yield self.path
            return
        with tempfile.TemporaryDirectory(prefix="fer_model_") as folder:
            target = Path(folder) / self.name
            target.write_bytes(self.data or b"")
            yield target


def guess_fields(file: ModelFile) -> dict:
    """What the file says about its card (``guess_card_fields``), read once per file."""
    return _guess_fields(file.ident, file)


@st.cache_data(max_entries=16, show_spinner="Reading the model file…")
def _guess_fields(ident: tuple, _file: ModelFile) -> dict:
    with _file.staged() as path:
        return models.guess_card_fields(path)


def preview_images() -> dict[str, Path]:
    """The bundled portrait and the first SynthFACS face of the gallery."""
    files = res.sample_files()
    photo = next((k for k in files if not k.startswith("SynthFACS")), None)
    synth = next((k for k in files if k.startswith("SynthFACS")), None)
    return {k: files[k] for k in (photo, synth) if k}


def preview_model(file: ModelFile, name: str, fields: dict, trust_pickle: bool) -> ModelPreview:
    """Build the card (``build_card``), load the file with it (``load_foreign``, on the sidebar's device) and run
    ``fer_core.workflows.preview_model`` on :func:`preview_images`. Nothing is stored."""
    from fer_core.models import load_foreign
    from fer_core.workflows import preview_model as run_preview

    with file.staged() as path:
        card = models.build_card(path, **fields)
        loaded = load_foreign(path, card, name=name or None, trust_pickle=trust_pickle).to(res.device_choice())
        images = {label: load_image(p) for label, p in preview_images().items()}
        return run_preview(loaded, images, res.detector())


def save_model(file: ModelFile, name: str, fields: dict, trust_pickle: bool, overwrite: bool):
    """``add_model``: check the file against its card and store both; the picker sees the new name at once."""
    with file.staged() as path:
        added = models.add_model(path, name, trust_pickle=trust_pickle, overwrite=overwrite, **fields)
    res.forget_model(added.name)
    return added


def remove_user_model(name: str) -> None:
    """``remove_model`` (the stored copy; the user's original file stays), and forget everything cached under it."""
    models.remove_model(name)
    res.forget_model(name)
