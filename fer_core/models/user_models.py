"""The user's own models: a folder per model (the file as added, and ``card.yaml``) in ``$FER_CORE_HOME/models``
or the platform's data folder, never inside the package. After ``add_model`` the name works wherever a model
name does (``load_model``, ``--model``, the dashboard's picker)."""

from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from ..errors import CheckpointError, UnknownModelError
from .card import ModelCard
from .formats import default_normalisation, guess_card_fields

CARD_FILE = "card.yaml"
SIDECAR_SUFFIX = ".card.yaml"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MSG_NAME = "a model name is 1-64 letters, digits, '.', '_' or '-' (starting with a letter or digit), got {name!r}"


def fer_core_home() -> Path:
    """``$FER_CORE_HOME``, else the platform's per-user data folder (XDG on Linux) + ``fer-core``."""
    if os.environ.get("FER_CORE_HOME"):
        return Path(os.environ["FER_CORE_HOME"]).expanduser()
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming") / "fer-core"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "fer-core"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "fer-core"


def models_dir() -> Path:
    return fer_core_home() / "models"


@dataclass(frozen=True)
class UserModel:
    """One added model: its name, the stored weights (file or transformers folder) and its card."""

    name: str
    weights: Path
    card: ModelCard

    def summary(self) -> dict:
        c = self.card
        return {
            "name": self.name,
            "format": c.format,
            "arch": c.arch,
            "labels": list(c.label_names),
            "output": c.output,
            "input": f"{c.in_chans}x{c.input_size[0]}x{c.input_size[1]}",
            "sha256": c.sha256,
            "source": c.source,
            "licence": c.licence,
            "weights": str(self.weights),
        }


