"""Rotations, written once over the library code (scipy's ``Rotation``, ManiSkill's
``rotation_conversions``).

Conventions: quaternions are ``(w, x, y, z)`` as in SAPIEN and ManiSkill (scipy's ``(x, y, z, w)``
is converted here and nowhere else); angles are radians; ``XYZ`` Euler angles are intrinsic,
``R = Rx(a) @ Ry(b) @ Rz(c)`` (what the WidowX controller reads), ``sxyz`` are static axes,
``R = Rz(yaw) @ Ry(pitch) @ Rx(roll)`` (SimplerEnv's reading of roll, pitch, yaw). The numpy
functions take arrays with any leading batch axes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial.transform import Rotation

if TYPE_CHECKING:
    import torch

__all__ = [
    "heading",
    "look_at_quat",
    "matrix_to_rotvec",
    "matrix_to_xyz_euler",
    "quat_multiply",
    "rotate",
    "sxyz_euler_to_matrix",
    "to_local",
    "without_heading",
    "xyz_euler_to_matrix",
    "yaw_quat",
]


# --- numpy (scipy), batched over leading axes ------------------------------------------------


def _from_euler(seq: str, angles) -> np.ndarray:
    a = np.asarray(angles, dtype=np.float64)
    return Rotation.from_euler(seq, a.reshape(-1, 3)).as_matrix().reshape(a.shape[:-1] + (3, 3))


def xyz_euler_to_matrix(angles) -> np.ndarray:
    """The controller's reading: ``Rx(a) @ Ry(b) @ Rz(c)`` for angles ``(..., 3)``."""
    return _from_euler("XYZ", angles)


def sxyz_euler_to_matrix(rpy) -> np.ndarray:
    """SimplerEnv's reading of roll/pitch/yaw (static axes): ``Rz(yaw) @ Ry(pitch) @ Rx(roll)``."""
    return _from_euler("xyz", rpy)


def _matrices(m) -> tuple[Rotation, tuple[int, ...]]:
    m = np.asarray(m, dtype=np.float64)
    return Rotation.from_matrix(m.reshape(-1, 3, 3)), m.shape[:-2]


def matrix_to_xyz_euler(m) -> np.ndarray:
    """Inverse of :func:`xyz_euler_to_matrix` (``b`` in [-pi/2, pi/2])."""
    rotation, batch = _matrices(m)
    return rotation.as_euler("XYZ").reshape(batch + (3,))


def matrix_to_rotvec(m) -> np.ndarray:
    """Axis-angle vector (axis * angle) of rotation matrices ``(..., 3, 3)``; angle in [0, pi]."""
    rotation, batch = _matrices(m)
    return rotation.as_rotvec().reshape(batch + (3,))


def wxyz_to_matrix(q) -> np.ndarray:
    """The rotation matrix of a ``[w, x, y, z]`` quaternion (poses in vlthink's privileged state)."""
    w, x, y, z = np.asarray(q, dtype=np.float64)
    return Rotation.from_quat([x, y, z, w]).as_matrix()


def _wxyz(rotation: Rotation) -> list[float]:
    x, y, z, w = (float(v) for v in rotation.as_quat())
    return [w, x, y, z]


# The three below are the OOD scene's placement maths: they must give the same bits as the
# release that calibrated the scenes (a float32 ulp in a pose moves a pixel of the first frame),
# so they keep its arithmetic: closed forms, and ManiSkill's product in float64.


def yaw_quat(yaw: float) -> list[float]:
    """(w, x, y, z) of a turn by ``yaw`` about the world z axis."""
    return [float(np.cos(yaw / 2)), 0.0, 0.0, float(np.sin(yaw / 2))]


def quat_multiply(a, b) -> list[float]:
    """(w, x, y, z) of rotation ``a`` after ``b`` (the Hamilton product ``a * b``)."""
    import torch

    a = torch.tensor([float(v) for v in a], dtype=torch.float64)
    b = torch.tensor([float(v) for v in b], dtype=torch.float64)
    return _conversions().quaternion_raw_multiply(a, b).tolist()


def heading(q) -> float:
    """Yaw (rad) of the body's x axis seen from above, for a unit (w, x, y, z) quaternion:
    ``atan2(R[1, 0], R[0, 0])`` of its rotation matrix."""
    w, x, y, z = (float(v) for v in q)
    return float(np.arctan2(2 * (x * y + w * z), 1 - 2 * (y * y + z * z)))


def without_heading(q) -> list[float]:
    """``q`` turned about the world z axis until the body's x axis points along world +x (seen
    from above): an orientation with its yaw taken out, e.g. a resting tilt."""
    return quat_multiply(yaw_quat(-heading(q)), q)


def look_at_quat(eye, target) -> list[float]:
    """(w, x, y, z) of a SAPIEN camera (x forward, z up) at ``eye`` looking at ``target``."""
    forward = np.asarray(target, float) - np.asarray(eye, float)
    forward /= np.linalg.norm(forward)
    left = np.cross([0, 0, 1], forward)
    left /= np.linalg.norm(left)
    up = np.cross(forward, left)
    return _wxyz(Rotation.from_matrix(np.stack([forward, left, up], 1)))


# --- torch (ManiSkill), batched over sub-envs -------------------------------------------------
# Imported on first use: the numpy functions above serve processes that never load torch (the
# harness's parent, the scripted policies).


def _conversions():
    from mani_skill.utils.geometry import rotation_conversions

    return rotation_conversions


def rotate(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``v`` (N, 3) rotated by the (N, 4) (w, x, y, z) quaternions ``q``."""
    return _conversions().quaternion_apply(q, v)


def rotation_matrix(q: torch.Tensor) -> torch.Tensor:
    """(N, 3, 3) rotation matrices of the (N, 4) (w, x, y, z) quaternions ``q``: column k is the
    frame's k-th axis in world coordinates (one call where three ``rotate`` calls would do)."""
    return _conversions().quaternion_to_matrix(q)


def to_local(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """World-frame vectors ``v`` (N, 3) in the frames whose orientations are ``q`` (N, 4)."""
    rc = _conversions()
    return rc.quaternion_apply(rc.quaternion_invert(q), v)
