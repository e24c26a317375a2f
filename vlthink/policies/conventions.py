"""Action conventions: turning a model's raw 7-D output into the controller's native action.

vlthink's WidowX controller (ManiSkill3 ``arm_pd_ee_target_delta_pose_align2``) reads an action
``[dx, dy, dz, a, b, c, gripper]`` and builds the rotation delta as
``R = Rx(a) @ Ry(b) @ Rz(c)`` (``euler_angles_to_matrix(delta, "XYZ")``: intrinsic X-Y'-Z''),
which it applies in the robot base frame (``q_target = q_delta * q_prev``).

Bridge-trained models (OpenVLA, Octo, ...) output ``[dx, dy, dz, roll, pitch, yaw, gripper]``.
Two published ways to feed those to a simulator exist, and they disagree for rotations about
more than one axis, so the adapter names the one it uses (``action_convention`` in the policy file):

``euler``
    The three numbers pass through unchanged: the controller reads them as XYZ Euler angles
    (intrinsic, ``Rx(roll) Ry(pitch) Rz(yaw)``). This is what the paper's released code does.

``axis-angle``
    SimplerEnv's reading. SimplerEnv treats the numbers as static-frame ``sxyz`` Euler angles
    (transforms3d ``euler2axangle(roll, pitch, yaw)``, i.e. ``R = Rz(yaw) @ Ry(pitch) @ Rx(roll)``)
    and hands the controller the rotation as an axis-angle vector, which ManiSkill2's controller
    read with ``from_rotvec``. Our controller reads XYZ Euler, so to command *the same rotation*
    we re-express ``R = Rz(yaw) Ry(pitch) Rx(roll)`` as intrinsic XYZ Euler angles ``(a, b, c)``
    with ``Rx(a) Ry(b) Rz(c) = R``. (SimplerEnv's ManiSkill3 port passes the axis-angle vector
    itself to the XYZ-Euler controller; that agrees with this to first order in the angles only.)

Gripper: ``open-1`` (OpenVLA on Bridge: a value in [0, 1], 1 = open) is binarised at 0.5 to
+1 (open) / -1 (closed); ``signed`` (already in [-1, 1], positive = open) is binarised at 0.
"""

from __future__ import annotations

import numpy as np

from vlthink.errors import UnknownNameError

# The rotation maths lives in vlthink.geometry; the names stay importable from here.
from vlthink.geometry import (
    matrix_to_rotvec,
    matrix_to_xyz_euler,
    sxyz_euler_to_matrix,
    xyz_euler_to_matrix,
)

__all__ = [
    "BRIDGE_ORIG_ACTION_STATS",
    "GRIPPER_CONVENTIONS",
    "ROTATION_CONVENTIONS",
    "binarize_gripper",
    "convert_rotation",
    "load_action_stats",
    "matrix_to_rotvec",
    "matrix_to_xyz_euler",
    "sxyz_euler_to_matrix",
    "to_env_actions",
    "unnormalize_actions",
    "xyz_euler_to_matrix",
]

ROTATION_CONVENTIONS = ("euler", "axis-angle")
GRIPPER_CONVENTIONS = ("open-1", "signed")


# --- conversions --------------------------------------------------------------------------------


def convert_rotation(rot: np.ndarray, convention: str) -> np.ndarray:
    """Map a model's 3 rotation numbers ``(..., 3)`` to the controller's XYZ Euler delta."""
    rot = np.asarray(rot, dtype=np.float64)
    if convention == "euler":
        return rot.copy()
    if convention == "axis-angle":
        return matrix_to_xyz_euler(sxyz_euler_to_matrix(rot))
    raise ValueError(
        f"unknown action convention {convention!r}; valid: {', '.join(ROTATION_CONVENTIONS)}"
    )


def binarize_gripper(g: np.ndarray, convention: str = "open-1") -> np.ndarray:
    """Gripper command in the env's convention: +1 open, -1 closed."""
    g = np.asarray(g, dtype=np.float64)
    if convention == "open-1":
        return np.where(g > 0.5, 1.0, -1.0)
    if convention == "signed":
        return np.where(g > 0.0, 1.0, -1.0)
    raise ValueError(
        f"unknown gripper convention {convention!r}; valid: {', '.join(GRIPPER_CONVENTIONS)}"
    )


