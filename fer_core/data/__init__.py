"""Data: the canonical manifest (read/validate) and SynthFACS, the procedural face benchmark."""

from __future__ import annotations

from .adapters import ADAPTERS, import_dataset, write_manifest
from .crop_cache import CropCache, build_crop_cache
from .manifest import REQUIRED_COLUMNS, read_manifest, resolve_paths, validate_manifest
from .manifest_faces import ManifestScan, scan_manifest
from .samplers import ClassBalancedSampler, GroupBalancedBatchSampler
from .splits import read_split, subject_kfold, write_split
from .synthfacs import (
    AUS,
    EMFACS_PROTOTYPES,
    FaceParams,
    Identity,
    SynthSample,
    SynthSpec,
    evidence_aus,
    format_aus,
    generate,
    label_from_aus,
    make_identity,
    metadata,
    parse_aus,
    parse_bias,
    render_face,
    sample_params,
    write_dataset,
)

__all__ = [
    "ADAPTERS",
    "ClassBalancedSampler",
    "ManifestScan",
    "CropCache",
    "GroupBalancedBatchSampler",
    "build_crop_cache",
    "import_dataset",
    "read_split",
    "subject_kfold",
    "write_manifest",
    "write_split",
    "AUS",
    "EMFACS_PROTOTYPES",
    "FaceParams",
    "Identity",
    "REQUIRED_COLUMNS",
    "SynthSample",
    "SynthSpec",
    "evidence_aus",
    "format_aus",
    "generate",
    "label_from_aus",
    "make_identity",
    "metadata",
    "parse_aus",
    "parse_bias",
    "read_manifest",
    "resolve_paths",
    "scan_manifest",
    "render_face",
    "sample_params",
    "validate_manifest",
    "write_dataset",
]
