"""Run the scripted privileged oracle over seeded episodes and print its success rate per env.

The figures quoted for the OOD suite (and usable for VL-Think) come from here:

    python bench/oracle_sweep.py --suite ood            # 64 seeds
    python bench/oracle_sweep.py VLThink-OOD-Train-v0 VLThink-OOD-Plate-v0 --seeds 0:32 --split train

Seeds ``a:b`` are episodes ``reset(seed=s)`` for s in [a, b). Every episode runs the full 80
control steps; success is ``info["success"]`` at the last step, as the harness scores it. The
oracle reads only privileged state, never the image, so by default the envs are made with
``obs_mode="state"`` (no rendering, ~3x faster); ``--obs-mode rgb+segmentation`` renders (and
overlays) as a policy would see them, with the same outcome.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_OFFLINE = os.path.join(
    os.path.dirname(_REPO), "shared", "maniskill"
)  # the offline robot copy, if any
if not os.environ.get("MS_ASSET_DIR") and os.path.isdir(_OFFLINE):
    os.environ["MS_ASSET_DIR"] = _OFFLINE
sys.path.insert(0, _REPO)

import gymnasium as gym  # noqa: E402
import torch  # noqa: E402

import vlthink  # noqa: E402
from vlthink.envs import PLACED_ON  # noqa: E402
from vlthink.policies.base import EpisodeSpec, Observation  # noqa: E402
from vlthink.policies.oracle import OraclePolicy  # noqa: E402
from vlthink.scene.widowx import MAX_EPISODE_STEPS  # noqa: E402


def _observation(env, obs, step: int) -> Observation:
    base = env.unwrapped
    state = {k: v[0] for k, v in base.privileged_state().items()}
    image = base.camera_images(obs)[0] if isinstance(obs, dict) and "sensor_data" in obs else None
    return Observation(
        image=image, instruction=base.task_info()[0]["instruction"], step=step, privileged=state
    )


def run_episode(
    env, env_id: str, seed: int, options: dict, policy: OraclePolicy
) -> tuple[bool, str, dict]:
    obs, _ = env.reset(seed=seed, options=options)
    policy.reset([EpisodeSpec(env_id, seed, seed)])
    info = {}
    for step in range(MAX_EPISODE_STEPS):
        action = policy.act([_observation(env, obs, step)])
        obs, _, _, _, info = env.step(torch.from_numpy(action))
    return (
        bool(info["success"][0]),
        PLACED_ON[int(info["placed_on"][0])],
        env.unwrapped.task_info()[0],
    )


def sweep(
    env_id: str,
    seeds,
    *,
    split: str | None,
    obs_mode: str,
    verbose: bool,
    aim: str = "instructed",
    assets: str = "vlthink",
) -> dict:
    kwargs = {"obs_mode": obs_mode, "assets": assets}
    options = {"split": split} if split else {}
    env = gym.make(env_id, **kwargs)
    policy = OraclePolicy(target=aim)
    ok, placed, failures, t0 = 0, {}, [], time.time()
    for seed in seeds:
        success, where, task = run_episode(env, env_id, seed, options, policy)
        ok += success
        placed[where] = placed.get(where, 0) + 1
        if not success:
            failures.append(
                (seed, task.get("object"), task.get("receptacle", task.get("target")), where)
            )
        if verbose:
            print(
                f"  {env_id} seed {seed}: {'ok' if success else 'FAIL'} ({where}) {task['instruction']}",
                flush=True,
            )
    env.close()
    n = len(seeds)
    return {
        "env_id": env_id,
        "split": split or "ood",
        "n": n,
        "success": ok,
        "rate": ok / n,
        "placed_on": placed,
        "failures": failures,
        "seconds": time.time() - t0,
    }


def _seeds(text: str) -> list[int]:
    if ":" in text:
        a, b = text.split(":")
        return list(range(int(a), int(b)))
    return [int(s) for s in text.split(",")]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("env_ids", nargs="*", help="env ids (default: --suite)")
    ap.add_argument("--suite", choices=("ood", "vl-think"), default="ood")
    ap.add_argument("--seeds", default="0:64", help="a:b (half-open range) or a,b,c (default 0:64)")
    ap.add_argument("--split", choices=("ood", "train"), default=None, help="OOD envs only")
    ap.add_argument("--obs-mode", default="state")
    ap.add_argument(
        "--aim",
        choices=("instructed", "random"),
        default="instructed",
        help="random: aim at a uniformly drawn board/receptacle (the scene's chance level)",
    )
    ap.add_argument(
        "--assets",
        choices=("vlthink", "original"),
        default="vlthink",
        help="the asset set (original: the paper's pack, `vlthink assets fetch original`)",
    )
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    tables = {"ood": vlthink.OOD_TASKS, "vl-think": vlthink.VL_THINK_TASKS}
    ids = args.env_ids or list(tables[args.suite])
    seeds = _seeds(args.seeds)
    print(
        f"oracle sweep: {len(ids)} env(s), seeds {args.seeds} ({len(seeds)}), "
        f"obs_mode={args.obs_mode}, assets={args.assets}"
    )
    rows = []
    for env_id in ids:
        split = args.split if env_id in vlthink.OOD_TASKS else None
        r = sweep(
            env_id,
            seeds,
            split=split,
            obs_mode=args.obs_mode,
            verbose=args.verbose,
            aim=args.aim,
            assets=args.assets,
        )
        rows.append(r)
        print(
            f"{r['env_id']:32s} split={r['split']:5s} {r['success']:3d}/{r['n']:<3d} = {100 * r['rate']:5.1f}%  "
            f"placed_on={r['placed_on']}  {r['seconds']:.0f}s  failures={r['failures']}",
            flush=True,
        )
    worst = min(r["rate"] for r in rows)
    print(f"lowest success rate: {100 * worst:.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
