"""Reference tables: the AUs the renderer draws, the EMFACS / EmoNet prototypes, groups, nuisances, lighting rigs.

Everything here is data; :mod:`.labels` turns AU intensities into labels with it and the other modules draw from it.
"""

from __future__ import annotations

from collections.abc import Mapping

#: Action units the renderer draws.
AUS: tuple[int, ...] = (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 16, 17, 20, 23, 24, 25, 26)

#: EMFACS prototypes for the basic-7 classes (DESIGN.md section 5); disgust has two variants.
EMFACS_PROTOTYPES: Mapping[str, tuple[tuple[int, ...], ...]] = {
    "angry": ((4, 5, 7, 23),),
    "disgust": ((9, 15, 16), (9, 10)),
    "fear": ((1, 2, 4, 5, 7, 20, 26),),
    "happy": ((6, 12),),
    "sad": ((1, 4, 15),),
    "surprise": ((1, 2, 5, 26),),
    "neutral": ((),),
}

#: The EmoNet-40 categories SynthFACS can express (``SynthSpec(label_set="emonet40")``), each as one AU combination.
#: Built from the EMFACS prototypes and FACS descriptions of the states (Duchenne laugh, worry, skepticism ...);
#: no two share a combination, so each is readable from the face. The other 26 categories need cues the renderer
#: lacks (gaze, posture, context) and are never shown.
EMONET_PROTOTYPES: Mapping[str, tuple[int, ...]] = {
    "Amusement": (6, 12, 25, 26),
    "Elation": (1, 2, 6, 12, 25),
    "Contentment": (12,),
    "Interest": (1, 2),
    "Astonishment/Surprise": (1, 2, 5, 26),
    "Concentration": (4, 7),
    "Doubt": (14, 17),
    "Fear": (1, 2, 4, 5, 7, 20, 26),
    "Distress": (1, 4, 20),
    "Sadness": (1, 4, 15),
    "Contempt": (14,),
    "Disgust": (9, 15, 16),
    "Anger": (4, 5, 7, 23),
    "Bitterness": (10, 17, 24),
    "Pain": (4, 6, 7, 9, 10),
}

#: Optional AUs that often accompany a class (drawn with some probability; they never change the derived label).
LABEL_EXTRAS: Mapping[str, tuple[int, ...]] = {
    "angry": (24,),
    "disgust": (17,),
    "fear": (),
    "happy": (25,),
    "sad": (17,),
    "surprise": (),
    "neutral": (),
}

#: AUs an identity may carry as a habit (outside every basic-7 prototype, so habits never change a label).
HABIT_AUS: tuple[int, ...] = (14, 17, 24)

SKIN_TONES: tuple[str, ...] = ("light", "medium", "dark")
AGES: tuple[str, ...] = ("young", "adult", "older")
GENDERS: tuple[str, ...] = ("feminine", "masculine")
LIGHTINGS: tuple[str, ...] = ("even", "left", "right", "top", "dim")
OCCLUDERS: tuple[str, ...] = ("none", "glasses", "mask")
GROUP_ATTRIBUTES: tuple[str, ...] = ("skin_tone", "age", "gender")

#: The groups of each demographic attribute (what a bias's ``attribute`` / ``group`` may name).
GROUP_VALUES: Mapping[str, tuple[str, ...]] = {"skin_tone": SKIN_TONES, "age": AGES, "gender": GENDERS}

ACTIVE_THRESHOLD = 0.25  # an AU with intensity >= this counts as active

#: Raise when a change alters the pixels of some spec: it is part of every cache folder's key, so rendered sets made
#: by an older renderer are not reused (2: the AU 14 dimpler draws a visible crease).
RENDERER_VERSION = 2

#: lighting name -> (direction (x, y, z) towards the light, unnormalised; ambient gain; directional gain).
#: The gains multiply the shading field (1.0 = the drawn colour); see :func:`.render.render_face`.
LIGHTING_RIGS: Mapping[str, tuple[tuple[float, float, float], float, float]] = {
    "even": ((0.0, -0.15, 1.0), 0.80, 0.25),
    "left": ((-0.80, -0.25, 0.55), 0.55, 0.55),
    "right": ((0.80, -0.25, 0.55), 0.55, 0.55),
    "top": ((0.0, -0.80, 0.60), 0.58, 0.50),
    "dim": ((0.0, -0.15, 1.0), 0.50, 0.15),
}
