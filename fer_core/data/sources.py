"""Data sources of a training config: a manifest path, or a SynthFACS spec rendered once into the cache.

Lives outside ``train/`` so the dashboard and evaluation can re-create a shipped run's SynthFACS images (they are
deterministic) without importing Lightning.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..errors import DatasetError
from .synthfacs import RENDERER_VERSION, SynthSpec, write_dataset

__all__ = ["default_cache_dir", "materialize"]


def default_cache_dir() -> Path:
    return Path(os.environ.get("FER_CORE_CACHE") or Path.home() / ".cache" / "fer_core")


def _synth_spec(values: dict) -> SynthSpec:
    try:
        return SynthSpec(
            **{k: (tuple(v) if isinstance(v, list) and k == "intensity" else v) for k, v in values.items()}
        )
    except TypeError as exc:
        raise DatasetError(f"synthfacs source: {exc}") from exc
    except ValueError as exc:
        raise DatasetError(f"synthfacs source: {exc}") from exc


def materialize(source: Any, cache_dir: str | Path | None = None, progress: bool = False) -> Path:
    """The manifest path of a data source: a manifest path as is, or ``{"synthfacs": {...}}`` rendered once into
    ``<cache>/synthfacs/<hash of the spec and the renderer version>/`` (same spec -> same folder, reused)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise DatasetError(f"manifest {path} does not exist")
        return path
    if isinstance(source, dict) and set(source) == {"synthfacs"} and isinstance(source["synthfacs"], dict):
        spec = _synth_spec(source["synthfacs"])
        fields = asdict(spec) | {"renderer": RENDERER_VERSION}
        key = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:16]
        folder = Path(cache_dir or default_cache_dir()) / "synthfacs" / key
        manifest = folder / "manifest.csv"
        if not manifest.is_file():
            tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
            write_dataset(spec, tmp, progress=progress, workers=min(2, os.cpu_count() or 1))
            if folder.exists():  # another process finished first: keep its copy
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.replace(folder)
        return manifest
    raise DatasetError(f"a data source is a manifest path or {{synthfacs: {{...}}}}, got {source!r}")