def to_env_actions(raw: np.ndarray, rotation: str = "euler", gripper: str = "open-1") -> np.ndarray:
    """Raw model actions ``(B, >=7)`` -> env actions ``(B, 7)`` float32."""
    raw = np.asarray(raw, dtype=np.float64)
    out = np.empty(raw.shape[:-1] + (7,), dtype=np.float64)
    out[..., :3] = raw[..., :3]
    out[..., 3:6] = convert_rotation(raw[..., 3:6], rotation)
    out[..., 6] = binarize_gripper(raw[..., 6], gripper)
    return out.astype(np.float32)


# --- de-normalisation (for servers that return normalised actions) ------------------------------

# OpenVLA's ``norm_stats["bridge_orig"]["action"]`` (BridgeData V2 as used by OpenVLA / Octo),
# as published in the openvla/openvla-7b config.json. Dimensions: dx, dy, dz, droll, dpitch,
# dyaw, gripper; ``mask`` False = the dimension is not normalised (the gripper, already 0/1).
# fmt: off  (a table of 7 numbers per statistic)
BRIDGE_ORIG_ACTION_STATS: dict[str, list] = {
    "mean": [
        0.0002334194869035855,
        0.00013004911306779832,
        -0.00012762474943883717,
        -0.0001556558854645118,
        -0.0004039328487124294,
        0.00023557482927571982,
        0.5764579176902771,
    ],
    "std": [
        0.009765930473804474,
        0.013689135201275349,
        0.012667362578213215,
        0.028534092009067535,
        0.030637972056865692,
        0.07691419124603271,
        0.4973701536655426,
    ],
    "max": [
        0.41691166162490845,
        0.25864794850349426,
        0.21218234300613403,
        3.122201919555664,
        1.8618112802505493,
        6.280478477478027,
        1.0,
    ],
    "min": [
        -0.4007510244846344,
        -0.13874775171279907,
        -0.22553899884223938,
        -3.2010786533355713,
        -1.8618112802505493,
        -6.279075622558594,
        0.0,
    ],
    "q01": [
        -0.02872725307941437,
        -0.04170349963009357,
        -0.026093858778476715,
        -0.08092105075716972,
        -0.09288699507713317,
        -0.20718276381492615,
        0.0,
    ],
    "q99": [
        0.028309678435325586,
        0.040855254605412394,
        0.040161586627364146,
        0.08192047759890528,
        0.07792850524187081,
        0.20382574498653397,
        1.0,
    ],
    "mask": [True, True, True, True, True, True, False],
}
# fmt: on


def load_action_stats(path: str, unnorm_key: str) -> dict[str, list]:
    """Action statistics from a ``dataset_statistics.json`` (OpenVLA's fine-tuning output).

    Accepts both layouts: ``{key: {"action": {...}}}`` (the file OpenVLA writes next to a
    fine-tuned checkpoint, and ``config.json``'s ``norm_stats``) and a bare ``{"action": {...}}``.
    """
    import json

    with open(path) as f:
        data = json.load(f)
    if "norm_stats" in data:
        data = data["norm_stats"]
    if "action" in data:
        return data["action"]
    if unnorm_key not in data:
        raise UnknownNameError(
            f"{path} has no statistics for unnorm_key {unnorm_key!r}; "
            f"it has: {', '.join(sorted(data))}"
        )
    return data[unnorm_key]["action"]


def unnormalize_actions(normalized: np.ndarray, stats: dict[str, list]) -> np.ndarray:
    """OpenVLA's bounds-q99 de-normalisation: ``[-1, 1] -> [q01, q99]`` where ``mask`` is True."""
    x = np.asarray(normalized, dtype=np.float64)
    lo, hi = np.asarray(stats["q01"], dtype=np.float64), np.asarray(stats["q99"], dtype=np.float64)
    mask = np.asarray(stats.get("mask", [True] * len(lo)), dtype=bool)
    return np.where(mask, 0.5 * (x + 1.0) * (hi - lo) + lo, x)
