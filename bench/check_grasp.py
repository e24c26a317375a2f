"""Graspability check of the OOD suite's objects with the real WidowX in ManiSkill.

For each object: place it alone in front of the arm (its short axis along the gripper's closing
direction), move the open gripper above its grasp point, descend, close, lift 10 cm, and report
whether it came up with the gripper. Scripted, no learning: a failure here means the object is
too big, too flat, too slippery or too heavy for the gripper, not a weak policy.

    MS_ASSET_DIR=/work/shared/maniskill python bench/check_grasp.py [name ...]
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import sapien
import torch

os.environ.setdefault("MS_ASSET_DIR", "/work/shared/maniskill")

from vlthink.assets.objects import OBJECTS, build_object, object_spec  # noqa: E402
from vlthink.policies.oracle import (  # noqa: E402
    FINGERTIP_FRACTION,
    MIN_FINGERTIP_HEIGHT,
    PALM_ABOVE_TCP,
    PALM_CLEARANCE,
)
from vlthink.scene.widowx import TABLE_TOP_Z, WidowXTableEnv  # noqa: E402

GRASP_SPOT = np.array([-0.22, 0.03])  # m, world xy in front of the arm, where Bridge puts objects
STEP_LIMIT = 0.04  # m of TCP motion commanded per control step
LIFT = 0.10  # m
LIFTED = 0.05  # m: the object must rise at least this much


def _parking(name: str, i: int) -> sapien.Pose:
    """Where an object waits its turn: a grid on the far end of the table, out of reach."""
    x, y = -0.75 - 0.16 * (i % 3), -0.8 + 0.18 * (i // 3)
    return sapien.Pose([x, y, TABLE_TOP_Z + object_spec(name).half_height + 0.002])


class GraspCheckEnv(WidowXTableEnv):
    def __init__(self, *args, names=(), **kwargs):
        self.names = list(names)
        super().__init__(*args, **kwargs)

    def _load_scene(self, options: dict):
        self._load_table()
        self.things = {}
        for i, name in enumerate(self.names):
            self.things[name] = build_object(
                self.scene, name, initial_pose=_parking(name, i), actor_name=f"obj_{i}"
            )

    def _initialize_episode(self, env_idx, options: dict):
        self._reset_robot(env_idx)

    def evaluate(self):
        return {}


def _yaw_of_closing_axis(env) -> float:
    """World yaw of the direction the fingers close along (the TCP's y axis)."""
    m = env.tcp_pose.to_transformation_matrix()[0, :3, :3].cpu().numpy()
    return float(np.arctan2(m[1, 1], m[0, 1]))


def _tcp_to_fingertip(env) -> float:
    """Height of the TCP above the lowest point of the fingers (gripper pointing down)."""
    lows = []
    for link in env.agent.robot.links:
        if "finger" not in link.name:
            continue
        for comp in link._objs[:1]:  # physx link components
            for shape in comp.collision_shapes:
                T = (comp.entity.pose * shape.local_pose).to_transformation_matrix()
                v = shape.vertices * shape.scale
                lows.append((v @ T[:3, :3].T + T[:3, 3])[:, 2].min())
    return float(env.tcp_pose.p[0, 2]) - min(lows)


def _act(env, goal_xyz, gripper: float, steps: int):
    """Drive the TCP towards goal_xyz with clipped delta actions for a number of control steps."""
    for _ in range(steps):
        tcp = env.tcp_pose.p[0].cpu().numpy()
        d_world = np.clip(goal_xyz - tcp, -STEP_LIMIT, STEP_LIMIT)
        # Translation is given in the robot base frame, which is the world yawed by 180 deg.
        d_base = np.array([-d_world[0], -d_world[1], d_world[2]])
        action = np.concatenate([d_base, np.zeros(3), [gripper]]).astype(np.float32)
        env.step(torch.tensor(action)[None])


def check(names) -> dict[str, tuple[bool, float]]:
    env = GraspCheckEnv(names=names, obs_mode="state", num_envs=1, render_mode=None)
    env.reset(seed=0)
    closing_yaw = _yaw_of_closing_axis(env)
    tip = _tcp_to_fingertip(env)
    results = {}
    for name in names:
        env.reset(seed=0)
        spec = object_spec(name)
        # Object yaw: its local y (short axis) along the closing direction.
        yaw = closing_yaw - np.pi / 2
        q = [np.cos(yaw / 2), 0, 0, np.sin(yaw / 2)]
        z0 = TABLE_TOP_Z + spec.half_height + 0.002
        gx, gy = spec.grasp_point
        c, s = np.cos(yaw), np.sin(yaw)
        # Put the grasp point (not the centre) on the grasp spot.
        centre = GRASP_SPOT - np.array([c * gx - s * gy, s * gx + c * gy])
        actor = env.things[name]
        actor.set_pose(sapien.Pose([*centre, z0], q))
        env._settle(0.3)
        env._reset_robot(torch.arange(1))
        start_z = float(actor.pose.p[0, 2])
        top = TABLE_TOP_Z + 2 * spec.half_height
        # The oracle's grasp height: fingertips low on the object, the bar between the fingers
        # above the top of a tall one (a standing can or glass).
        tip_z = TABLE_TOP_Z + max(MIN_FINGERTIP_HEIGHT, FINGERTIP_FRACTION * spec.half_height)
        tcp_z = max(tip_z + tip, top - PALM_ABOVE_TCP + PALM_CLEARANCE)
        above = np.array([*GRASP_SPOT, max(top + 0.05 + tip, tcp_z + 0.05)])
        grasp = np.array([*GRASP_SPOT, tcp_z])
        _act(env, above, 1.0, 6)
        _act(env, grasp, 1.0, 5)
        _act(env, grasp, -1.0, 4)
        _act(env, grasp + [0, 0, LIFT], -1.0, 5)
        rise = float(actor.pose.p[0, 2]) - start_z
        results[name] = (rise >= LIFTED, rise)
        print(
            f"{name:16s} {'LIFTED' if rise >= LIFTED else 'failed':7s} rise={rise * 100:5.1f} cm "
            f"grasp width={spec.grasp_width * 100:.1f} cm",
            flush=True,
        )
        actor.set_pose(_parking(name, names.index(name)))
    env.close()
    return results


if __name__ == "__main__":
    t = time.time()
    names = sys.argv[1:] or list(OBJECTS)
    res = check(names)
    ok = sum(v[0] for v in res.values())
    print(f"{ok}/{len(res)} lifted in {time.time() - t:.0f} s")
    sys.exit(0 if ok == len(res) else 1)
