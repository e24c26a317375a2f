"""Speed of every vlthink env against a bare ManiSkill scene with the same robot, camera and actors.

    MS_ASSET_DIR=... python bench/bench_envs.py [--steps 60] [--resets 10] [ENV_ID ...]
    python bench/bench_envs.py --sim-backend gpu --num-envs 16      # where a GPU is lent

For each env: control steps per second (zero arm motion, gripper open; rgb observations of the
640x480 Bridge camera, as the harness gives image policies, with one torch thread, as its
workers run) and the median time of a seeded reset. "bare" is a plain ManiSkill BaseEnv with the
same agent, camera and table and as many dynamic box actors as the env has (the first four on
the table, the rest parked below it, as unused candidates are), no textures and no task logic:
the floor our scenes cannot beat. The env and its bare scene are built side by side and take
turns (10 steps each, resets seed by seed), so a drifting machine load hits both alike. Resets
run twice over seeds 1..R: the first pass pays what is done once per table look and process
(drawing or loading it, uploading its texture), the second is what a long run's reset costs.
Goal: every env >= 90% of the bare step rate, reset (second pass) <= 2x the bare reset, and
resets that never reconfigure.

Each env's row also splits a step and a reset (the mean of the second pass), the env's and its
bare scene's, into milliseconds per stage (``StageClock``): physics (a step: the controller and
the 100 physics substeps; a reset: the settle before step 0, which the bare scene does not do),
render (scene update, camera capture, image readback and its conversion to uint8 rgb), evaluate
(the success check), observation (the rest of the observation: the pasted backdrop, overlays,
state, copies) and other (placing things, and what ManiSkill does around it all), so a
regression names its stage and the gap to the bare scene names where it is.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
import sapien
import torch
from mani_skill.envs.sapien_env import BaseEnv
from mani_skill.utils.registration import register_env
from mani_skill.utils.structs.pose import Pose
from mani_skill.utils.structs.types import SimConfig

import vlthink
from vlthink.scene import widowx

STAGES = ("physics", "render", "evaluate", "observation")


class StageClock:
    """Times the stages of ``env.step`` or ``env.reset`` by wrapping the env's own methods on the
    instance; counts only while ``timing`` is set. In a reset, physics is the settle."""

    def __init__(self, env):
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.timing = False
        u = env.unwrapped
        self._wrap(u, "_step_action", "physics")
        if hasattr(u, "_settle"):
            self._wrap(u, "_settle", "physics")
        self._wrap(u, "evaluate", "evaluate")
        self._wrap(u, "get_obs", "observation")
        self._wrap(u.scene, "update_render", "render")
        self._wrap(u, "capture_sensor_data", "render")
        for sensor in u.scene.sensors.values():
            self._wrap(sensor, "get_obs", "render")
        if hasattr(u, "_camera_transforms"):  # a composited capture converts its raw pictures
            self._wrap(u, "_camera_transforms", "render")  # itself, as get_obs would have

    def _wrap(self, obj, name: str, stage: str):
        inner = getattr(obj, name)

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                if self.timing:
                    self.seconds[stage] += time.perf_counter() - t0

        setattr(obj, name, timed)

    def shares(self, total_s: float) -> dict:
        """Share of ``total_s`` per stage; observation excludes the render inside it."""
        s = dict(self.seconds)
        s["observation"] -= s["render"]
        s["other"] = total_s - sum(s.values())
        return {k: v / total_s for k, v in s.items()}


@register_env("VLThinkBench-Bare-v0", max_episode_steps=widowx.MAX_EPISODE_STEPS)
class BareScene(BaseEnv):
    """WidowX + table + ``num_actors`` boxes: nothing but simulation and rendering."""

    SUPPORTED_ROBOTS = [widowx.ROBOT_UID]
    SUPPORTED_REWARD_MODES = ["none"]

    def __init__(self, *args, num_actors: int = 4, **kwargs):
        self.num_actors = num_actors
        kwargs.setdefault("sensor_configs", {"shader_pack": widowx.SHADER_PACK})  # as our envs
        super().__init__(
            *args, robot_uids=widowx.ROBOT_UID, control_mode=widowx.CONTROL_MODE, **kwargs
        )

    @property
    def _default_sim_config(self):
        return SimConfig(sim_freq=widowx.SIM_FREQ, control_freq=widowx.CONTROL_FREQ, spacing=20)

    @property
    def _default_sensor_configs(self):
        return []

    def _load_agent(self, options):
        super()._load_agent(options, sapien.Pose(p=widowx.ROBOT_BASE_P, q=widowx.ROBOT_BASE_Q))

    def _load_scene(self, options):
        b = self.scene.create_actor_builder()
        b.add_box_collision(half_size=widowx.TABLE_HALF_SIZE)
        b.add_box_visual(half_size=widowx.TABLE_HALF_SIZE)
        b.initial_pose = sapien.Pose(
            p=[*widowx.TABLE_CENTER_XY, widowx.TABLE_TOP_Z - widowx.TABLE_HALF_SIZE[2]]
        )
        b.build_static(name="table")
        self.boxes = []
        for i in range(self.num_actors):
            b = self.scene.create_actor_builder()
            b.add_box_collision(half_size=[0.05, 0.05, 0.01])
            b.add_box_visual(half_size=[0.05, 0.05, 0.01])
            b.initial_pose = sapien.Pose(p=self._spot(i))
            self.boxes.append(b.build(name=f"box{i}"))

    @staticmethod
    def _spot(i: int) -> list[float]:
        if i < 4:  # on the table
            return [-0.25, -0.2 + 0.13 * i, widowx.TABLE_TOP_Z + 0.01]
        return [0.3 * (i % 7 - 3), 0.3 * (i // 7), -0.99]  # parked below the table

    def _initialize_episode(self, env_idx, options):
        n = len(env_idx)
        for i, box in enumerate(self.boxes):
            box.set_pose(Pose.create_from_pq(p=torch.tensor(self._spot(i)).expand(n, 3)))
        self.agent.reset(torch.tensor(widowx.ROBOT_INIT_QPOS))

    def evaluate(self):
        return {}


BLOCK = 10  # steps per turn: the env and its bare scene take turns, so drift hits both alike


class Clocked:
    """One env under the clock: seeded resets and zero-motion steps, timed and summed."""

    def __init__(self, env_id: str, **make_kwargs):
        t0 = time.perf_counter()
        self.env = gym.make(env_id, obs_mode="rgb", **make_kwargs)
        self.env.reset(seed=0)
        self.make_s = time.perf_counter() - t0
        actors = self.env.unwrapped.scene.actors.values()
        self.dynamic = sum(a.px_body_type == "dynamic" for a in actors)
        self.action = torch.zeros(self.env.action_space.shape)
        self.action[..., -1] = 1.0  # gripper open
        self.reset_s: tuple[list, list] = ([], [])  # seconds of each reset: first, second pass
        self.step_s, self.steps, self.reconfigured = 0.0, 0, 0
        self.step_clock, self.reset_clock = StageClock(self.env), StageClock(self.env)
        self.warm = False

    def reset(self, seed: int, pass_index: int) -> None:
        self.reset_clock.timing = pass_index == 1  # the split of a long run's reset
        t0 = time.perf_counter()
        _, info = self.env.reset(seed=seed)
        self.reset_s[pass_index].append(time.perf_counter() - t0)
        self.reset_clock.timing = False
        self.reconfigured += bool(info.get("reconfigure", False))

    def run_steps(self, n: int) -> None:
        if not self.warm:
            self.env.step(self.action)  # warm-up, untimed
            self.warm = True
        self.step_clock.timing = True
        t0 = time.perf_counter()
        for _ in range(n):
            self.env.step(self.action)
        self.step_s += time.perf_counter() - t0
        self.step_clock.timing = False
        self.steps += n


def measure(env_id: str, steps: int, resets: int, assets: str = "vlthink", **make_kwargs) -> dict:
    """The env (on asset set ``assets``) and its bare scene, built side by side, timed in turns."""
    env = Clocked(env_id, assets=assets, **make_kwargs)
    bare = Clocked("VLThinkBench-Bare-v0", num_actors=env.dynamic, **make_kwargs)
    seeds = range(1, resets + 1)
    # Twice over the same seeds: the first pass pays what is done once per look and process
    # (drawing or loading a table look, uploading its texture); the second is a long run's reset.
    for pass_index in (0, 1):
        for seed in seeds:  # seed by seed, in turns
            for c in (env, bare):
                c.reset(seed, pass_index)
    for _ in range(max(1, steps // BLOCK)):
        for c in (env, bare):
            c.run_steps(BLOCK)
    n = env.env.unwrapped.num_envs
    row = {
        "env": env_id,
        "make_s": env.make_s,
        "first_reset_s": float(np.median(env.reset_s[0])),
        "reset_s": float(np.median(env.reset_s[1])),
        "steps_per_s": n * env.steps / env.step_s,
        "reconfigured": env.reconfigured,
        "step_ms": env.step_s / env.steps * 1e3,
        "shares": env.step_clock.shares(env.step_s),
        "reset_mean_s": float(np.mean(env.reset_s[1])),
        "reset_shares": env.reset_clock.shares(sum(env.reset_s[1])),
        "dynamic_actors": env.dynamic,
        "bare_steps_per_s": n * bare.steps / bare.step_s,
        "bare_step_ms": bare.step_s / bare.steps * 1e3,
        "bare_shares": bare.step_clock.shares(bare.step_s),
        "bare_reset_mean_s": float(np.mean(bare.reset_s[1])),
        "bare_reset_shares": bare.reset_clock.shares(sum(bare.reset_s[1])),
        "bare_reset_s": float(np.median(bare.reset_s[1])),
    }
    env.env.close()
    bare.env.close()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("env_ids", nargs="*", help="default: every registered vlthink env")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--resets", type=int, default=10)
    parser.add_argument("--sim-backend", default="cpu")
    parser.add_argument("--num-envs", type=int, default=1)
    parser.add_argument("--assets", choices=("vlthink", "original"), default="vlthink")
    args = parser.parse_args()
    ids = args.env_ids or list(vlthink.envs.ALL_TASKS)
    kw = dict(sim_backend=args.sim_backend, num_envs=args.num_envs, assets=args.assets)
    torch.set_num_threads(1)  # as the harness's workers (vlthink.harness.worker)
    rows = []
    for env_id in ids:
        row = measure(env_id, args.steps, args.resets, **kw)
        rows.append(row)
        print(
            f"{env_id:<30} {row['steps_per_s']:7.1f} steps/s  bare {row['bare_steps_per_s']:7.1f}  "
            f"ratio {row['steps_per_s'] / row['bare_steps_per_s']:5.1%}  "
            f"reset {row['reset_s'] * 1e3:6.1f} ms (bare {row['bare_reset_s'] * 1e3:5.1f}; "
            f"first pass {row['first_reset_s'] * 1e3:5.1f})  "
            f"reconfigured {row['reconfigured']}/{2 * args.resets}",
            flush=True,
        )
        split_of = (
            ("step", "step_ms", "shares", 1.0),
            ("reset", "reset_mean_s", "reset_shares", 1e3),
        )
        for what, ms_key, shares_key, to_ms in split_of:
            for who, prefix in (("env", ""), ("bare", "bare_")):
                ms, shares = row[prefix + ms_key] * to_ms, row[prefix + shares_key]
                split = "  ".join(f"{k} {v * ms:5.1f}" for k, v in shares.items())
                print(f"{'':<18} {who:>5} {what:>5} {ms:5.1f} ms = {split}", flush=True)
    ratios = [r["steps_per_s"] / r["bare_steps_per_s"] for r in rows]
    resets = [r["reset_s"] / r["bare_reset_s"] for r in rows]
    print(
        f"\n{len(rows)} envs, backend={args.sim_backend}, num_envs={args.num_envs}: step-rate ratio "
        f"min {min(ratios):.1%}, median {float(np.median(ratios)):.1%}; reset / bare reset max "
        f"{max(resets):.1f}x, median {float(np.median(resets)):.1f}x"
    )


if __name__ == "__main__":
    main()
