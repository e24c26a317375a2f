"""The paper's processing of a recorded attempt, as named, stated options.

* ``drop_idle_actions``: a step whose action moves the TCP by less than ``IDLE_TRANSLATION``
  and turns it by less than ``IDLE_ROTATION`` and repeats the previous gripper command adds no
  frame. A step that changes the gripper command is never idle (the close that grasps stays);
  the first step is always kept (the first view of the scene).
* ``stop_after_success = k``: the episode is cut ``k`` steps after the step that first succeeds.
* ``successes_only``: only attempts that succeed at the end of the cut episode are kept.

Dropped steps are still executed: every executed action up to the cut is kept in the sidecar,
so a replay reruns exactly what the simulator saw.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

IDLE_TRANSLATION = 1e-3  # m per control step (0.2 s): 5 mm/s
IDLE_ROTATION = 1e-3  # rad per control step
#: The TCP orientation (in the robot base frame) with the gripper pointing straight down, the
#: reference of observation.state's angles: taken raw, a downward gripper sits at XYZ Euler
#: pitch ~ pi/2, the gimbal lock, where roll and yaw jump by radians between frames. SimplerEnv
#: uses the same reference ("default_rot") for the Bridge WidowX's proprioception.
GRIPPER_DOWN = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])


@dataclass(frozen=True)
class Processing:
    drop_idle_actions: bool = True
    stop_after_success: int | None = 6  # steps; None: keep the whole attempt
    successes_only: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "idle_translation_m": IDLE_TRANSLATION,
            "idle_rotation_rad": IDLE_ROTATION,
        }


@dataclass(frozen=True)
class Selection:
    """What of an attempt becomes an episode."""

    cut: int  # executed steps that belong to the episode
    kept: list[int]  # steps (of those) whose frame and action enter the dataset
    first_success: int | None  # the step after which success was first seen
    success: bool  # success after the episode's last step

    @property
    def dropped(self) -> int:
        return self.cut - len(self.kept)


def is_idle(action: np.ndarray, previous: np.ndarray | None) -> bool:
    if previous is None:
        return False
    still = (
        np.linalg.norm(action[:3]) < IDLE_TRANSLATION
        and np.linalg.norm(action[3:6]) < IDLE_ROTATION
    )
    return bool(still and action[6] == previous[6])


def select(actions: list[np.ndarray], successes: list[bool], proc: Processing) -> Selection:
    first = next((t for t, s in enumerate(successes) if s), None)
    cut = len(actions)
    if first is not None and proc.stop_after_success is not None:
        cut = min(cut, first + 1 + proc.stop_after_success)
    kept = [
        t
        for t in range(cut)
        if not (proc.drop_idle_actions and is_idle(actions[t], actions[t - 1] if t else None))
    ]
    return Selection(cut, kept, first, bool(cut and successes[cut - 1]))


def state_vector(privileged: dict[str, np.ndarray]) -> np.ndarray:
    """``observation.state`` (see :data:`vlthink.demos.layout.STATE_NAMES`) from the world-frame
    poses ``[x, y, z, qw, qx, qy, qz]`` of the TCP and the robot base."""
    tcp = np.asarray(privileged["tcp_pose"], np.float64)
    base = np.asarray(privileged["robot_base_pose"], np.float64)
    wxyz = lambda q: Rotation.from_quat(np.roll(q, -1))  # noqa: E731  (scipy reads x, y, z, w)
    base_rot, tcp_rot = wxyz(base[3:7]), wxyz(tcp[3:7])
    position = base_rot.inv().apply(tcp[:3] - base[:3])
    in_base = (base_rot.inv() * tcp_rot).as_matrix()
    euler = Rotation.from_matrix(in_base @ GRIPPER_DOWN.T).as_euler("XYZ")
    gripper = float(np.mean(np.asarray(privileged["gripper_qpos"], np.float64)))
    return np.concatenate([position, euler, [gripper]]).astype(np.float32)
