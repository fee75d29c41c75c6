"""How well raters agree on EmoNet-40 intensities, and whether a model could pass for an annotator (METHODS.md 4.4).

Every rater, human or model, is a column of one long *ratings* table: ``image`` (str), ``emotion`` (one of
:data:`~fer_core.taxonomy.EMONET40`), ``annotator`` (str) and ``rating`` (int 0..7, 0 = not present). A missing row
means the rater did not rate that image; a rater who saw an image but left an emotion unselected has a 0 row.

- Two raters on one emotion: quadratic-weighted Cohen's kappa (labels 0..7) over the images both rated.
- Per emotion, a model scores the mean kappa against every human; the humans score the mean over humans of each
  one's mean kappa against every other human. Overall = mean (std, median, best emotion) over the emotions.
- Human reliability: Krippendorff's alpha (interval) per emotion, 95 % bootstrap CI over images (seed 42).
- A model "could be an annotator" when a two-sided Mann-Whitney U test on per-emotion kappas does not separate its
  model-vs-human kappas from the human-vs-human ones (p > 0.05).

The package splits the work by job: :mod:`.ratings` (validating and reading ratings, model ratings, simulated
annotators), :mod:`.kappa` (pairwise and matrix kappa, the agreement table), :mod:`.alpha` (Krippendorff's
interval alpha and its bootstrap) and :mod:`.report` (the model-vs-human verdict, the whole evaluation and its
text report). Import everything from here.
"""

from __future__ import annotations

import logging

from . import ratings as _ratings
from .alpha import bootstrap_interval_alpha, interval_alpha, krippendorff_alpha
from .kappa import HUMAN, AgreementTable, agreement_table, kappa_matrix, pairwise_kappa
from .ratings import (
    MAX_RATING,
    RATING_COLUMNS,
    model_ratings,
    read_model_ratings,
    read_ratings,
    simulate_annotators,
    validate_ratings,
)
from .report import AgreementReport, could_be_annotator, evaluate_agreement, format_report, report_from_files

__all__ = [
    "RATING_COLUMNS",
    "MAX_RATING",
    "HUMAN",
    "AgreementTable",
    "AgreementReport",
    "validate_ratings",
    "read_ratings",
    "model_ratings",
    "read_model_ratings",
    "pairwise_kappa",
    "kappa_matrix",
    "agreement_table",
    "interval_alpha",
    "bootstrap_interval_alpha",
    "krippendorff_alpha",
    "could_be_annotator",
    "evaluate_agreement",
    "simulate_annotators",
    "report_from_files",
    "format_report",
]

logger = logging.getLogger(__name__)

# error-message templates (tests match= them): public, though not in __all__
MSG_MISSING_COLUMNS = _ratings.MSG_MISSING_COLUMNS
MSG_UNKNOWN_EMOTION = _ratings.MSG_UNKNOWN_EMOTION
MSG_YES_NO = _ratings.MSG_YES_NO
MSG_BAD_RATING = _ratings.MSG_BAD_RATING
MSG_DUPLICATE = _ratings.MSG_DUPLICATE
