"""How a head pose reads: whole degrees with their sign, and never "-0" for a head a hair's breadth off frontal."""

from __future__ import annotations

from fer_core.face import HeadPose


def test_a_pose_reads_in_signed_whole_degrees_and_never_minus_zero():
    assert HeadPose(-24.4, 3.2, 0.6).text() == "turned left (yaw -24°, pitch +3°, roll +1°)"
    assert HeadPose(-0.04, -0.4, -0.2).text() == "frontal (yaw +0°, pitch +0°, roll +0°)"
    assert str(HeadPose(-0.04, -0.4, 16.0).as_dict()) == "{'yaw': 0.0, 'pitch': -0.4, 'roll': 16.0, 'bin': 'frontal'}"
