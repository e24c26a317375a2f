"""The env-to-policy bridge: a batched ManiSkill observation as the policy interface's Observations.

The harness owns this translation (envs know nothing of policies): one
:class:`~vlthink.policies.base.Observation` per sub-env with the Bridge camera frame, the
instruction, the step index and the privileged state that scripted reference policies plan from.
"""

from __future__ import annotations

import numpy as np
import torch

from vlthink.envs.contract import contract_of
from vlthink.policies.base import Observation


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def episode_tasks(env) -> list[dict]:
    """Per sub-env task facts (instruction, target, target_position, absent ...)."""
    return contract_of(env).task_info()


def policy_observations(env, obs: dict) -> list[Observation]:
    """One Observation per sub-env: the Bridge camera frame, the instruction, privileged state."""
    base = contract_of(env)
    # An env made without a camera observation (obs_mode "state_dict") gives no frames.
    images = base.camera_images(obs) if "sensor_data" in obs else [None] * base.num_envs
    state = base.privileged_state()  # NumPy arrays, by the contract
    step = int(_numpy(env.unwrapped.elapsed_steps).reshape(-1)[0])
    tasks = base.task_info()
    return [
        Observation(
            image=images[i],
            instruction=tasks[i]["instruction"],
            step=step,
            privileged={k: v[i] for k, v in state.items()},
        )
        for i in range(base.num_envs)
    ]
