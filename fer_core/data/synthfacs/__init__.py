"""SynthFACS: a deterministic procedural face renderer with FACS action units and ground-truth evidence masks.

Everything is drawn with numpy/OpenCV from parameters (no weights, no downloads):

* identity (face shape, feature geometry, skin tone, hair) drawn from the identity seed, with demographic groups
  (skin tone light/medium/dark, age young/adult/older, gender presentation feminine/masculine);
* FACS action units with intensity in [0, 1] that move brows (1, 2, 4), lids (5, 7), cheeks (6), nose (9), upper
  lip (10), lip corners (12, 14, 15, 20), chin (17), lips (16, 23, 24, 25) and jaw (26);
* labels derived from the AUs with the EMFACS prototypes (DESIGN.md section 5);
* nuisances: lighting, small pose (roll, shift, scale), blur, noise, occluders (glasses, a face mask);
* knobs that plant known effects: a group <-> label correlation, a group <-> lighting correlation and
  identity-specific AU habits (an identity shortcut).

The output is an already-aligned crop: the 5 landmarks lie near ``TEMPLATES["tight"]`` of
:mod:`fer_core.face.align`. Every image comes with a boolean evidence mask: the union of the regions (named as in
:data:`fer_core.taxonomy.AU_REGION`) where the label's active AUs act, drawn from the rendered geometry (the
feature's neutral and moved positions plus a margin), minus pixels hidden by an opaque occluder.

Same seed -> identical images, masks and manifest bytes (``tests/data/test_synthfacs_bytes.py`` pins them).

Modules, in the order a face is made (import from this package; the modules' other names are implementation):

* :mod:`.tables` -- AUs, EMFACS / EmoNet prototypes, label extras, habit AUs, groups, lightings, renderer version;
* :mod:`.labels` -- AU intensities <-> labels, evidence AUs, the ``aus`` cell format, EmoNet intensity levels;
* :mod:`.identity` -- :class:`Identity`, :class:`FaceParams`, :func:`make_identity`, :func:`neutral_of`,
  :func:`with_aus`;
* :mod:`.curves` -- sampling grids and profile curves of the features, point helpers;
* :mod:`.geometry` -- every feature's outline for one identity and one set of AUs;
* :mod:`.raster` -- pose map, shape layers drawn with OpenCV, per-size pixel fields;
* :mod:`.static_layers` -- what depends on the identity only, drawn once per person and cached;
* :mod:`.shading` -- shading relief, lighting, tint, blur, noise;
* :mod:`.evidence` -- the evidence masks and the feature points each region covers;
* :mod:`.render` -- :func:`render_face`;
* :mod:`.spec` -- :class:`SynthSpec`, :func:`parse_bias` and the bias checks;
* :mod:`.sampling` -- :func:`sample_params`, :class:`SynthSample`, :func:`generate`;
* :mod:`.ratings` -- simulated EmoNet expert ratings;
* :mod:`.write` -- :func:`metadata`, :func:`write_dataset`, :func:`measure_speed`, the manifest layout.
"""

from __future__ import annotations

# Names imported ``X as X`` are public but not in __all__ (as in the single-module renderer): explicit re-exports.
from .identity import FaceParams, Identity, make_identity, neutral_of, with_aus
from .labels import emonet_intensities, emonet_level, evidence_aus, format_aus, label_from_aus, parse_aus
from .labels import emonet_level_of as emonet_level_of
from .ratings import EMONET_ANNOTATORS as EMONET_ANNOTATORS
from .ratings import write_emonet_ratings as write_emonet_ratings
from .render import render_face
from .sampling import SynthSample, generate, sample_params
from .spec import SynthSpec, parse_bias
from .tables import (
    ACTIVE_THRESHOLD,
    AGES,
    AUS,
    EMFACS_PROTOTYPES,
    EMONET_PROTOTYPES,
    GENDERS,
    HABIT_AUS,
    LABEL_EXTRAS,
    LIGHTINGS,
    OCCLUDERS,
    SKIN_TONES,
)
from .tables import GROUP_ATTRIBUTES as GROUP_ATTRIBUTES
from .tables import RENDERER_VERSION as RENDERER_VERSION
from .write import EMONET_COLUMNS as EMONET_COLUMNS
from .write import MANIFEST_COLUMNS, measure_speed, metadata, write_dataset
from .write import manifest_columns as manifest_columns

__all__ = [
    "ACTIVE_THRESHOLD",
    "AGES",
    "AUS",
    "EMFACS_PROTOTYPES",
    "EMONET_PROTOTYPES",
    "GENDERS",
    "HABIT_AUS",
    "LABEL_EXTRAS",
    "LIGHTINGS",
    "MANIFEST_COLUMNS",
    "OCCLUDERS",
    "SKIN_TONES",
    "FaceParams",
    "Identity",
    "SynthSample",
    "SynthSpec",
    "emonet_intensities",
    "emonet_level",
    "evidence_aus",
    "format_aus",
    "generate",
    "label_from_aus",
    "make_identity",
    "measure_speed",
    "metadata",
    "neutral_of",
    "parse_aus",
    "parse_bias",
    "render_face",
    "sample_params",
    "with_aus",
    "write_dataset",
]
