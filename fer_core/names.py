"""The names the command line and the pages offer before anything heavy loads: explanation methods, fills, the
default model, localisation methods and dataset layouts.

This module imports nothing (no torch, no numpy), so ``fer-core --help`` and every ``COMMAND --help`` build their
parser in the time Python starts. The packages that implement these names import them from here; the dataset layouts
are registered by :mod:`fer_core.data.adapters`, and a test keeps :data:`DATASET_FORMATS` equal to that registry.
"""

from __future__ import annotations

__all__ = ["DATASET_FORMATS", "DEFAULT_MODEL", "FILLS", "LOCALISATION_METHODS", "METHODS", "STATUSES"]

#: explanation methods: key -> the name pages and reports show
METHODS: dict[str, str] = {
    "lrp": "LRP (epsilon-plus-flat)",
    "lrp_gamma_box": "LRP (epsilon-gamma-box)",
    "lrp_alpha2_beta1": "LRP (epsilon-alpha2-beta1-flat)",
    "ig": "Integrated Gradients",
    "saliency": "Saliency (|gradient|)",
    "gradcam": "Grad-CAM",
    "occlusion": "Sliding-window occlusion",
}
#: what replaces a hidden face region
FILLS = ("mean", "blur", "noise", "black")
#: the shipped model every command and page starts on
DEFAULT_MODEL = "fer2013_mini_xception"
#: how a face's landmarks, regions and head pose are found (fer_core.face.find_faces): the 468-point mesh where it
#: can run (auto), the mesh, or MTCNN's 5 points with template shapes
LANDMARKER_CHOICES = ("auto", "mesh468", "mtcnn5")
#: the methods the localisation benchmark compares (the explanation methods that give a map, plus a random baseline)
LOCALISATION_METHODS = ("lrp", "lrp_gamma_box", "lrp_alpha2_beta1", "ig", "saliency", "gradcam", "random")
#: dataset layouts ``fer-core data import`` reads (the keys of :data:`fer_core.data.adapters.ADAPTERS`)
DATASET_FORMATS = (
    "affectnet",
    "au-csv",
    "celeba",
    "ckplus",
    "emonet-face",
    "fairface",
    "fer2013",
    "fer2013-folders",
    "ferplus",
    "imagefolder",
    "jaffe",
    "rafdb",
    "utkface",
)
#: what can happen to an image of a dataset job, in the order reports list them: a face detected, the image taken
#: whole as an aligned crop (a small dataset crop, never detected), no face found, unreadable
STATUSES = ("detected", "crop", "no_face", "unreadable")
