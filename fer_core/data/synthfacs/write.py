"""Writing datasets: the manifest layout, :func:`metadata` (rows without rendering), :func:`write_dataset` (images,
evidence masks, ``manifest.csv``, ``spec.json`` and, for EmoNet-40, ``ratings.csv``), optionally in worker
processes, and :func:`measure_speed`."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np

from .ratings import write_emonet_ratings
from .render import render_face
from .sampling import SynthSample, generate, sample_params
from .spec import SynthSpec

MANIFEST_COLUMNS: tuple[str, ...] = (
    "path",
    "split",
    "label",
    "label_set",
    "aus",
    "subject",
    "gender",
    "age",
    "race",
    "skin_tone",
    "lighting",
    "occluder",
    "mask_path",
    "source",
    "true_label",
    "habit_au",
    "landmarks",
)

#: Extra manifest columns of ``label_set="emonet40"`` datasets.
EMONET_COLUMNS: tuple[str, ...] = ("intensities", "rated")


def manifest_columns(spec: SynthSpec) -> tuple[str, ...]:
    """The manifest's columns for ``spec``, in the order they are written."""
    return MANIFEST_COLUMNS + (EMONET_COLUMNS if spec.label_set == "emonet40" else ())


def image_rel_path(i: int) -> str:
    return f"images/{i:06d}.png"


def mask_rel_path(i: int) -> str:
    return f"images/{i:06d}_evidence.png"


def metadata(spec: SynthSpec):
    """The manifest rows of ``spec`` without rendering (a pandas DataFrame; ``path``/``mask_path`` as written by
    :func:`write_dataset`)."""
    import pandas as pd

    rows = []
    for s in generate(spec, render=False):
        r = {"path": image_rel_path(s.index), **s.row(), "mask_path": mask_rel_path(s.index)}
        rows.append(r)
    return pd.DataFrame(rows, columns=list(manifest_columns(spec)))


def encode_png(arr: np.ndarray) -> bytes:
    """PNG bytes of a uint8 image (BGR or grey), fast compression level 1 (the files are many and small)."""
    ok, buf = cv2.imencode(".png", arr, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return buf.tobytes()


def write_dataset(
    spec: SynthSpec,
    out_dir: str | Path,
    *,
    progress: bool = False,
    callback: Callable[[int, int], None] | None = None,
    indices: Sequence[int] | None = None,
    workers: int = 1,
) -> Path:
    """Render ``spec`` into ``out_dir``: ``images/NNNNNN.png``, the evidence mask ``images/NNNNNN_evidence.png``
    (0/255) beside each image, ``manifest.csv`` and ``spec.json``. Returns the manifest path.

    ``indices`` optionally restricts the output to some face indices (same faces as in the full dataset);
    ``workers`` > 1 renders in that many processes (output identical to ``workers=1``).
    """
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    idx = list(range(spec.n)) if indices is None else [int(i) for i in indices]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(idx), desc="synth", unit="face")
    rows = []
    done = 0
    for res in _render_indices(spec, idx, workers, mode="files"):
        for i, row, img_png, ev_png in res:
            (out / image_rel_path(i)).write_bytes(img_png)
            (out / mask_rel_path(i)).write_bytes(ev_png)
            rows.append(row)
            done += 1
            if callback is not None:
                callback(done, len(idx))
        if bar is not None:
            bar.update(len(res))
    if bar is not None:
        bar.close()
    manifest = out / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(manifest_columns(spec)), lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow(r)
    if spec.label_set == "emonet40":
        write_emonet_ratings(rows, out / "ratings.csv", seed=spec.seed)
    spec_d = asdict(spec)
    (out / "spec.json").write_text(
        json.dumps(spec_d, indent=2, sort_keys=True, default=_json_default) + "\n", encoding="utf-8"
    )
    return manifest


def _json_default(o):
    """JSON fallback for ``spec.json``: arrays as lists, other mappings as dicts, anything else as its str."""
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Mapping):
        return dict(o)
    return str(o)


def _single_thread() -> None:
    cv2.setNumThreads(1)  # tiny images: OpenCV's thread pool costs more than it saves (worker processes only)


def _render_chunk(args: tuple[SynthSpec, list[int], str]):
    """Worker body. mode "arrays": full results; "files": encoded PNGs and manifest rows; "count": render only."""
    spec, idx, mode = args
    cache: dict = {}
    out = []
    for i in idx:
        params, label, true_label, split = sample_params(spec, i, cache)
        rgb, ev, lm = render_face(params)
        if mode == "count":
            continue
        if mode == "files":
            s = SynthSample(index=i, params=params, label=label, true_label=true_label, split=split)
            row = {
                "path": image_rel_path(i),
                **s.row(),
                "mask_path": mask_rel_path(i),
                "landmarks": ";".join(f"{x:.2f},{y:.2f}" for x, y in lm),
            }
            out.append(
                (i, row, encode_png(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)), encode_png(ev.astype(np.uint8) * 255))
            )
        else:
            out.append((i, params, label, true_label, split, rgb, ev, lm))
    return len(idx) if mode == "count" else out


def _render_indices(
    spec: SynthSpec, idx: Sequence[int], workers: int, mode: str = "arrays", chunk: int = 64
) -> Iterator:
    """Yield the per-chunk results of :func:`_render_chunk` in index order."""
    chunks = [list(idx[k : k + chunk]) for k in range(0, len(idx), chunk)]
    before = cv2.getNumThreads()
    cv2.setNumThreads(1)  # tiny images: OpenCV's thread pool costs more than it saves; forked children inherit it
    try:
        if workers <= 1 or len(chunks) <= 1:
            for c in chunks:
                yield _render_chunk((spec, c, mode))
            return
        import multiprocessing as mp

        fork = "fork" in mp.get_all_start_methods()
        ctx = mp.get_context("fork" if fork else "spawn")
        with ctx.Pool(workers, initializer=None if fork else _single_thread) as pool:
            yield from pool.imap(_render_chunk, [(spec, c, mode) for c in chunks])
    finally:
        cv2.setNumThreads(before)


def measure_speed(n: int = 2000, size: int = 112, seed: int = 0, workers: int = 1) -> float:
    """Faces per second for sampling + rendering ``n`` faces in ``workers`` processes (no PNG encoding)."""
    spec = SynthSpec(n=n, size=size, seed=seed)
    render_face(sample_params(spec, 0)[0])
    t0 = time.perf_counter()
    done = sum(_render_indices(spec, list(range(n)), workers, mode="count"))
    return done / (time.perf_counter() - t0)
