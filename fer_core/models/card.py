"""The model card that travels inside every checkpoint, so preprocessing is never guessed from literals."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import torch

MIN_INPUT_SIDE, MAX_INPUT_SIDE = 1, 4096
CARD_KEY = "fer_core.model_card"  # the safetensors metadata entry that holds the card
OUTPUT_KINDS: tuple[str, ...] = ("softmax", "sigmoid", "regression", "embedding")
# How the weights are stored: fer_core's own safetensors, a bare state dict (.pt/.pth/.bin/.safetensors) of a
# registry architecture, a TorchScript archive, an ONNX graph, a transformers folder, or a trusted full pickle.
FORMATS: tuple[str, ...] = ("safetensors", "state_dict", "torchscript", "onnx", "transformers", "pickle")
MAX_MARGIN = 1.0
# What kind of images the weights were trained on: real photographs, SynthFACS renders (the project's synthetic
# faces), or not stated. Pages compare it with the input (fer_core.models.domain) and warn where they differ.
DOMAINS: tuple[str, ...] = ("photos", "synthfacs", "unknown")
TEXT_FIELDS: tuple[str, ...] = ("intended_use", "out_of_scope", "limitations")
PERFORMANCE_KEYS: tuple[str, ...] = ("data", "overall", "by_group")
MSG_PERFORMANCE = (
    "performance must be a mapping with 'data' (text), 'overall' ({{figure: number}}) and 'by_group' "
    "({{attribute: {{group: {{figure: number}}}}}}), got {value!r}"
)


def _legacy_output(extra: dict) -> str:
    """The output kind of a card written before cards named it: what the recipe that wrote it produces."""
    if isinstance(extra, dict) and (
        extra.get("recipe") in ("au_iat", "emonet40") or extra.get("task") in ("au", "emonet40")
    ):
        return "sigmoid"
    if isinstance(extra, dict) and extra.get("recipe") == "mae_pretrain":
        return "embedding"
    return "softmax"


def _legacy_domain(training_data: object) -> str:
    """The domain of a card written before cards named it: ``synthfacs`` when its training data is a SynthFACS spec
    (what runs wrote: ``{"synthfacs": {...}}``), ``photos`` for FER2013 (the shipped model), else ``unknown``."""
    text = str(training_data or "").lstrip()
    if text.startswith(("{'synthfacs'", '{"synthfacs"')):
        return "synthfacs"
    if text.startswith("FER2013"):
        return "photos"
    return "unknown"


def _figures(value: object) -> bool:
    """True for ``{name: number}`` (a flag such as ``small`` may be a bool)."""
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, (int, float)) and (isinstance(v, bool) or math.isfinite(v))
        for k, v in value.items()
    )


def _valid_performance(value: object) -> bool:
    if not isinstance(value, dict) or set(value) - set(PERFORMANCE_KEYS):
        return False
    if not isinstance(value.get("data", ""), str) or not _figures(value.get("overall", {})):
        return False
    by_group = value.get("by_group", {})
    return isinstance(by_group, dict) and all(
        isinstance(groups, dict) and all(_figures(figures) for figures in groups.values())
        for groups in by_group.values()
    )


@dataclass(frozen=True)
class ModelCard:
    """What a user and the input pipeline need to know about a set of weights.

    Construction validates the fields (ValueError naming the field), so a card read from a checkpoint is never
    half-valid.

    Parameters
    ----------
    arch
        Registry name of the architecture that these weights fit.
    input_size
        (height, width) of the model input in pixels, each 1-4096.
    in_chans
        1 for grey, 3 for RGB.
    mean
        Per-channel mean subtracted from pixels scaled to [0, 1] (``in_chans`` values).
    std
        Per-channel positive divisor applied after ``mean`` (``in_chans`` values).
    label_names
        Output order of the model: at least two distinct, non-empty names.
    template
        Name of the face alignment template (see ``fer_core.face.align.TEMPLATES``) the model was trained on.
    origin
        Where the weights come from (the recipe and run, or the converted source), for model cards and reports.
    licence
        Terms the weights may be used under.
    training_data
        What the model was trained on.
    notes
        Anything else a user should know (how to read the outputs, how the weights were converted).
    extra
        Machine-readable details: ``arch_kwargs`` to rebuild the architecture, and the ``recipe``, ``run`` and
        ``target`` that trained it.
    output
        What the outputs mean: ``softmax`` (one class of ``label_names``), ``sigmoid`` (each output its own
        probability: action units, EmoNet-40 intensities), ``regression`` (values, e.g. valence and arousal) or
        ``embedding`` (an encoder whose head is untrained). Pages, studies and the CLI read it from here.
    margin
        Extra border around the alignment template, as a fraction of the crop side on each side (0 = the
        template's own crop; 0.2 = a looser crop that shows 20 % more context each way).
    format
        How the weights are stored (one of :data:`FORMATS`); decides which loader reads them.
    sha256
        SHA-256 of the weights file as added, so a report names exactly which file it audited.
    source
        Where the user got the file (a URL, a vendor, a colleague), as they state it.
    domain
        The kind of images it was trained on (one of :data:`DOMAINS`): ``photos`` (real photographs),
        ``synthfacs`` (SynthFACS renders) or ``unknown``; ``training_data`` names the data set itself. A card
        written before this field gets it from its ``training_data`` (a SynthFACS spec, FER2013), else ``unknown``.
    intended_use
        What the model is meant for, and by whom.
    out_of_scope
        Uses it is not meant for (inputs, decisions).
    limitations
        Known caveats: where it fails, what its figures do not show.
    performance
        Measured figures: ``data`` (the evaluation data, in words), ``overall`` (``{figure: number}``, with ``n``)
        and ``by_group`` (``{attribute: {group: {figure: number}}}``), each optional; empty when nothing was
        measured with the card (a run's figures are read from its ``evaluation.json`` instead).
    """

    arch: str
    input_size: tuple[int, int]
    in_chans: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    label_names: tuple[str, ...]
    template: str = "fer2013"
    origin: str = ""
    licence: str = ""
    training_data: str = ""
    notes: str = ""
    extra: dict = field(default_factory=dict)
    output: str = "softmax"
    margin: float = 0.0
    format: str = "safetensors"
    sha256: str = ""
    source: str = ""
    domain: str = "unknown"
    intended_use: str = ""
    out_of_scope: str = ""
    limitations: str = ""
    performance: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        size = self.input_size
        if (
            not isinstance(size, (tuple, list))
            or len(size) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in size)
            or not all(MIN_INPUT_SIDE <= v <= MAX_INPUT_SIDE for v in size)
        ):
            raise ValueError(
                f"input_size must be (height, width) in pixels, each {MIN_INPUT_SIDE}-{MAX_INPUT_SIDE}, got {size!r}"
            )
        if self.output not in OUTPUT_KINDS:
            raise ValueError(f"output must be one of {', '.join(OUTPUT_KINDS)}, got {self.output!r}")
        if self.format not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {self.format!r}")
        if not isinstance(self.margin, (int, float)) or not 0 <= self.margin <= MAX_MARGIN:
            raise ValueError(f"margin must be a fraction 0-{MAX_MARGIN:g} of the crop side, got {self.margin!r}")
        if self.in_chans not in (1, 3):
            raise ValueError(f"in_chans must be 1 or 3, got {self.in_chans}")
        if len(self.mean) != self.in_chans or len(self.std) != self.in_chans:
            raise ValueError(f"mean/std need {self.in_chans} values, got {self.mean} / {self.std}")
        values = (*self.mean, *self.std)
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
            raise ValueError(f"mean/std must be finite numbers, got {self.mean} / {self.std}")
        if any(s <= 0 for s in self.std):
            raise ValueError(f"std must be positive, got {self.std}")
        if len(self.label_names) < 2:
            raise ValueError("a classifier card needs at least two label names")
        if not all(isinstance(n, str) and n.strip() for n in self.label_names) or len(set(self.label_names)) != len(
            self.label_names
        ):
            raise ValueError(f"label_names must be distinct non-empty strings, got {list(self.label_names)}")
        if self.domain not in DOMAINS:
            raise ValueError(f"domain must be one of {', '.join(DOMAINS)}, got {self.domain!r}")
        for name in TEXT_FIELDS:
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be text, got {getattr(self, name)!r}")
        if not _valid_performance(self.performance):
            raise ValueError(MSG_PERFORMANCE.format(value=self.performance))

    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    @property
    def alignment(self) -> str:
        """The template name the face aligner takes: the template, with ``+margin`` when the crop is looser."""
        return self.template if not self.margin else f"{self.template}+{self.margin:g}"

    def probabilities(self, logits: np.ndarray | torch.Tensor):
        """What the model's raw outputs mean as numbers to show: a softmax over classes, a sigmoid per output, the
        values themselves (regression and embeddings). Works on numpy arrays and torch tensors, (N, K)."""
        import numpy as np

        if self.output == "softmax":
            if isinstance(logits, np.ndarray):
                z = logits - logits.max(1, keepdims=True)
                e = np.exp(z)
                return e / e.sum(1, keepdims=True)
            return logits.softmax(1)
        if self.output == "sigmoid":
            return 1.0 / (1.0 + np.exp(-logits)) if isinstance(logits, np.ndarray) else logits.sigmoid()
        return logits

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelCard:
        """The card in a checkpoint's metadata; ValueError (naming the field) for anything missing or malformed."""
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError(f"a model card is a JSON object, got {type(raw).__name__}")
        required = [f for f in ("arch", "input_size", "in_chans", "mean", "std", "label_names") if f not in raw]
        if required:
            raise ValueError(f"the model card lacks {', '.join(required)}")
        for key in ("input_size", "mean", "std", "label_names"):
            if not isinstance(raw[key], (list, tuple)):
                raise ValueError(f"{key} must be a list, got {raw[key]!r}")
            raw[key] = tuple(raw[key])
        raw.setdefault("output", _legacy_output(raw.get("extra") or {}))
        raw.setdefault("domain", _legacy_domain(raw.get("training_data")))
        known = set(cls.__dataclass_fields__)
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown model-card fields {sorted(unknown)}")
        return cls(**raw)
