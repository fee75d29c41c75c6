"""Reading the model files users have: which format a file is, the network inside it, and the card fields that
can be read off it, so a user states only what the file cannot say (the label names, usually)."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import torch
from torch import nn

from ...errors import CheckpointError
from ..card import CARD_KEY, ModelCard
from .onnx_model import OnnxModule, convert_to_torch
from .state_dict import build_from_state_dict, guess_arch, io_sizes, read_state_dict

WEIGHT_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")
PICKLE_SUFFIXES = (".pkl", ".pickle")
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def default_normalisation(in_chans: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(mean, std) when neither the file nor the user says: ImageNet's for RGB, none (0, 1) for grey."""
    return (IMAGENET_MEAN, IMAGENET_STD) if in_chans == 3 else ((0.0,), (1.0,))


MSG_PICKLE = (
    "{name} would be read as a full pickle, which runs any code its maker put in it (it can read or delete your "
    "files). Pass --trust-pickle (trust_pickle=True) only for a file from someone you trust"
)


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file, or of a folder's files in name order (a transformers folder)."""
    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode())
        with file.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def detect_format(path: str | Path) -> str:
    """The card ``format`` a path holds, from its layout and first bytes (never by unpickling it).

    Parameters
    ----------
    path
        A weights file or a transformers folder.

    Returns
    -------
    str
        One of :data:`fer_core.models.card.FORMATS`.

    Raises
    ------
    CheckpointError
        The path does not exist or is of no format fer_core reads.
    """
    path = Path(path)
    if path.is_dir():
        if (path / "config.json").is_file():
            return "transformers"
        raise CheckpointError(f"{path} is a folder without config.json; only transformers folders are read")
    if not path.is_file():
        raise CheckpointError(f"model file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        return "onnx"
    if suffix in PICKLE_SUFFIXES:
        return "pickle"
    if suffix == ".safetensors":
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="pt") as f:
                return "safetensors" if CARD_KEY in (f.metadata() or {}) else "state_dict"
        except Exception as exc:  # noqa: BLE001
            raise CheckpointError(f"{path.name} is not a readable safetensors file: {exc}") from exc
    if suffix in WEIGHT_SUFFIXES or zipfile.is_zipfile(path):
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
            if any(n.split("/", 1)[-1].startswith("code/") or n.endswith("/constants.pkl") for n in names):
                return "torchscript"
        return "state_dict"
    raise CheckpointError(
        f"{path.name}: unknown model format {suffix or '(no suffix)'}; fer_core reads .safetensors, .pt/.pth/.bin "
        "(state dict or TorchScript), .onnx, a transformers folder, and .pkl only with --trust-pickle"
    )


def load_network(
    path: str | Path,
    card: ModelCard,
    trust_pickle: bool = False,
    convert_onnx: bool = True,
) -> tuple[nn.Module, str]:
    """The network in ``path`` as the card's ``format`` says, checked against the card; and a note on it (how an
    ONNX graph runs).

    Parameters
    ----------
    path
        The weights file or folder.
    card
        Its card (``format``, ``arch`` for a state dict, sizes and labels to check against).
    trust_pickle
        Allow ``format='pickle'``: unpickling runs code from the file.
    convert_onnx
        Try onnx2torch on an ONNX graph (kept only where it equals onnxruntime); False runs it in onnxruntime.

    Returns
    -------
    tuple[nn.Module, str]
        The network in eval mode, and a note (empty unless there is something to say).

    Raises
    ------
    CheckpointError
        The file cannot be read as its format, or contradicts its card.
    """
    path, fmt, note = Path(path), card.format, ""
    if fmt == "state_dict":
        arch_kwargs = card.extra.get("arch_kwargs", {}) if isinstance(card.extra, dict) else {}
        model = build_from_state_dict(
            card.arch, read_state_dict(path), card.num_classes, card.in_chans, path.name, **arch_kwargs
        )
    elif fmt == "torchscript":
        try:
            model = torch.jit.load(str(path), map_location="cpu").eval()
        except Exception as exc:  # noqa: BLE001
            raise CheckpointError(f"{path.name} is not a loadable TorchScript archive: {exc}") from exc
    elif fmt == "onnx":
        model = OnnxModule(path)  # on the CPU provider; LoadedModel.to(cuda) opens it on CUDA
        check_onnx_input(model, card, path.name)
        converted, why = convert_to_torch(model, probe_input(card)) if convert_onnx else (None, "")
        if converted is not None:
            model, note = converted, "converted to PyTorch by onnx2torch (equal to onnxruntime within 1e-5)"
        else:
            note = why
    elif fmt == "transformers":
        from .transformers_folder import load_transformers

        model = load_transformers(path)
    elif fmt == "pickle":
        if not trust_pickle:
            raise CheckpointError(MSG_PICKLE.format(name=path.name))
        model = load_pickle(path)
    else:
        raise CheckpointError(f"{path.name}: format {fmt!r} is not a foreign format (use load_checkpoint)")
    check_outputs(model, card, path.name)
    if fmt in ("state_dict", "transformers", "pickle"):
        from .vit_mapping import mapped_if_equal

        mapped, why = mapped_if_equal(model, probe_input(card))
        model, note = (mapped, why) if mapped is not None else (model, why or note)
    return model, note


