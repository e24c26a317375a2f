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

When the privileged state names a grasp (``object_grasp_point``, ``object_grasp_yaw``: the OOD
suite), the oracle also turns the gripper: it points the fingers straight down with their
closing axis along the object's grasp direction (of the two yaws a parallel gripper may take, the
nearer one), rotating its orientation target by at most ``MAX_ROT_STEP`` per step, and descends
only once aligned; it closes at a height fitted to the object, carries the object so that its
centre (not the grasp point) lands on the goal, measuring where the object sits in the fingers
once it is lifted (it may turn or slide as they close), sets it down just above the goal's
surface, and starts over (``replan``) if the object was moved before it was lifted. Without
those keys it behaves as it always did (VL-Think).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.spatial.transform import Rotation

from vlthink.geometry import wxyz_to_matrix
from vlthink.policies.base import EpisodeSpec, Observation, PolicyBase

GRIPPER_OPEN, GRIPPER_CLOSED = 1.0, -1.0

# Heights (m) relative to the grasped object's resting centre or the goal surface.
APPROACH_HEIGHT = 0.08  # hover above the object before descending
GRASP_DEPTH = -0.004  # TCP below the object's centre when closing (fingers straddle it)
CARRY_HEIGHT = 0.12  # above the table while carrying
RELEASE_HEIGHT = 0.045  # TCP above the goal's top surface when letting go (VL-Think)
MAX_STEP = 0.035  # m of TCP target motion per control step (0.2 s)
REACHED = 0.012  # m: a waypoint counts as reached within this distance
GRIP_STEPS = 4  # control steps to close or open the gripper

# Oriented grasps (objects with a grasp point and yaw: the OOD suite).
MAX_ROT_STEP = 0.3  # rad of orientation-target rotation per control step
ROT_REACHED = 0.04  # rad: aligned within this angle
TCP_ABOVE_FINGERTIPS = 0.016  # m, gripper pointing down (measured on the WidowX URDF)
PALM_ABOVE_TCP = 0.022  # m: the gripper bar between the fingers, which must stay above the object
PALM_CLEARANCE = 0.006  # m between the bar and the top of a tall object
# Fingertips close this fraction of the half-height above the table. Low, below the widest point:
# a carrot starting tilted on the plate's rim, pinched at 0.6, pitched in the fingers and fell.
FINGERTIP_FRACTION = 0.45
MIN_FINGERTIP_HEIGHT = 0.005  # m above the table
# Set down, not dropped: a round object let go 3 cm above a flat receptacle rolled off it.
RELEASE_CLEARANCE = 0.008  # m between the held object's bottom and the goal surface at release


@dataclass
class _Plan:
    """One episode's progress through its waypoints."""

    goal_index: int | None = None  # which board/receptacle to use when aiming at random
    phase: int = 0
    wait: int = 0
    target: np.ndarray | None = None  # the controller's TCP target (world frame)
    waypoints: list = field(default_factory=list)
    rotation: np.ndarray | None = None  # the controller's orientation target (world, 3x3)
    rotation_goal: np.ndarray | None = None  # fingers down, closing along the grasp yaw
    lifted_phase: int | None = None  # the waypoint after which the drop is aimed again


