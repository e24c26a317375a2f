"""How OOD objects come to rest, and whether a seed's first frame depends on what ran before.

    MS_ASSET_DIR=/work/shared/maniskill python bench/check_rest.py [alone]
    MS_ASSET_DIR=/work/shared/maniskill python bench/check_rest.py history \
        [--env VLThink-OOD-Train-v0] [--seeds 40] [--rules rest drop]

``alone``: every object, placed 2 mm above the table in its build pose (as an episode places
it), then the physics runs for 1.5 s; printed every 0.25 s: horizontal drift (mm), height change
(mm) and tilt from upright (degrees). An object still changing after 0.5 s (the settle before
step 0) would be moving when a policy sees the first frame, and where it stops would depend on
history. With the flat collision base (``vlthink.assets.parts.flat_base``) every object stays
within a few degrees, the carrot leaning onto its tip.

``history``: for each start rule of :class:`vlthink.envs.ood.placement.Placement` ("rest": ours,
"drop": the original's) and each seed s, the first frame and the poses of the things on the table
of seed s reset in a freshly built physics scene (``reconfigure``, whose first reset calibrates
the resting poses, as ``gym.make`` does; then seed s) against seed s reset after
three other episodes (a few arm steps each) in the same scene. Printed per rule: seeds whose
frames are identical, the largest pixel difference, how many pixels differ, the largest position
(um) and orientation (degrees) difference of a thing, and how many seeds had an object starting
on a receptacle's edge (``Placement.on_edge``) and how many of those differed. "Same seed, same
scene" needs 0 differences. ``--determinism`` turns on PhysX's enhanced determinism;
``--on-edge`` takes the first seeds whose object overlaps a receptacle.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

os.environ.setdefault("MS_ASSET_DIR", "/work/shared/maniskill")
import gymnasium as gym  # noqa: E402
import torch  # noqa: E402

import vlthink  # noqa: E402,F401
from vlthink.assets.objects import object_spec  # noqa: E402
from vlthink.envs.ood.episode import draw_episode  # noqa: E402
from vlthink.envs.ood.placement import DROP_GAP, START_RULES, Placement  # noqa: E402
from vlthink.scene.widowx import CAMERA_UID, TABLE_TOP_Z  # noqa: E402

SPOT = (-0.16, 0.0)  # m, the centre of the training grid
STEPS, STEP_S = 6, 0.25  # reports, seconds between them
HISTORY = 3  # other episodes run before the seed again
WARM_UP_SEED = 999_999  # the reset that builds (and calibrates) a fresh scene
HISTORY_STEPS = 3  # control steps of each
ARM_MOTION = (0.02, 0.01, -0.02, 0.0, 0.0, 0.2, -1.0)  # a control action that moves the arm


def alone() -> int:
    env = gym.make("VLThink-OOD-MultiCarrot-v0", obs_mode="state_dict")  # holds all 25 objects
    base = env.unwrapped
    env.reset(seed=0)
    named = base._named_actors()
    print(f"{'object':15s} " + " ".join(f"{STEP_S * (k + 1):>14.2f}s" for k in range(STEPS)))
    print(f"{'':15s} " + " ".join(f"{'mm/mm/deg':>15s}" for _ in range(STEPS)))
    for actor, name in named[: len(base.objects)]:
        for other, other_name in named:
            base.placement.set_rows(other, [base.placement.parked_pose(other_name)])
        z = TABLE_TOP_Z + object_spec(name).half_height
        base.placement.set_rows(actor, [[*SPOT, z + DROP_GAP, 1.0, 0.0, 0.0, 0.0]])
        base.placement.same_sleep_state([0], [{name: None}], named)
        cells = []
        for _ in range(STEPS):
            base._settle(STEP_S)
            p = actor.pose.raw_pose[0].numpy()
            w, x, y, zq = p[3:]
            tilt = np.degrees(2 * np.arccos(min(1.0, np.sqrt(w * w + zq * zq))))
            cells.append(
                f"{1000 * np.hypot(p[0] - SPOT[0], p[1] - SPOT[1]):5.1f}/"
                f"{1000 * (p[2] - z):4.1f}/{tilt:4.1f}"
            )
        print(f"{name:15s} " + " ".join(f"{c:>15s}" for c in cells))
    env.close()
    return 0


def _first(env, seed: int, **options) -> tuple[np.ndarray, dict[str, np.ndarray], bool, float]:
    """(frame, name -> pose of each thing on the table, an object on an edge, reset seconds)."""
    t = time.perf_counter()
    obs, _ = env.reset(seed=seed, options=options)
    took = time.perf_counter() - t
    base = env.unwrapped
    on_table = base._spots(base.episodes[0])
    poses = {n: a.pose.raw_pose[0].numpy().copy() for a, n in base._named_actors() if n in on_table}
    frame = obs["sensor_data"][CAMERA_UID]["rgb"][0].numpy().copy()
    return frame, poses, bool(base.placement.on_edge[0]), took


def _angle_deg(q1: np.ndarray, q2: np.ndarray) -> float:
    """Angle between two orientations (robust near 0: ||q1 - q2|| = 2 sin(angle / 4))."""
    q1, q2 = q1.astype(np.float64), q2.astype(np.float64)
    chord = min(np.linalg.norm(q1 - q2), np.linalg.norm(q1 + q2))
    return float(np.degrees(4 * np.arcsin(min(1.0, chord / 2))))


def _edge_seeds(env, n: int) -> list[int]:
    """The first ``n`` seeds whose object overlaps a receptacle (pure layout draws)."""
    base = env.unwrapped
    env.reset(seed=0)  # calibrates the resting poses the overlap test needs
    out, s = [], 0
    while len(out) < n:
        ep = draw_episode(base.config(base.split), np.random.RandomState(s))
        if base.placement.overlapped(ep.object, base._spots(ep)):
            out.append(s)
        s += 1
    return out


def history(
    env_id: str, seeds: int, rules: list[str], determinism: bool = False, edge: bool = False
) -> int:
    scene = {"enable_enhanced_determinism": determinism}
    env = gym.make(env_id, obs_mode="rgb", sim_config={"scene_config": scene})
    chosen = _edge_seeds(env, seeds) if edge else list(range(seeds))
    print(
        f"{env_id}, {seeds} {'on-edge ' if edge else ''}seeds, fresh scene vs after {HISTORY}"
        " other episodes" + (", PhysX enhanced determinism" if determinism else "")
    )
    print(
        f"{'rule':5s} {'same':>6s} {'max px':>7s} {'px differ':>10s} {'max um':>8s} "
        f"{'max deg':>8s} {'on edge':>8s} {'(differ)':>9s} {'reset ms':>9s}"
    )
    for rule in rules:
        Placement.rule = rule
        same, px_max, px_n, mm, deg, edge, edge_diff, times = 0, 0, 0, 0.0, 0.0, 0, 0, []
        differ = []
        for s in chosen:
            env.reset(seed=WARM_UP_SEED, options={"reconfigure": True})  # as gym.make does
            fresh, fresh_poses, on_edge, _ = _first(env, s)
            for k in range(HISTORY):
                env.reset(seed=1000 + 7 * s + k)
                for _ in range(HISTORY_STEPS):
                    env.step(torch.tensor(ARM_MOTION))
            frame, poses, _, took = _first(env, s)
            times.append(took)
            diff = np.abs(fresh.astype(int) - frame.astype(int)).max(axis=-1)
            equal = not diff.any()
            same += equal
            if not equal:
                differ.append(s)
            px_max, px_n = max(px_max, int(diff.max())), max(px_n, int((diff > 0).sum()))
            for n, p in poses.items():
                mm = max(mm, 1e6 * float(np.abs(p[:3] - fresh_poses[n][:3]).max()))
                deg = max(deg, _angle_deg(p[3:], fresh_poses[n][3:]))
            edge += on_edge
            edge_diff += on_edge and not equal
        print(
            f"{rule:5s} {same:>3d}/{seeds:<2d} {px_max:>7d} {px_n:>10d} {mm:>8.1f} {deg:>8.4f} "
            f"{edge:>8d} {edge_diff:>9d} {1000 * np.mean(times):>9.1f}"
        )
        if differ:
            print(f"      seeds that differ: {differ}")
    Placement.rule = "rest"
    env.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", nargs="?", default="alone", choices=["alone", "history"])
    parser.add_argument("--env", default="VLThink-OOD-Train-v0")
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--rules", nargs="+", default=list(START_RULES), choices=START_RULES)
    parser.add_argument(
        "--determinism", action="store_true", help="PhysX's enable_enhanced_determinism"
    )
    parser.add_argument(
        "--on-edge", action="store_true", help="only seeds whose object overlaps a receptacle"
    )
    args = parser.parse_args()
    if args.what == "alone":
        return alone()
    return history(args.env, args.seeds, args.rules, args.determinism, args.on_edge)


if __name__ == "__main__":
    raise SystemExit(main())
