"""Every registered id (``vlthink.envs.ids.ENV_IDS``) passes Gymnasium's env checker and gives the
same episode for the same seed, whatever ran before.

``check_env`` runs on ``CPUGymWrapper(env.unwrapped)``: a ManiSkill env is batched (torch tensors
with a leading sub-env axis, batched spaces, ``metadata`` without ``torch``), and the wrapper is
ManiSkill's own adapter to the single-env numpy API that the checker checks. Two of its checks are
skipped because that API cannot meet them, and each is replaced by what can be checked:

* ``skip_render_check``: the checker makes a new env for every declared render mode, and
  ManiSkill declares ``"human"``, which opens a viewer window (there is no display here). The
  ``rgb_array`` render is checked on its own in the slow test.
* ``skip_close_check``: the checker re-makes the env from ``env.spec``, and ``CPUGymWrapper`` is
  not recordable (``RecordConstructorArgs``), so it cannot be made from a spec. The tests close
  each env twice themselves.

The default run checks every id in ``state_dict`` mode (no camera render: seconds per id); the
``slow`` tests repeat both checks in the default ``rgb+segmentation`` mode, where the determinism
check compares the camera's pixels and segmentation too.
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env
from gymnasium.utils.passive_env_checker import env_render_passive_checker

import vlthink  # noqa: F401  (registers the ids)
from vlthink.envs.ids import ENV_IDS

SEED, OTHER_SEED, STEPS = 3, 4, 5

# Ids whose default-obs-mode checker run meets a known limit (docs/limits.md), with what was seen.
CHECKER_KNOWN_LIMITS = {
    "VLThink-OOD-PosChangeTo-v0": (
        "the checker's reset(seed=123) then reset() episode (a banana beside the plate) differs by"
        " one level in one pixel of its first frame when episodes ran before it: PhysX's contact"
        " cache (docs/limits.md, Known limits)"
    ),
}


def _known_limit(request, env_id: str, limits: dict[str, str]) -> None:
    if env_id in limits:
        request.applymarker(pytest.mark.xfail(strict=False, reason=limits[env_id]))


def _make(env_id: str, **kwargs):
    return gym.make(env_id, **kwargs)


@pytest.fixture(scope="module", params=ENV_IDS)
def state_env(request):
    env = _make(request.param, obs_mode="state_dict")
    yield env
    env.close()
    env.close()  # closing twice is allowed (what the skipped close check asks)


@pytest.fixture(scope="module", params=[pytest.param(i, marks=pytest.mark.slow) for i in ENV_IDS])
def image_env(request):
    env = _make(request.param, render_mode="rgb_array")  # the default obs mode
    yield env
    env.close()
    env.close()


def _check(env) -> None:
    from mani_skill.utils.wrappers.gymnasium import CPUGymWrapper

    with warnings.catch_warnings():
        # The checker warns about unbounded observation boxes and an asymmetric action box: ManiSkill's
        # spaces are that way by design, and those warnings are advice, not failures.
        warnings.simplefilter("ignore", UserWarning)
        check_env(CPUGymWrapper(env.unwrapped), skip_render_check=True, skip_close_check=True)


def _flatten(prefix: str, value, out: dict) -> dict:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}/{key}", item, out)
    elif torch.is_tensor(value):
        out[prefix] = value.detach().cpu().numpy().copy()
    else:
        out[prefix] = np.array(value, copy=True)
    return out


def _snapshot(env, obs) -> dict:
    """What defines the episode at this step: the observation, the privileged state the oracle
    reads (object and target poses) and the task's facts."""
    u = env.unwrapped
    out = _flatten("obs", obs, {})
    _flatten("privileged", u.privileged_state(), out)
    out["task"] = np.array(repr(u.task_info()))
    return out


def _episode(env, seed: int, actions: list[torch.Tensor]) -> list[dict]:
    obs, _ = env.reset(seed=seed)
    snaps = [_snapshot(env, obs)]
    for action in actions:
        obs, *_ = env.step(action)
        snaps.append(_snapshot(env, obs))
    return snaps


def _fixed_actions(env, seed: int) -> list[torch.Tensor]:
    space = env.unwrapped.single_action_space
    rng = np.random.default_rng(seed)
    return [
        torch.as_tensor(rng.uniform(space.low, space.high)[None], dtype=torch.float32)
        for _ in range(STEPS)
    ]


def _differences(first: list[dict], again: list[dict]) -> list[str]:
    return [
        f"step {step}: {key}"
        for step, (a, b) in enumerate(zip(first, again))
        for key in a
        if not np.array_equal(a[key], b[key])
    ]


def _check_same_seed_same_episode(env) -> None:
    actions = _fixed_actions(env, 0)
    first = _episode(env, SEED, actions)
    _episode(env, OTHER_SEED, _fixed_actions(env, 1))  # another episode in between
    again = _episode(env, SEED, actions)
    assert len(first) == STEPS + 1
    assert _differences(first, again) == []


def test_every_id_passes_gymnasiums_env_checker_without_images(state_env):
    _check(state_env)


def test_every_id_replays_the_same_seed_identically_after_another_episode(state_env):
    _check_same_seed_same_episode(state_env)


def test_every_id_passes_the_env_checker_and_renders_rgb_arrays_in_the_default_obs_mode(
    image_env, request
):
    from mani_skill.utils.wrappers.gymnasium import CPUGymWrapper

    _known_limit(request, image_env.spec.id, CHECKER_KNOWN_LIMITS)
    _check(image_env)
    wrapped = CPUGymWrapper(image_env.unwrapped)
    wrapped.reset(seed=SEED)
    env_render_passive_checker(wrapped)


def test_every_id_replays_the_same_seed_pixel_for_pixel_after_another_episode(image_env):
    _check_same_seed_same_episode(image_env)
