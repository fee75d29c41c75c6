"""Does a model's training domain fit the input? Plain-language notes for pages and reports, and the model-card
texts a SynthFACS-trained run gets by default.

A model trained only on SynthFACS renders (the project's synthetic faces) gives confident but meaningless answers on
real photos; a model trained on photos is only roughly right on SynthFACS renders; a card that does not say what the
model was trained on cannot be checked at all. :func:`domain_notes` says which applies, and what the model's input
pipeline drops (colour, resolution).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Literal, NamedTuple

from .card import ModelCard

INPUT_KINDS: tuple[str, ...] = ("photo", "synthfacs")
DOMAIN_NAMES = {
    "photos": "real photographs",
    "synthfacs": "SynthFACS renders (synthetic faces)",
    "unknown": "not stated",
}
FIGURE_NAMES = {
    "n": "faces",
    "accuracy": "accuracy",
    "macro_f1": "macro-F1",
    "worst_class_recall": "worst-class recall",
    "mean_au_f1_at_0.5": "mean AU F1 (at 0.5)",
    "top1_accuracy": "top-1 accuracy",
    "basic8_accuracy": "basic-8 accuracy",
    "valence_accuracy": "valence accuracy",
    "intensity_mae": "intensity MAE (0-7)",
}
Severity = Literal["warning", "caption"]


class DomainNote(NamedTuple):
    """One note on a model and an input: ``warning`` (its outputs may not mean what they seem) or ``caption``."""

    severity: Severity
    text: str


NOTE_SYNTHFACS_ON_PHOTO = (
    "This model was trained only on synthetic SynthFACS faces; on real photos its outputs are not reliable "
    "(a confident score here means little). Pick a model trained on photos, or a SynthFACS sample."
)
NOTE_PHOTO_ON_SYNTHFACS = (
    "This model was trained on real photos; SynthFACS renders are simpler than photos, so read its outputs on them "
    "as a rough guide only."
)
NOTE_UNKNOWN = "The model card does not say what it was trained on, so whether it suits this image is unknown."
NOTE_GREY = "The model sees the face in grey at {size} px; colour is dropped."
NOTE_SIZE = "The model sees the face at {size} px."
MSG_INPUT_KIND = "input_kind must be one of {kinds}, got {kind!r}"

# What a model trained by a recipe on SynthFACS renders is for (card_for fills these; cards written before the
# fields existed get them when shown, see documented()).
SYNTHFACS_INTENDED_USE = (
    "Research and demonstration on SynthFACS renders, where the truth is known: checking what explanation methods "
    "show, and whether training methods (fairness, identity-adversarial, semi-supervised) do what they claim."
)
SYNTHFACS_OUT_OF_SCOPE = (
    "Real photographs and video of people (its outputs on them are not reliable); any decision about a person."
)
SYNTHFACS_LIMITATIONS = (
    "Trained and tested only on synthetic SynthFACS faces, with any biases its config planted on purpose; its "
    "figures say how well it reads renders, not people."
)


def domain_notes(card: ModelCard, *, input_kind: str, image_shape: Sequence[int] | None = None) -> list[DomainNote]:
    """What a user should know before trusting this model on this image, most serious first.

    Parameters
    ----------
    card
        The model's card (its ``domain``, ``in_chans`` and ``input_size`` are read).
    input_kind
        What the image is: ``photo`` (a real photograph, e.g. an upload) or ``synthfacs`` (a SynthFACS render).
    image_shape
        The decoded image's shape, ``(H, W)`` or ``(H, W, C)``; with three or four channels a grey model's note says
        that colour is dropped. None: the image's colour is not known (the note says only the size the model sees).

    Returns
    -------
    list[DomainNote]
        ``(severity, text)`` pairs: ``warning`` when the outputs may not mean what they seem (a SynthFACS model on a
        photo), ``caption`` for milder notes (a photo model on a render, an unknown domain, what the input pipeline
        drops). Empty when nothing needs saying.

    Raises
    ------
    ValueError
        ``input_kind`` is not one of :data:`INPUT_KINDS`.
    """
    if input_kind not in INPUT_KINDS:
        raise ValueError(MSG_INPUT_KIND.format(kinds=", ".join(INPUT_KINDS), kind=input_kind))
    notes: list[DomainNote] = []
    if card.domain == "synthfacs" and input_kind == "photo":
        notes.append(DomainNote("warning", NOTE_SYNTHFACS_ON_PHOTO))
    elif card.domain == "photos" and input_kind == "synthfacs":
        notes.append(DomainNote("caption", NOTE_PHOTO_ON_SYNTHFACS))
    elif card.domain == "unknown":
        notes.append(DomainNote("caption", NOTE_UNKNOWN))
    size = f"{card.input_size[1]}x{card.input_size[0]}"
    colour = image_shape is not None and len(image_shape) == 3 and image_shape[2] in (3, 4)
    if card.in_chans == 1 and colour:
        notes.append(DomainNote("caption", NOTE_GREY.format(size=size)))
    elif input_kind == "photo" and max(card.input_size) <= 64:
        notes.append(DomainNote("caption", NOTE_SIZE.format(size=size)))
    return notes


def _numbers(figures: dict, keys: Sequence[str]) -> dict[str, float]:
    return {
        k: figures[k] for k in keys if isinstance(figures.get(k), (int, float)) and not isinstance(figures.get(k), bool)
    }


OVERALL_FIGURES = ("n", "accuracy", "macro_f1", "worst_class_recall")
# Figures of the recipes whose evaluation.json has no "overall" (AU detectors, EmoNet-40), as (key in the file,
# name on the card).
OTHER_FIGURES = (
    ("n", "n"),
    ("n_test", "n"),
    ("mean_f1_at_0.5", "mean_au_f1_at_0.5"),
    ("top1_accuracy", "top1_accuracy"),
    ("basic8_accuracy", "basic8_accuracy"),
    ("valence_accuracy", "valence_accuracy"),
    ("intensity_mae", "intensity_mae"),
)
GROUP_FIGURES = ("n", "accuracy", "macro_f1", "worst_class_recall")


def performance_from_evaluation(evaluation: dict, faces: str = "faces") -> dict:
    """A run's ``evaluation.json`` as a card's ``performance``: its overall figures and its figures per group.

    Parameters
    ----------
    evaluation
        The parsed ``evaluation.json`` of a training run (any recipe).
    faces
        What the evaluation images are, in words (``SynthFACS renders``); the data is named as the run's split
        with their number (``the run's test split: 3,000 SynthFACS renders``).

    Returns
    -------
    dict
        ``{"data", "overall", "by_group"}`` as :class:`~fer_core.models.card.ModelCard` takes it; ``{}`` for an
        empty evaluation.
    """
    if not evaluation:
        return {}
    overall = evaluation.get("overall")
    if isinstance(overall, dict):
        figures = _numbers(overall, OVERALL_FIGURES)
    else:
        figures = {}
        for key, name in OTHER_FIGURES:
            value = evaluation.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and name not in figures:
                figures[name] = value
    by_group: dict[str, dict[str, dict[str, float]]] = {}
    for attribute, report in (evaluation.get("attributes") or {}).items():
        groups = report.get("by_group") if isinstance(report, dict) else None
        if isinstance(groups, dict) and groups:
            by_group[str(attribute)] = {
                str(g): _numbers(f, GROUP_FIGURES) for g, f in groups.items() if isinstance(f, dict)
            }
    split = evaluation.get("split") or "test"
    n = figures.get("n")
    text = f"the run's {split} split" + (f": {int(n):,} {faces}" if n else f" ({faces})")
    return {"data": text, "overall": figures, "by_group": by_group}


def documented(card: ModelCard, evaluation: dict | None = None) -> ModelCard:
    """The card with what it leaves out filled in where it is known: a SynthFACS run's use and limitation texts
    (cards written before those fields), and the run's measured figures when the card carries none.

    Parameters
    ----------
    card
        The model card as stored.
    evaluation
        The parsed ``evaluation.json`` of the run that trained the model, if any.

    Returns
    -------
    ModelCard
        A copy with the empty documentation fields filled; the stored card is unchanged.
    """
    changes: dict = {}
    if card.domain == "synthfacs":
        defaults = {
            "intended_use": SYNTHFACS_INTENDED_USE,
            "out_of_scope": SYNTHFACS_OUT_OF_SCOPE,
            "limitations": SYNTHFACS_LIMITATIONS,
        }
        changes |= {k: v for k, v in defaults.items() if not getattr(card, k)}
    if not card.performance and evaluation:
        faces = "SynthFACS renders" if card.domain == "synthfacs" else "faces"
        changes["performance"] = performance_from_evaluation(evaluation, faces)
    return replace(card, **changes) if changes else card


def group_rows(performance: dict) -> list[dict]:
    """The per-group figures of a card's ``performance`` as table rows: ``attribute``, ``group``, then one column
    per figure (named as in :data:`FIGURE_NAMES`); flags such as ``small`` are left out."""
    rows = []
    for attribute, groups in (performance.get("by_group") or {}).items():
        for group, figures in groups.items():
            values = {FIGURE_NAMES.get(k, k): v for k, v in figures.items() if not isinstance(v, bool)}
            rows.append({"attribute": attribute, "group": group} | values)
    return rows
