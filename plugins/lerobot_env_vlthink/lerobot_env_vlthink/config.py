"""``--env.type=vlthink``: the :class:`EnvConfig` lerobot's scripts parse and build envs from."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import gymnasium as gym
from lerobot.configs import FeatureType, PolicyFeature
from lerobot.envs.configs import EnvConfig
from lerobot.utils.constants import ACTION, OBS_IMAGES, OBS_STATE

from vlthink.demos.layout import IMAGE_SHAPE
from vlthink.envs.ids import UnknownEnvError, resolve_suites
from vlthink.scene.timing import MAX_EPISODE_STEPS

DEFAULT_TASK = "VLThink-OOD-Train-v0"


def check_task(task: str | None) -> str:
    """The env id, or one line naming the problem and the fix (exit 2, as vlthink's CLIs)."""
    try:
        ids = resolve_suites([task or ""])
    except UnknownEnvError as exc:
        ids = []
        why = str(exc)
    else:
        why = f"{task!r} is a suite of {len(ids)} env ids; --env.task takes one of them"
    if len(ids) == 1 and ids[0] == task:
        return task
    print(
        f"lerobot_env_vlthink: --env.task: {why}. Fix: pass --env.task=ENV_ID, one of those ids.",
        file=sys.stderr,
    )
    raise SystemExit(2)


@EnvConfig.register_subclass("vlthink")
@dataclass
class VLThinkEnvConfig(EnvConfig):
    task: str | None = DEFAULT_TASK
    fps: int = 5
    episode_length: int = MAX_EPISODE_STEPS  # control steps; vlthink's budget is the most
    run_seed: int = 0  # vlthink's run seed: reset(seed=s) is episode s of this run seed
    features: dict[str, PolicyFeature] = field(
        default_factory=lambda: {
            ACTION: PolicyFeature(type=FeatureType.ACTION, shape=(7,)),
            "agent_pos": PolicyFeature(type=FeatureType.STATE, shape=(7,)),
            "pixels/image": PolicyFeature(type=FeatureType.VISUAL, shape=IMAGE_SHAPE),
        }
    )
    features_map: dict[str, str] = field(
        default_factory=lambda: {
            ACTION: ACTION,
            "agent_pos": OBS_STATE,
            "pixels/image": f"{OBS_IMAGES}.image",
        }
    )

    def __post_init__(self) -> None:
        self.task = check_task(self.task)

    @property
    def package_name(self) -> str:
        return "lerobot_env_vlthink"

    @property
    def gym_kwargs(self) -> dict:
        return {"run_seed": self.run_seed, "episode_length": self.episode_length}

    def create_envs(self, n_envs: int, use_async_envs: bool = False):
        """``{"vlthink": {0: VectorEnv}}`` of ``n_envs`` copies of the scene ``task``."""
        from lerobot_env_vlthink.env import VLThinkEnv

        task, kwargs = check_task(self.task), self.gym_kwargs

        def make() -> VLThinkEnv:
            return VLThinkEnv(task, **kwargs)

        if use_async_envs and n_envs > 1:
            vec = gym.vector.AsyncVectorEnv(
                [make] * n_envs,
                autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
                context="forkserver",
            )
        else:
            vec = gym.vector.SyncVectorEnv(
                [make] * n_envs, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP
            )
        return {self.type: {0: vec}}
