"""Helpers every command group shares: the ``--model`` option, JSON-or-text output, and how a command turns its
``target`` (a run folder or a model) and ``--data`` into a model and a manifest, so all commands read them alike."""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from typing import Any


def _add_model(p: argparse.ArgumentParser) -> None:
    from ..names import DEFAULT_MODEL

    p.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help="a shipped or added model name (fer-core models list), a .safetensors checkpoint, or any model file "
        f"with a PATH.card.yaml beside it (default: {DEFAULT_MODEL})",
    )
    _add_device(p)
    p.add_argument(
        "--trust-pickle",
        action="store_true",
        help="allow a model file that is a full pickle: loading it RUNS CODE from the file, which can read, change or "
        "delete anything you can; use only for a file from someone you trust",
    )


def _add_device(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--device", default="auto", help="auto (a GPU when there is one), cpu, cuda, cuda:N or mps (default: auto)"
    )


def _add_landmarker(p: argparse.ArgumentParser, dataset: bool = False) -> None:
    """``--landmarker``: for one photo the mesh by default where it runs; for a dataset the 5 points (faster, and
    the figures of earlier runs), the mesh when asked or when a group column is ``pose_bin``."""
    from ..names import LANDMARKER_CHOICES

    default = None if dataset else "auto"
    what = (
        "default: 5 points, or the mesh when grouping by pose_bin"
        if dataset
        else "default: auto, the mesh where it can run"
    )
    p.add_argument(
        "--landmarker",
        choices=LANDMARKER_CHOICES,
        default=default,
        help=f"how each face's landmarks, regions and head pose are found: the 468-point mesh (regions from the "
        f"face's own outlines, head pose) or MTCNN's 5 points with template shapes ({what})",
    )


def _add_engine(p: argparse.ArgumentParser, shards_option: bool = True) -> None:
    """The batch engine's options (loader workers; Lightning devices, nodes and strategy; a resumable shard folder)."""
    g = p.add_argument_group(
        "batch engine",
        "how the images are processed; with more than one device or node, or --shards, the job runs "
        "on Lightning's Trainer.predict (under torchrun or SLURM the same command runs on every rank)",
    )
    g.add_argument(
        "--workers",
        type=int,
        help="processes that decode, detect and align faces (default: none for under 256 images, else one per core)",
    )
    g.add_argument("--devices", default="1", help="devices per node: a number, 'auto', or a list like 0,1 (default 1)")
    g.add_argument("--num-nodes", type=int, default=1, help="machines (default 1)")
    g.add_argument("--strategy", default="auto", help="Lightning strategy, e.g. ddp (default auto)")
    g.add_argument("--block", type=int, default=512, help="images per block: one shard file, one unit of resuming")
    if shards_option:
        g.add_argument("--shards", help="keep per-block results in this folder; re-running resumes from it")


def engine_options(args: argparse.Namespace, out: str | None = None) -> Any:
    """The engine options of a command's ``--workers/--devices/--num-nodes/--strategy/--block/--shards``."""
    from ..batch import EngineOptions

    devices: int | str = args.devices
    if isinstance(devices, str) and devices.isdigit():
        devices = int(devices)
    return EngineOptions(
        block=args.block,
        workers=args.workers,
        devices=devices,
        num_nodes=args.num_nodes,
        strategy=args.strategy,
        accelerator=getattr(args, "device", "auto") or "auto",  # cuda[:N] -> gpu, cpu, mps, auto: the engine maps it
        out=out if out is not None else getattr(args, "shards", None),
        show_progress=not getattr(args, "json", False),
    )


def load_for(args: argparse.Namespace, name: str) -> Any:
    """``name`` loaded on ``--device``, with ``--trust-pickle`` as given (commands without those options: CPU)."""
    from ..models import load_model

    return load_model(name, device=getattr(args, "device", "cpu"), trust_pickle=getattr(args, "trust_pickle", False))


def json_safe(obj: Any) -> Any:
    """``obj`` with every NaN or infinite float replaced by None: JSON has no NaN, and a reader's parser would
    either fail or take a NaN for a number."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 1) == 0:  # numpy scalars
        return json_safe(obj.item())
    return obj


def _print(obj: dict, as_json: bool, human: Callable[[dict], None]) -> None:
    """``--json``: the result as strict JSON (scripts parse it); otherwise ``human`` prints it as text."""
    if as_json:
        print(json.dumps(json_safe(obj), indent=2, allow_nan=False, default=str))
    else:
        human(obj)


def _resolve_model(args: argparse.Namespace) -> tuple[Any, bool | None, str]:
    """A run folder (its best checkpoint and training settings) or a model name / checkpoint path."""
    from ..runs import is_run_dir, open_run

    target = args.target or args.model
    if is_run_dir(target):
        run = open_run(target)
        return run.model().to(getattr(args, "device", "cpu")), run.aligned, run.target_column
    return load_for(args, target), None, "label"


def _study_inputs(args: argparse.Namespace) -> tuple[Any, Any, bool | None, str]:
    """(model, manifest, aligned, target) of a study: a run's test set unless --data names a manifest."""
    from ..runs import is_run_dir, open_run

    loaded, aligned, target = _resolve_model(args)
    data = args.data
    if data is None:
        if not is_run_dir(args.target or ""):
            raise ValueError("pass --data MANIFEST (or name a run folder to use its test set)")
        data = open_run(args.target).test_manifest()
    if getattr(args, "aligned", None) is not None:
        aligned = args.aligned
    return loaded, data, aligned, args.target_column or target


def _columns(items: list[str] | None) -> list[str]:
    """Column names given as repeated and/or comma-separated options (``--group-by a,b --group-by c``)."""
    return [c.strip() for item in (items or []) for c in item.split(",") if c.strip()]


def _ci(v: float, lo: float, hi: float, scale: float = 100) -> str:
    """A figure and its interval in one fixed-width cell, in points."""
    return f"{v * scale:5.1f} [{lo * scale:5.1f}, {hi * scale:5.1f}]"
