"""The worker protocol: what the executor says to an env worker and what it hears back.

Requests (executor → worker)::

    Reset(env_id, episode_seed, obs_mode, assets)   start an episode (builds the env first if
                                            the id, the observation mode or the asset set
                                            changed)
    Step(action)                  one control step of the current episode
    Play(reset, spec, policy, keep_images)   a whole episode, its actions from ``policy``
    Close()                       shut down

Replies (worker → executor)::

    Started(pid)                                      the process is up (its imports done)
    Ready(observation, task)                          the episode's first observation
    Stepped(observation, success, placed_on, done, grasped)   after one step
    Played(ready, actions, steps, failed)             a whole episode, step by step
    Failed(kind, detail)                              why there is no answer

``Failed.kind`` is one of :data:`FAILURE_KINDS`; what the harness does with each kind is the
table in :mod:`vlthink.harness.executor.failures`. The messages are plain frozen dataclasses:
they cross a pipe pickled, and nothing here knows about processes or envs
(:mod:`vlthink.harness.worker`, :mod:`vlthink.harness.episode_env`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vlthink.assets.sets import DEFAULT_ASSETS
from vlthink.policies.base import EpisodeSpec, Observation

#: Why a request got no answer. ``env_build``: the env could not be made; ``env_reset`` /
#: ``env_step``: an exception inside the env; ``timeout``: no answer within the episode's
#: budget; ``worker_died``: the worker process exited; ``worker_start``: it never came up.
FAILURE_KINDS = ("env_build", "env_reset", "env_step", "timeout", "worker_died", "worker_start")


# --- messages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reset:
    env_id: str
    episode_seed: int
    obs_mode: str  # ManiSkill observation mode ("rgb", "state_dict", ...)
    assets: str = DEFAULT_ASSETS  # the asset set the env draws its scenes with


@dataclass(frozen=True)
class Step:
    action: np.ndarray


@dataclass(frozen=True)
class Play:
    reset: Reset
    spec: EpisodeSpec  # the episode's identity (its task comes from the reset)
    policy: Any  # a fresh copy for this episode (a policy that runs_in_worker)
    keep_images: bool  # send the camera frames back (a video or a trace keeps them)


@dataclass(frozen=True)
class Close:
    pass


@dataclass(frozen=True)
class Ready:
    observation: Observation
    task: dict[str, Any]


@dataclass(frozen=True)
class Stepped:
    observation: Observation
    success: bool
    placed_on: int | None
    done: bool
    grasped: bool | None = None  # the gripper holds the object (None: the env does not say)


@dataclass(frozen=True)
class Failed:
    kind: str
    detail: str


@dataclass(frozen=True)
class Played:
    """A played episode: ``steps[i]`` came back from ``actions[i]``; ``failed``, why it stopped
    before the env ended it (``ready`` is None when the reset failed)."""

    ready: Ready | None
    actions: list[np.ndarray]
    steps: list[Stepped]
    failed: Failed | None = None


@dataclass(frozen=True)
class Started:
    pid: int


Request = Reset | Step | Play | Close
Reply = Ready | Stepped | Played | Failed


def short_exc(exc: BaseException, limit: int = 500) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= limit else text[: limit - 3] + "..."