def card_to_yaml(card: ModelCard) -> str:
    data = asdict(card)
    for key in ("input_size", "mean", "std", "label_names"):
        data[key] = list(data[key])
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def card_from_yaml(text: str, what: str) -> ModelCard:
    """A card written as YAML (``card.yaml``, a sidecar ``PATH.card.yaml``); CheckpointError naming the field."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CheckpointError(f"{what} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(raw, dict):
        raise CheckpointError(f"{what} must be a mapping of card fields, got {type(raw).__name__}")
    import json

    try:
        return ModelCard.from_json(json.dumps(raw))
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{what}: {exc}") from exc


def build_card(path: str | Path, /, **given) -> ModelCard:
    """The card of a model file: what the file says (:func:`guess_card_fields`) overridden by what the user gave.

    Parameters
    ----------
    path
        The weights file or transformers folder.
    **given
        ModelCard fields (None values are ignored); ``label_names`` is required unless the file names them.

    Returns
    -------
    ModelCard
        The validated card (format and SHA-256 filled in).

    Raises
    ------
    CheckpointError
        The file cannot be read, no architecture fits a state dict, or a field is invalid.
    """
    source = Path(path)
    given = {k: v for k, v in given.items() if v is not None}
    guessed = guess_card_fields(source, guess_architecture="arch" not in given)
    fields = {k: v for k, v in guessed.items() if k in ModelCard.__dataclass_fields__} | given
    if "in_chans" in given and "mean" not in given and len(fields["mean"]) != given["in_chans"]:
        fields["mean"], fields["std"] = default_normalisation(given["in_chans"])
    if "arch" not in fields:
        outputs, chans = guessed.get("num_outputs"), guessed.get("in_chans")
        raise CheckpointError(
            f"{source.name}: no registered architecture has exactly these weights ({outputs} outputs, {chans} "
            "input channel(s)); name it with --arch (fer-core models lists them; timm/<name> takes any timm model)"
        )
    if "label_names" not in fields:
        n = guessed.get("num_outputs")
        raise CheckpointError(
            "name the model's outputs in order with --labels L1,L2,..." + (f" ({n} outputs)" if n else "")
        )
    fields.setdefault("input_size", (224, 224))
    if str(fields["arch"]).startswith("timm/vit") and "extra" not in given:  # timm ViTs are built for one size
        fields["extra"] = {"arch_kwargs": {"img_size": tuple(int(v) for v in fields["input_size"])}}
    fields.setdefault("in_chans", len(fields["mean"]))
    fields["input_size"] = tuple(int(v) for v in fields["input_size"])
    fields["label_names"] = tuple(fields["label_names"])
    fields["mean"], fields["std"] = tuple(fields["mean"]), tuple(fields["std"])
    fields.setdefault("origin", f"added from {source.name}")
    try:
        return ModelCard(**fields)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"the card is invalid: {exc}") from exc


def add_model(
    path: str | Path, /, name: str, trust_pickle: bool = False, overwrite: bool = False, **given
) -> UserModel:
    """Check a model file against its card (it loads and gives one output per label), then store both.

    Parameters
    ----------
    path
        The weights file or transformers folder.
    name
        What to call it (``--model NAME`` afterwards).
    trust_pickle
        Allow a full pickle (runs code from the file).
    overwrite
        Replace a model of the same name.
    **given
        Card fields (see :func:`build_card`).

    Returns
    -------
    UserModel
        The stored model.

    Raises
    ------
    ValueError
        A bad or taken name; or (as CheckpointError) a file that does not load or contradicts the card, both
        numbers named. Nothing is stored then.
    """
    from .formats import load_network  # raises CheckpointError (a ValueError) for a file that contradicts its card

    if not NAME_PATTERN.match(name or ""):
        raise ValueError(MSG_NAME.format(name=name))
    source = Path(path)
    card = build_card(source, **given)
    load_network(source, card, trust_pickle=trust_pickle)  # refuses a file that contradicts its card
    folder = models_dir() / name
    if folder.exists() and not overwrite:
        raise ValueError(f"a model named {name!r} exists already ({folder}); remove it first or choose another name")
    staging = folder.with_name(f".{name}.adding")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    target = staging / source.name
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy2(source, target)
    (staging / CARD_FILE).write_text(card_to_yaml(card))
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return UserModel(name, folder / source.name, card)


def get_user_model(name: str) -> UserModel:
    """The stored model ``name``; UnknownModelError if there is none."""
    folder = models_dir() / name
    card_path = folder / CARD_FILE
    if not NAME_PATTERN.match(name or "") or not card_path.is_file():
        raise UnknownModelError(f"no added model named {name!r} in {models_dir()}")
    card = card_from_yaml(card_path.read_text(), str(card_path))
    weights = [p for p in folder.iterdir() if p.name != CARD_FILE]
    if len(weights) != 1:
        raise CheckpointError(f"{folder} should hold one weights file or folder beside {CARD_FILE}, has {len(weights)}")
    return UserModel(name, weights[0], card)


def list_user_models() -> list[UserModel]:
    """Every added model that can be read, by name (a broken folder is skipped here and reported by ``show``)."""
    root = models_dir()
    found = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        if folder.is_dir() and not folder.name.startswith("."):
            try:
                found.append(get_user_model(folder.name))
            except (CheckpointError, UnknownModelError):
                continue
    return found


def remove_model(name: str) -> Path:
    """Delete the stored copy of model ``name`` (the user's original file is untouched)."""
    model = get_user_model(name)
    folder = model.weights.parent
    shutil.rmtree(folder)
    return folder


def sidecar_card(path: str | Path) -> Path | None:
    """``PATH.card.yaml`` beside a model file, when there is one."""
    candidate = Path(f"{path}{SIDECAR_SUFFIX}")
    return candidate if candidate.is_file() else None


def card_for_file(path: str | Path) -> ModelCard:
    """The card of a model file given by path: its sidecar, filled in from the file where the sidecar is silent."""
    side = sidecar_card(path)
    if side is None:
        raise CheckpointError(
            f"{Path(path).name} carries no fer_core card: add it with 'fer-core models add' or write "
            f"{Path(path).name}{SIDECAR_SUFFIX} beside it"
        )
    try:
        raw = yaml.safe_load(side.read_text()) or {}
    except yaml.YAMLError as exc:
        raise CheckpointError(f"{side} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(raw, dict):
        raise CheckpointError(f"{side} must be a mapping of card fields")
    unknown = set(raw) - set(ModelCard.__dataclass_fields__)
    if unknown:
        raise CheckpointError(f"{side}: unknown card fields {sorted(unknown)}")
    stated = {k: str(raw.pop(k)) for k in ("format", "sha256") if raw.get(k) is not None}  # YAML may read digits
    card = build_card(path, **raw)  # format and SHA-256 as read off the file
    if "format" in stated and stated["format"] != card.format:
        raise CheckpointError(f"{side} says format {stated['format']!r} but {Path(path).name} is {card.format!r}")
    if "sha256" in stated and stated["sha256"] != card.sha256:
        raise CheckpointError(f"{side}: the file's SHA-256 is not the one its card records (the file changed?)")
    return card
