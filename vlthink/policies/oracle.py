"""Scripted reference policies with privileged state: the ceiling of every table.

``OraclePolicy`` grasps the object from above, lifts it, carries it over the goal, lowers it and
lets go, following a list of waypoints. It reads only ``Observation.privileged`` (world-frame
poses), never the image or the instruction, so its success rate measures the task's physical
solvability, not understanding.

``target="instructed"`` aims at the instructed board or receptacle (the ceiling);
``target="random"`` aims at a uniformly drawn board (seeded per episode), which should land near
chance (1/3; 1/2 for Parity) and shows the scene is fair: no position is easier than another.

The controller (``pd_ee_target_delta_pose`` with ``use_target=True``) adds each position delta to
its previous *target*, not to the measured pose, so the oracle keeps its own copy of that target
and steps it towards each waypoint by at most ``max_step`` per control step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vlthink.policies.base import EpisodeSpec, Observation

GRIPPER_OPEN, GRIPPER_CLOSED = 1.0, -1.0

# Heights (m) relative to the grasped object's resting centre or the goal surface.
APPROACH_HEIGHT = 0.08  # hover above the object before descending
GRASP_DEPTH = -0.004  # TCP below the object's centre when closing (fingers straddle it)
CARRY_HEIGHT = 0.12  # above the table while carrying
RELEASE_HEIGHT = 0.045  # TCP above the goal's top surface when letting go
MAX_STEP = 0.035  # m of TCP target motion per control step (0.2 s)
REACHED = 0.012  # m: a waypoint counts as reached within this distance
GRIP_STEPS = 4  # control steps to close or open the gripper


def _quat_to_matrix(q: np.ndarray) -> np.ndarray:
    w, x, y, z = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


@dataclass
class _Plan:
    """One episode's progress through its waypoints."""

    goal_index: int | None = None  # which board/receptacle to use when aiming at random
    phase: int = 0
    wait: int = 0
    target: np.ndarray | None = None  # the controller's TCP target (world frame)
    waypoints: list = field(default_factory=list)


class OraclePolicy:
    """Pick the object and place it on the goal, from privileged state."""

    kind = "action"

    def __init__(self, target: str = "instructed", max_step: float = MAX_STEP, name: str = "oracle"):
        if target not in ("instructed", "random"):
            raise ValueError(f"oracle: target must be 'instructed' or 'random', got {target!r}")
        self.name = name
        self.aim = target
        self.max_step = float(max_step)
        self.config = {"adapter": "oracle", "target": target, "max_step": self.max_step}
        self.plans: list[_Plan] = []
        self.episodes: list[EpisodeSpec] = []

    def reset(self, episodes: list[EpisodeSpec]) -> None:
        self.episodes = list(episodes)
        self.plans = []
        for ep in episodes:
            rng = np.random.default_rng([ep.seed, ep.episode, 7919])
            self.plans.append(_Plan(goal_index=int(rng.integers(1 << 30)) if self.aim == "random" else None))

    def close(self) -> None:
        pass

    # ---- planning ---------------------------------------------------------------------------------
    def _goal_pose(self, plan: _Plan, priv: dict) -> np.ndarray:
        if plan.goal_index is None:
            return priv["target_pose"]
        goals = priv["board_poses"]
        return goals[plan.goal_index % len(goals)]

    def _replan(self, plan: _Plan, priv: dict) -> None:
        """Waypoints (TCP position, gripper) from the object's and the goal's current poses."""
        obj = priv["object_pose"][:3]
        goal = self._goal_pose(plan, priv)[:3]
        top = goal[2] + priv.get("goal_half_height", np.array(0.003))
        table = obj[2] - priv.get("object_half_height", np.array(0.012))
        carry = table + CARRY_HEIGHT
        above_obj = obj + [0, 0, APPROACH_HEIGHT]
        plan.waypoints = [
            (above_obj, GRIPPER_OPEN, 0),
            (obj + [0, 0, GRASP_DEPTH], GRIPPER_OPEN, 0),
            (obj + [0, 0, GRASP_DEPTH], GRIPPER_CLOSED, GRIP_STEPS),
            (np.array([obj[0], obj[1], carry]), GRIPPER_CLOSED, 0),
            (np.array([goal[0], goal[1], carry]), GRIPPER_CLOSED, 0),
            (np.array([goal[0], goal[1], float(top) + RELEASE_HEIGHT]), GRIPPER_CLOSED, 0),
            (np.array([goal[0], goal[1], float(top) + RELEASE_HEIGHT]), GRIPPER_OPEN, GRIP_STEPS),
            (np.array([goal[0], goal[1], carry]), GRIPPER_OPEN, 0),
        ]

    def _act_one(self, plan: _Plan, obs: Observation) -> np.ndarray:
        priv = obs.privileged
        tcp = priv["tcp_pose"][:3]
        if plan.target is None or obs.step == 0:
            plan.target = tcp.copy()
            self._replan(plan, priv)
            plan.phase, plan.wait = 0, 0
        if priv.get("replan", False) and plan.phase <= 1:
            self._replan(plan, priv)  # the object was moved before it was grasped
        if plan.phase >= len(plan.waypoints):
            return self._action(np.zeros(3), GRIPPER_OPEN, priv)
        point, grip, hold = plan.waypoints[plan.phase]
        delta = point - plan.target
        dist = np.linalg.norm(delta)
        step = delta if dist <= self.max_step else delta * (self.max_step / dist)
        plan.target = plan.target + step
        arrived = dist <= self.max_step and np.linalg.norm(point - tcp) < REACHED
        if arrived or (hold and np.linalg.norm(step) < 1e-6):
            plan.wait += 1
            if plan.wait > hold:
                plan.phase, plan.wait = plan.phase + 1, 0
        return self._action(step, grip, priv)

    @staticmethod
    def _action(world_step: np.ndarray, grip: float, priv: dict) -> np.ndarray:
        base_rot = _quat_to_matrix(priv["robot_base_pose"][3:7])
        root_step = base_rot.T @ world_step  # the controller reads translations in the base frame
        return np.concatenate([root_step, np.zeros(3), [grip]]).astype(np.float32)

    def act(self, observations: list[Observation]) -> np.ndarray:
        return np.stack([self._act_one(p, o) for p, o in zip(self.plans, observations)])