def _gripper_down(yaw: float) -> np.ndarray:
    """TCP orientation (world) with the approach axis (local x) down and the closing axis
    (local y) at ``yaw``."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[0.0, c, s], [0.0, s, -c], [-1.0, 0.0, 0.0]])


def _closing_yaw(rotation: np.ndarray) -> float:
    return float(np.arctan2(rotation[1, 1], rotation[0, 1]))


def _nearer_yaw(yaw: float, current: float) -> float:
    """``yaw`` or ``yaw + pi`` (the same grasp for a parallel gripper), whichever is nearer."""
    wrap = lambda a: (a + np.pi) % (2 * np.pi) - np.pi  # noqa: E731
    return min((yaw, yaw + np.pi), key=lambda y: abs(wrap(y - current)))


def _rotation_step(current: np.ndarray, goal: np.ndarray, max_angle: float) -> np.ndarray:
    """World rotation that turns ``current`` towards ``goal`` by at most ``max_angle``."""
    rotvec = Rotation.from_matrix(goal @ current.T).as_rotvec()
    angle = np.linalg.norm(rotvec)
    if angle > max_angle:
        rotvec *= max_angle / angle
    return Rotation.from_rotvec(rotvec).as_matrix()


def _angle_between(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(Rotation.from_matrix(a @ b.T).as_rotvec()))


AIMS = ("instructed", "random", "left")
LEFT = -1  # goal_index of the leftmost board (board_poses lists the boards left to right)


@dataclass(frozen=True)
class OracleConfig:
    """Policy-file settings of the ``oracle`` adapter."""

    # "random": a uniformly drawn board; "left": always the leftmost board (answer mode's bias row)
    target: Literal["instructed", "random", "left"] = "instructed"
    max_step: float = MAX_STEP  # m of TCP target motion per control step


class OraclePolicy(PolicyBase):
    """Pick the object and place it on the goal, from privileged state."""

    uses_images = False  # plans from privileged state only
    per_slot_reset = True  # one plan per slot
    batched_act = False  # a few microseconds of numpy per observation
    runs_in_worker = True  # numpy only, and pickles

    def __init__(
        self, target: str = "instructed", max_step: float = MAX_STEP, name: str = "oracle"
    ):
        if target not in AIMS:
            raise ValueError(f"oracle: target must be one of {', '.join(AIMS)}, got {target!r}")
        self.name = name
        self.aim = target
        self.max_step = float(max_step)
        self.config = {"adapter": "oracle", "target": target, "max_step": self.max_step}
        self.plans: list[_Plan] = []
        self.episodes: list[EpisodeSpec] = []

    def reset(self, episodes: list[EpisodeSpec]) -> None:
        self.episodes, self.plans = [], []
        self.reset_slots(list(range(len(episodes))), episodes)

    def reset_slots(self, slots: list[int], episodes: list[EpisodeSpec]) -> None:
        """New plans for ``slots``; the other slots' plans go on."""
        grow = max(slots, default=-1) + 1 - len(self.plans)
        self.plans += [_Plan() for _ in range(grow)]
        self.episodes += [None] * grow
        for slot, ep in zip(slots, episodes):
            rng = np.random.default_rng([ep.seed, ep.episode, 7919])
            goal = {"random": int(rng.integers(1 << 30)), "left": LEFT}.get(self.aim)
            self.plans[slot], self.episodes[slot] = _Plan(goal_index=goal), ep

    def close(self) -> None:
        pass

    # ---- planning ----------------------------------------------------------------------------
    def _goal_pose(self, plan: _Plan, priv: dict) -> np.ndarray:
        if plan.goal_index is None:
            return priv["target_pose"]
        goals = priv["board_poses"]
        if plan.goal_index == LEFT:
            return goals[int(np.argmin(goals[:, 1]))]  # the camera looks along +x: left is -y
        return goals[plan.goal_index % len(goals)]

    def _replan(self, plan: _Plan, priv: dict) -> None:
        """Waypoints (TCP position, gripper) from the object's and the goal's current poses."""
        if "object_grasp_point" in priv:
            return self._replan_oriented(plan, priv)
        if bool(priv.get("object_in_hand", False)):
            return self._replan_held(plan, priv)
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

    def _replan_oriented(self, plan: _Plan, priv: dict) -> None:
        """Like _replan, for an object with a grasp point and yaw (OOD suite)."""
        obj = priv["object_pose"][:3]
        grasp = np.asarray(priv["object_grasp_point"], dtype=float)
        goal = self._goal_pose(plan, priv)[:3]
        top = float(goal[2] + priv.get("goal_half_height", np.array(0.003)))
        half = float(priv["object_half_height"])
        table = float(obj[2]) - half
        tip = max(MIN_FINGERTIP_HEIGHT, FINGERTIP_FRACTION * half)
        # Fingertips low on the object, but the bar between the fingers above its top (soda can).
        grasp_z = max(
            table + tip + TCP_ABOVE_FINGERTIPS, table + 2 * half - PALM_ABOVE_TCP + PALM_CLEARANCE
        )
        carry = table + CARRY_HEIGHT
        release = top + grasp_z - table + RELEASE_CLEARANCE
        # Put the object's centre, not the grasp point, over the goal.
        drop = goal[:2] + (grasp[:2] - obj[:2])
        yaw = _nearer_yaw(float(priv["object_grasp_yaw"]), _closing_yaw(plan.rotation))
        plan.rotation_goal = _gripper_down(yaw)
        at = lambda xy, z: np.array([xy[0], xy[1], z])  # noqa: E731
        plan.lifted_phase = 3
        plan.waypoints = [
            (at(grasp, grasp_z + APPROACH_HEIGHT), GRIPPER_OPEN, 0),
            (at(grasp, grasp_z), GRIPPER_OPEN, 0),
            (at(grasp, grasp_z), GRIPPER_CLOSED, GRIP_STEPS),
            (at(grasp, carry), GRIPPER_CLOSED, 0),
            (at(drop, carry), GRIPPER_CLOSED, 0),
            (at(drop, release), GRIPPER_CLOSED, 0),
            (at(drop, release), GRIPPER_OPEN, GRIP_STEPS),
            (at(drop, carry), GRIPPER_OPEN, 0),
        ]

    def _replan_held(self, plan: _Plan, priv: dict) -> None:
        """The object starts in the closed gripper (answer mode): carry it at its height so its
        centre is over the goal, lower, let go, lift."""
        tcp = np.asarray(priv["tcp_pose"][:3], float)
        goal = self._goal_pose(plan, priv)[:3]
        top = float(goal[2] + priv.get("goal_half_height", np.array(0.003)))
        held = tcp[:2] - np.asarray(priv["object_pose"][:2], float)
        x, y = goal[:2] + held
        release = top + RELEASE_HEIGHT
        plan.waypoints = [
            (np.array([x, y, tcp[2]]), GRIPPER_CLOSED, 0),
            (np.array([x, y, release]), GRIPPER_CLOSED, 0),
            (np.array([x, y, release]), GRIPPER_OPEN, GRIP_STEPS),
            (np.array([x, y, tcp[2]]), GRIPPER_OPEN, 0),
        ]

    def _aim_drop(self, plan: _Plan, priv: dict) -> None:
        """Aim the rest of the plan from where the object now sits in the fingers.

        An object can turn or slide as the fingers close (a banana on its curve); carried with
        the offset planned before the grasp, it would land off centre.
        """
        held = np.asarray(priv["tcp_pose"][:2], float) - np.asarray(priv["object_pose"][:2], float)
        drop = self._goal_pose(plan, priv)[:2] + held
        for point, _, _ in plan.waypoints[plan.lifted_phase + 1 :]:
            point[:2] = drop

    def _act_one(self, plan: _Plan, obs: Observation) -> np.ndarray:
        priv = obs.privileged
        tcp = priv["tcp_pose"][:3]
        if plan.target is None or obs.step == 0:
            plan.target = tcp.copy()
            plan.rotation = wxyz_to_matrix(priv["tcp_pose"][3:7])
            self._replan(plan, priv)
            plan.phase, plan.wait = 0, 0
        if bool(priv.get("replan", False)) and plan.phase <= 2:
            # The object was moved before it was lifted: start over from above its new place.
            self._replan(plan, priv)
            plan.phase, plan.wait = 0, 0
        rot_step = None  # VL-Think: the orientation is left alone
        aligned = True
        if plan.rotation_goal is not None:
            rot_step = _rotation_step(plan.rotation, plan.rotation_goal, MAX_ROT_STEP)
            plan.rotation = rot_step @ plan.rotation
            aligned = _angle_between(plan.rotation, plan.rotation_goal) < ROT_REACHED
        if plan.phase >= len(plan.waypoints):
            return self._action(np.zeros(3), GRIPPER_OPEN, priv, rot_step)
        point, grip, hold = plan.waypoints[plan.phase]
        delta = point - plan.target
        dist = np.linalg.norm(delta)
        step = delta if dist <= self.max_step else delta * (self.max_step / dist)
        plan.target = plan.target + step
        arrived = dist <= self.max_step and np.linalg.norm(point - tcp) < REACHED and aligned
        if arrived or (hold and np.linalg.norm(step) < 1e-6):
            plan.wait += 1
            if plan.wait > hold:
                if plan.phase == plan.lifted_phase:
                    self._aim_drop(plan, priv)
                plan.phase, plan.wait = plan.phase + 1, 0
        return self._action(step, grip, priv, rot_step)

    @staticmethod
    def _action(
        world_step: np.ndarray, grip: float, priv: dict, world_rot: np.ndarray | None = None
    ) -> np.ndarray:
        base_rot = wxyz_to_matrix(priv["robot_base_pose"][3:7])
        root_step = base_rot.T @ world_step  # the controller reads translations in the base frame
        euler = np.zeros(3)
        if world_rot is not None:
            # The controller composes rotations in the base frame (root_aligned_body_rotation):
            # new = delta @ old there, so a world rotation W is delta = B^T W B; XYZ Euler angles.
            euler = Rotation.from_matrix(base_rot.T @ world_rot @ base_rot).as_euler("XYZ")
        return np.concatenate([root_step, euler, [grip]]).astype(np.float32)

    def act(self, observations: list[Observation | None]) -> np.ndarray:
        """One action per slot; a ``None`` slot is not stepped (a zero row, ignored)."""
        return np.stack(
            [
                np.zeros(7, np.float32) if o is None else self._act_one(self.plans[j], o)
                for j, o in enumerate(observations)
            ]
        )
