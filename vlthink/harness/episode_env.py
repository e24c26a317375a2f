"""The envs a worker drives: a batch of episodes of one env id, spoken to in the worker
protocol's terms (:mod:`vlthink.harness.protocol`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from vlthink.assets.sets import DEFAULT_ASSETS
from vlthink.harness.protocol import Ready, Stepped


class EpisodeEnv(Protocol):
    """A batch of ``num_envs`` episodes of one env id, run in lock-step."""

    num_envs: int

    def reset(self, episode_seeds: list[int]) -> list[Ready]: ...

    def step(self, actions: np.ndarray) -> list[Stepped]: ...

    def close(self) -> None: ...


def as_list(x: Any, n: int, cast: Callable = bool) -> list:
    """``n`` Python values from a per-sub-env tensor/array (a single value is broadcast)."""
    if hasattr(x, "cpu"):
        x = x.cpu().numpy()
    arr = np.asarray(x).reshape(-1)
    if arr.size == 1 and n > 1:
        arr = np.repeat(arr, n)
    return [cast(v) for v in arr[:n]]


class ManiSkillEpisodes:
    """A vlthink env made with ``gym.make``, spoken to in the worker protocol's terms; its
    first three arguments are a worker's ``make_env``'s (env id, observation mode, asset set)."""

    def __init__(
        self,
        env_id: str,
        obs_mode: str,
        assets: str = DEFAULT_ASSETS,
        sim_backend: str = "cpu",
        num_envs: int = 1,
    ):
        import gymnasium as gym

        from vlthink.envs.ids import register_gym_ids

        register_gym_ids()  # idempotent; the ids may be made in a process that never imported them

        self.num_envs = num_envs
        self.env = gym.make(
            env_id, obs_mode=obs_mode, sim_backend=sim_backend, num_envs=num_envs, assets=assets
        )

    def reset(self, episode_seeds: list[int]) -> list[Ready]:
        from vlthink.harness.bridge import episode_tasks, policy_observations

        seed = episode_seeds[0] if self.num_envs == 1 else list(episode_seeds)
        obs, _info = self.env.reset(seed=seed)
        return [
            Ready(o, t) for o, t in zip(policy_observations(self.env, obs), episode_tasks(self.env))
        ]

    def step(self, actions: np.ndarray) -> list[Stepped]:
        import torch

        from vlthink.harness.bridge import policy_observations

        n = self.num_envs
        batch = np.asarray(actions, np.float32).reshape(n, -1)
        act = torch.as_tensor(batch) if n > 1 else batch
        obs, _r, term, trunc, info = self.env.step(act)
        success = as_list(info["success"], n) if "success" in info else [False] * n
        placed = as_list(info["placed_on"], n, int) if "placed_on" in info else [None] * n
        grasped = (
            as_list(info["is_src_obj_grasped"], n) if "is_src_obj_grasped" in info else [None] * n
        )
        done = [a or b for a, b in zip(as_list(term, n), as_list(trunc, n))]
        return [
            Stepped(o, s, p, d, g)
            for o, s, p, d, g in zip(
                policy_observations(self.env, obs), success, placed, done, grasped
            )
        ]

    def close(self) -> None:
        self.env.close()
