"""Head pose from the 468-point mesh: the rotation that best maps the frontal reference mesh onto a face's mesh
(Umeyama's least-squares similarity over the points that do not move with expression), as yaw, pitch and roll, and
the five pose bins a manager groups faces by."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "FRONTAL_DEGREES",
    "NO_POSE",
    "POSE_ANGLES",
    "POSE_BINS",
    "HeadPose",
    "head_pose",
    "pose_bin",
    "pose_bins",
    "pose_columns",
]

#: "left"/"right" as seen in the photo (the face turned towards that edge of the image); "up"/"down" the chin's way
POSE_BINS = ("frontal", "left", "right", "up", "down")
FRONTAL_DEGREES = 15.0  # a face within this yaw and pitch is frontal
NO_POSE = "no pose"  # the bin of a row without a face, or whose face the mesh did not fit
POSE_ANGLES = ("yaw", "pitch", "roll")  # degrees, in this order wherever a pose is an array or a table's columns


@dataclass(frozen=True)
class HeadPose:
    """Degrees. ``yaw`` > 0: the face turned towards the image's right edge; ``pitch`` > 0: tilted up; ``roll`` > 0:
    the eye line runs down towards the image's right (clockwise as seen)."""

    yaw: float
    pitch: float
    roll: float

    @property
    def bin(self) -> str:
        return pose_bin(self)

    def as_dict(self) -> dict:
        angles = _tenths(np.array([self.yaw, self.pitch, self.roll]))
        return {**{name: float(a) for name, a in zip(POSE_ANGLES, angles)}, "bin": self.bin}

    def text(self) -> str:
        """One line for people: ``frontal (yaw +3°, pitch -5°, roll +1°)``, ``turned left (yaw -24°, ...)``."""
        how = {"left": "turned left", "right": "turned right", "up": "tilted up", "down": "tilted down"}
        yaw, pitch, roll = (round(a) for a in (self.yaw, self.pitch, self.roll))  # ints: never "-0"
        return f"{how.get(self.bin, self.bin)} (yaw {yaw:+d}°, pitch {pitch:+d}°, roll {roll:+d}°)"


def _rigid_points(canonical: np.ndarray) -> np.ndarray:
    """Indices of the reference points above the nose tip (eyes, brows, forehead, nose, upper cheeks): the mouth and
    jaw move with expression, these hardly do."""
    return np.flatnonzero(canonical[:, 1] <= canonical[1, 1])


def rotation_to(canonical: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The 3 x 3 rotation R of the least-squares similarity points ~ s R canonical + t (Umeyama 1991), both (N, 3)
    in a right-handed frame: x right, y down, z away from the camera."""
    a = canonical - canonical.mean(0)
    b = points - points.mean(0)
    u, _, vt = np.linalg.svd(a.T @ b)
    d = np.diag([1.0, 1.0, np.sign(np.linalg.det(vt.T @ u.T))])
    return vt.T @ d @ u.T


def head_pose(points: np.ndarray) -> HeadPose:
    """Yaw, pitch and roll of a fitted mesh, against the frontal reference mesh.

    Parameters
    ----------
    points
        (468, 3) mesh points, x and y in any pixel frame with y down, z in the same scale (larger is further).

    Returns
    -------
    HeadPose
        Degrees, with R = Rz(roll) Ry(-yaw) Rx(-pitch) the rotation from the reference to the face.
    """
    from .mesh import mesh_reference

    canonical = mesh_reference()[1]
    rigid = _rigid_points(canonical)
    r = rotation_to(canonical[rigid], np.asarray(points, dtype=np.float64)[rigid])
    about_y = float(np.degrees(np.arcsin(np.clip(-r[2, 0], -1.0, 1.0))))
    about_x = float(np.degrees(np.arctan2(r[2, 1], r[2, 2])))
    about_z = float(np.degrees(np.arctan2(r[1, 0], r[0, 0])))
    return HeadPose(yaw=-about_y, pitch=-about_x, roll=about_z)


def pose_bin(pose: HeadPose, frontal: float = FRONTAL_DEGREES) -> str:
    """``frontal`` within ``frontal`` degrees of yaw and pitch; else the larger turn decides: left, right, up, down."""
    if max(abs(pose.yaw), abs(pose.pitch)) < frontal:
        return "frontal"
    if abs(pose.yaw) >= abs(pose.pitch):
        return "right" if pose.yaw > 0 else "left"
    return "up" if pose.pitch > 0 else "down"


def pose_bins(angles: np.ndarray) -> list[str]:
    """The bin of each (yaw, pitch, roll) row of an (N, 3) array; :data:`NO_POSE` where a row holds a NaN."""
    return [pose_bin(HeadPose(*a)) if np.isfinite(a).all() else NO_POSE for a in np.asarray(angles, float).tolist()]


def _tenths(degrees: np.ndarray) -> np.ndarray:
    """Degrees to 0.1°, with + 0.0 turning a rounded -0.0 into 0.0: a head a hair's breadth off frontal reads 0."""
    return np.round(degrees, 1) + 0.0


def pose_columns(angles: np.ndarray) -> dict[str, np.ndarray | list[str]]:
    """The table columns of (N, 3) yaw, pitch, roll rows (NaN where there is no pose): each angle to 0.1° and
    ``pose_bin``, as every table of poses writes them (a photo set's faces, a video person's frames)."""
    angles = np.asarray(angles, dtype=np.float64).reshape(-1, 3)
    return {**{name: _tenths(angles[:, k]) for k, name in enumerate(POSE_ANGLES)}, "pose_bin": pose_bins(angles)}