def load_pickle(path: Path) -> nn.Module:
    """A whole pickled ``nn.Module`` (only ever called after the user said they trust the file)."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001
        raise CheckpointError(f"{path.name} could not be unpickled: {exc}") from exc
    if not isinstance(obj, nn.Module):
        raise CheckpointError(
            f"{path.name} unpickles to a {type(obj).__name__}, not a model; a state dict needs --arch instead"
        )
    return obj.eval()


def probe_input(card: ModelCard) -> torch.Tensor:
    """A fixed input of the card's shape: a ramp, so outputs differ between classes and convert checks mean
    something."""
    h, w = card.input_size
    n = card.in_chans * h * w
    return (torch.linspace(-1, 1, 2 * n).reshape(2, card.in_chans, h, w)).float()


def check_onnx_input(model: OnnxModule, card: ModelCard, what: str) -> None:
    """The graph's declared input channels and size must be the card's (symbolic dimensions take any)."""
    chans, h, w = model.declared_input()
    if chans is not None and chans != card.in_chans:
        raise CheckpointError(f"{what}: the card says {card.in_chans} input channel(s) but the graph takes {chans}")
    if (h is not None and h != card.input_size[0]) or (w is not None and w != card.input_size[1]):
        raise CheckpointError(
            f"{what}: the card says input size {card.input_size[0]}x{card.input_size[1]} but the graph takes {h}x{w}"
        )


def check_outputs(model: nn.Module, card: ModelCard, what: str) -> None:
    """One forward pass on the card's input shape: it must run and give one output per label name."""
    first_conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    if (
        first_conv is not None
        and first_conv.in_channels != card.in_chans
        and not isinstance(model, torch.jit.ScriptModule)
    ):
        raise CheckpointError(
            f"{what}: the card says {card.in_chans} input channel(s) but the model's first convolution takes "
            f"{first_conv.in_channels}"
        )
    try:
        with torch.no_grad():
            out = model(probe_input(card)[:1])
    except Exception as exc:  # noqa: BLE001 - any failure means the card's input does not fit the model
        raise CheckpointError(
            f"{what}: the model does not run on the card's input (1, {card.in_chans}, {card.input_size[0]}, "
            f"{card.input_size[1]}): {str(exc).splitlines()[0][:200]}"
        ) from exc
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise CheckpointError(f"{what}: the model's output is {shape}; fer_core reads (N, K) logits or scores")
    if out.shape[1] != card.num_classes:
        raise CheckpointError(
            f"{what}: the card names {card.num_classes} labels but the model gives {out.shape[1]} outputs"
        )


def guess_card_fields(path: str | Path, guess_architecture: bool = True) -> dict:
    """What the file itself says about its card: format, architecture, outputs, input channels and size, labels
    (transformers folders name them), normalisation. The add form and ``models add`` start from these.

    Parameters
    ----------
    path
        A weights file or transformers folder.
    guess_architecture
        Try every registry architecture against a state dict (a second or two); off when the user named one.

    Returns
    -------
    dict
        A subset of ModelCard fields, plus ``num_outputs`` and ``arch_candidates`` where they are known.
    """
    path = Path(path)
    fmt = detect_format(path)
    fields: dict = {"format": fmt, "sha256": file_sha256(path)}
    if fmt == "state_dict":
        state = read_state_dict(path)
        outputs, chans = io_sizes(state)
        candidates = guess_arch(state) if guess_architecture else []
        fields.update(num_outputs=outputs, arch_candidates=candidates)
        if chans in (1, 3):
            fields["in_chans"] = chans
        if candidates:
            fields["arch"] = candidates[0]
    elif fmt == "onnx":
        chans, h, w = OnnxModule(path).declared_input()
        fields["arch"] = "onnx"
        if chans in (1, 3):
            fields["in_chans"] = chans
        if h and w:
            fields["input_size"] = (h, w)
    elif fmt == "torchscript":
        fields["arch"] = "torchscript"
    elif fmt == "transformers":
        from .transformers_folder import transformers_card_fields

        fields.update(transformers_card_fields(path))
    elif fmt == "pickle":
        fields["arch"] = "pickle"
    mean, std = default_normalisation(fields.get("in_chans", 3))
    fields.setdefault("mean", mean)
    fields.setdefault("std", std)
    return fields


__all__ = [
    "OnnxModule",
    "detect_format",
    "file_sha256",
    "guess_card_fields",
    "load_network",
    "read_state_dict",
]
