"""Faces: safe decoding, detection, similarity alignment, named region masks (from 5 points or the 468-point mesh)."""

from __future__ import annotations

from .align import LANDMARK_NAMES, TEMPLATES, align_face, similarity_transform, template_points
from .detect import DetectedFace, FaceDetector
from .io import MAX_BYTES, MAX_PIXELS, load_image
from .mesh import LANDMARKERS, MeshFit, fit_mesh, mesh_available, resolve_landmarker
from .mesh_regions import mesh_face_regions
from .pipeline import Face, aligned_crop, default_detector, face_from_detection, find_faces, with_mesh
from .pose import FRONTAL_DEGREES, NO_POSE, POSE_BINS, HeadPose, head_pose, pose_bin, pose_bins
from .regions import parse_regions, region_masks

__all__ = [
    "LANDMARKERS",
    "MeshFit",
    "fit_mesh",
    "mesh_available",
    "mesh_face_regions",
    "resolve_landmarker",
    "POSE_BINS",
    "FRONTAL_DEGREES",
    "HeadPose",
    "head_pose",
    "pose_bin",
    "pose_bins",
    "NO_POSE",
    "DetectedFace",
    "Face",
    "FaceDetector",
    "LANDMARK_NAMES",
    "MAX_BYTES",
    "MAX_PIXELS",
    "TEMPLATES",
    "align_face",
    "aligned_crop",
    "default_detector",
    "face_from_detection",
    "find_faces",
    "with_mesh",
    "load_image",
    "parse_regions",
    "region_masks",
    "similarity_transform",
    "template_points",
]
