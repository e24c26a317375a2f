"""The env contract (vlthink.envs.contract) on real SAPIEN scenes: one VL-Think and one OOD env
offer task facts, NumPy privileged state and camera frames, and compute their facts once per
reset."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import vlthink
from vlthink.envs.contract import PRIVILEGED_KEYS, TASK_KEYS, EnvContract, contract_of
from vlthink.harness.bridge import episode_tasks, policy_observations
from vlthink.harness.episodes import episode_seed

IDS = ["VLThink-Traffic-v0", next(iter(vlthink.OOD_TASKS))]


@pytest.fixture(scope="module", params=IDS)
def env(request):
    e = gym.make(request.param)
    yield e
    e.close()


def test_the_scene_base_class_implements_the_contract(env):
    assert isinstance(env.unwrapped, EnvContract) and contract_of(env) is env.unwrapped


def test_privileged_state_is_numpy_in_every_suite(env):
    env.reset(seed=episode_seed(env.spec.id, 0, 0))
    state = contract_of(env).privileged_state()
    assert set(PRIVILEGED_KEYS) <= set(state)
    for key, value in state.items():
        assert isinstance(value, np.ndarray), key
        assert value.shape[0] == env.unwrapped.num_envs, key


def test_the_bridge_gives_policies_the_contracts_facts_and_frames(env):
    obs, _ = env.reset(seed=episode_seed(env.spec.id, 1, 0))
    (ob,) = policy_observations(env, obs)
    (task,) = episode_tasks(env)
    assert set(TASK_KEYS) <= set(task) and ob.instruction == task["instruction"]
    assert ob.image.shape == (480, 640, 3) and ob.image.dtype == np.uint8
    assert all(isinstance(v, np.ndarray | np.generic) for v in ob.privileged.values())


def test_task_facts_are_computed_once_per_reset(env, monkeypatch):
    base = env.unwrapped
    calls = []
    original = type(base)._task_info

    def counted(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(type(base), "_task_info", counted)
    obs, _ = env.reset(seed=episode_seed(env.spec.id, 2, 0))
    first = base.task_info()
    policy_observations(env, obs)
    episode_tasks(env)
    first[0]["instruction"] = "edited by a caller"  # a caller's copy, not the env's facts
    assert len(calls) == 1 and base.task_info()[0]["instruction"] != "edited by a caller"
    env.reset(seed=episode_seed(env.spec.id, 3, 0))
    base.task_info()
    assert len(calls) == 2


def test_something_that_is_not_a_vlthink_env_is_named():
    with pytest.raises(TypeError, match="lacks .*task_info"):
        contract_of(object())
