"""``fer-core compare-transfer``'s work: models named as the CLI names them (run folder, run name, checkpoint,
pretrained name), faces from a manifest, a folder or the first run's test set, and a text report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import ImageLoadError
from ..models import LoadedModel
from ..studies import TransferComparison, compare_models, format_p

__all__ = ["compare_specs", "format_report", "resolve_model"]


def resolve_model(spec: str | Path) -> tuple[LoadedModel, object | None]:
    """A model and, where it has one, its run: a run folder, a run name (``NAME`` or ``run:NAME``, under the runs
    folder or the shipped runs), a ``.safetensors`` checkpoint or a registered pretrained name."""
    from ..models import load_model
    from ..runs import RunFolder, is_run_dir, list_runs, open_run

    text = str(spec)
    if is_run_dir(text):
        run = open_run(text)
        return run.model(), run
    name = text.removeprefix("run:")
    if not Path(text).is_file():
        for run in list_runs():
            if run.name == name and run.has(RunFolder.MODEL):
                return run.model(), run
    return load_model(text), None


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif")


def _read_images(folder: str | Path, n: int | None) -> tuple[list[np.ndarray], list[str], list[dict]]:
    from ..face import load_image

    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}")
    images, names, bad = [], [], []
    for p in files[:n] if n else files:
        try:
            images.append(load_image(p))
            names.append(str(p))
        except ImageLoadError as exc:
            bad.append({"path": str(p), "error": str(exc)})
    return images, names, bad


def compare_specs(
    specs: Sequence[str | Path],
    data: str | Path | None = None,
    images: str | Path | None = None,
    n: int | None = 200,
    method: str = "lrp",
    target: str | None = None,
    aligned: bool | None = None,
    seed: int = 0,
    show_progress: bool = False,
) -> TransferComparison:
    """:func:`compare_models` for model specs as the CLI takes them (:func:`resolve_model`): on a manifest
    (``data``), a folder of images (``images``), or by default the first model's run test set; ``n`` faces at most
    (a fixed random sample of a manifest, the first ``n`` files of a folder)."""
    resolved = [resolve_model(s) for s in specs]
    models: dict[str, LoadedModel] = {}
    for spec, (loaded, run) in zip(specs, resolved):
        name = run.name if run is not None else str(spec)
        while name in models:
            name += " (again)"
        models[name] = loaded
    first_run, target_column, unreadable = resolved[0][1], "label", []
    if images is not None:
        source, paths, unreadable = _read_images(images, n)
    elif data is not None:
        source = data
    elif first_run is not None:
        source = first_run.test_manifest()
        cfg = first_run.config.get("data", {})
        aligned = cfg.get("aligned") if aligned is None else aligned
        target_column = cfg.get("target") or "label"
    else:
        raise ValueError("pass --data MANIFEST or --images DIR, or name a run as the first model to use its test set")
    bars: list = []

    def progress(done: int, total: int) -> None:
        if not bars:
            from tqdm.auto import tqdm

            bars.append(tqdm(total=total, desc="load and explain faces (rows x passes)"))
        bars[0].update(done - bars[0].n)

    result = compare_models(
        models,
        source,
        target=target,
        method=method,
        target_column=target_column,
        aligned=aligned,
        limit=n if images is None else None,
        seed=seed,
        keep_maps=False,
        progress=progress if show_progress else None,
    )
    for bar in bars:
        bar.close()
    if images is not None:
        result.faces["path"] = [paths[r] for r in result.faces["row"]]
        result.no_face = [paths[int(s.removeprefix("image "))] for s in result.no_face]
        result.unreadable = unreadable
    return result


def format_report(o: dict) -> str:
    """The JSON of :meth:`TransferComparison.to_json` as text for a terminal."""
    names = [m["name"] for m in o["models"]]
    lines = [f"{o['n_faces']} faces of {o['n']} inputs; {o['method']} heatmaps of {o['explained_class']}"]
    for m in o["models"]:
        acc = "" if m["accuracy"] is None else f": accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f}"
        lines.append(f"  {m['name']}{acc}")
    lines.append("\nshare of the positive relevance per region, % (95% bootstrap CI)")
    width = max(24, *(len(n) + 2 for n in names))
    lines.append(f"  {'region':10s}" + "".join(f"{n:>{width}s}" for n in names))
    cells = {(s["model"], s["region"]): s for s in o["shares"]}
    for r in o["regions"]:
        lines.append(
            f"  {r:10s}"
            + "".join(
                f"{_ci_text(cells[(n, r)]['share'], cells[(n, r)]['share_lo'], cells[(n, r)]['share_hi']):>{width}s}"
                for n in names
            )
        )
    lines.append(f"\ndifferences ({o['test']})")
    for d in o["differences"]:
        lines.append(
            f"  {d['a']} - {d['b']}, {d['region']:9s} {_ci_text(d['diff'], d['diff_lo'], d['diff_hi'])} "
            f"points, p = {format_p(d['p_value'])}, Holm {format_p(d['p_holm'])}"
        )
    lines += ["", *o["verdicts"]]
    skipped = len(o["no_face"]) + len(o["unreadable"])
    if skipped:
        lines.append(f"({len(o['no_face'])} inputs without a face, {len(o['unreadable'])} unreadable)")
    return "\n".join(lines)


def _ci_text(v: float | None, lo: float | None, hi: float | None) -> str:
    if v is None:
        return "-"
    if lo is None or hi is None or np.isnan(lo):
        return f"{100 * v:+.1f}"
    return f"{100 * v:5.1f} [{100 * lo:5.1f}, {100 * hi:5.1f}]"
