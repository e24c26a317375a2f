"""How long the oracle takes to place the held carrot in answer mode: the measurement behind
``vlthink.envs.ids.ANSWER_MAX_EPISODE_STEPS``.

    MS_ASSET_DIR=... python bench/answer_horizon.py [--episodes 4] [--target instructed]

Per domain: the final-step success rate and, per episode, the step from which the carrot rests
on the goal board without interruption to the end (None: not at the end).
"""

from __future__ import annotations

import argparse

import gymnasium as gym

import vlthink  # noqa: F401  (registers the ids)
from vlthink.envs.ids import SUITES
from vlthink.harness.bridge import policy_observations
from vlthink.policies.base import EpisodeSpec
from vlthink.policies.oracle import OraclePolicy


def placed_from(env, policy: OraclePolicy, seed: int) -> tuple[int | None, bool]:
    """(first step of the final unbroken run of success, success at the final step)."""
    obs, _ = env.reset(seed=seed)
    policy.reset([EpisodeSpec(env.spec.id, seed, seed)])
    since, step = None, 0
    while True:
        obs, _r, term, trunc, info = env.step(policy.act(policy_observations(env, obs))[0])
        step += 1
        ok = bool(info["success"][0])
        since = (since or step) if ok else None
        if bool(term[0] or trunc[0]):
            return since, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=4)
    parser.add_argument("--target", default="instructed", choices=("instructed", "left"))
    args = parser.parse_args()
    for env_id in SUITES["vl-think-answer"]:
        env = gym.make(env_id, obs_mode="state_dict")
        found = [placed_from(env, OraclePolicy(args.target), s) for s in range(args.episodes)]
        rate = sum(ok for _, ok in found) / len(found)
        print(f"{env_id:30s} success at end {rate:.2f}  placed from step {[s for s, _ in found]}")
        env.close()


if __name__ == "__main__":
    main()
