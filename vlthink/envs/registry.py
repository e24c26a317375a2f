"""The one list of vlthink environments: id -> task info, registered with Gymnasium on import."""

from __future__ import annotations

from dataclasses import dataclass

from mani_skill.utils.registration import REGISTERED_ENVS, register_env

from vlthink.envs.ood.variants import VARIANTS, VARIANT_ENVS, env_id
from vlthink.envs.vl_think import DOMAIN_ENVS
from vlthink.scene.widowx import MAX_EPISODE_STEPS

PROTOCOL_VERSION = "vlthink-2"
"""Identifies the scene protocol (layouts, success rule, step budget). Runs made under different
protocol versions are never paired or published together; bump it when any of those change.

History: ``vlthink-1`` first release. ``vlthink-2``: OOD objects rest on a flat collision base in a
calibrated resting pose (before, rounded objects could still be rolling at step 0)."""


@dataclass(frozen=True)
class TaskInfo:
    env_id: str
    suite: str  # "vl-think" or "ood"
    group: str  # VL-Think domain, or OOD axis ("Train", "Vision", "Semantic", "Execution")
    env_class: type
    kwargs: tuple = ()  # extra gym.make kwargs, as (key, value) pairs


VL_THINK_TASKS: dict[str, TaskInfo] = {
    f"VLThink-{domain}-v0": TaskInfo(f"VLThink-{domain}-v0", "vl-think", domain, cls)
    for domain, cls in DOMAIN_ENVS.items()
}

OOD_TASKS: dict[str, TaskInfo] = {
    env_id(v.name): TaskInfo(env_id(v.name), "ood", v.axis, VARIANT_ENVS[v.name]) for v in VARIANTS
}

ALL_TASKS: dict[str, TaskInfo] = {}


def register_all() -> None:
    """Register every task id with ManiSkill and Gymnasium (idempotent)."""
    ALL_TASKS.update(VL_THINK_TASKS)
    ALL_TASKS.update(OOD_TASKS)
    for info in ALL_TASKS.values():
        if info.env_id not in REGISTERED_ENVS:
            register_env(info.env_id, max_episode_steps=MAX_EPISODE_STEPS, **dict(info.kwargs))(
                info.env_class
            )


def task(env_id: str) -> TaskInfo:
    """The task with this id, or a KeyError listing the known ids."""
    try:
        return ALL_TASKS[env_id]
    except KeyError:
        raise KeyError(
            f"unknown vlthink env id {env_id!r}; known ids: {', '.join(sorted(ALL_TASKS))}"
        ) from None
