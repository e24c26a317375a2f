"""The vlthink environments with their task info: id -> :class:`TaskInfo`, registered with
ManiSkill on import.

Gymnasium knows the ids from :mod:`vlthink.envs.ids` (``import vlthink``), whose string entry
points name the env classes directly; this module (which imports every env) is for code that
wants the task rows or ManiSkill's own registry. :func:`check_ids` says whether the task tables
and the ids agree (run by the tests).
"""

from __future__ import annotations

from dataclasses import dataclass

from mani_skill.utils.registration import REGISTERED_ENVS, register

from vlthink.envs import ids
from vlthink.envs.ids import (  # noqa: F401  (re-exported)
    PROTOCOL_VERSION,
    SUITES,
    UnknownEnvError,
    resolve_suites,
)
from vlthink.envs.ood.variants import VARIANT_ENVS, VARIANTS, env_id
from vlthink.envs.vl_think import DOMAIN_ENVS, DOMAIN_TASKS
from vlthink.envs.vl_think import env_id as vl_think_id
from vlthink.envs.vl_think_answer import ANSWER_ENVS, answer_env_id
from vlthink.errors import UnknownNameError
from vlthink.scene.widowx import MAX_EPISODE_STEPS


@dataclass(frozen=True)
class TaskInfo:
    env_id: str
    suite: str  # "vl-think" or "ood"
    group: str  # VL-Think domain, or OOD axis ("Train", "Vision", "Semantic", "Execution")
    env_class: type
    summary: str = ""  # one line: what the task shows (from the domain or variant row)


VL_THINK_TASKS: dict[str, TaskInfo] = {
    vl_think_id(domain): TaskInfo(
        vl_think_id(domain), "vl-think", domain, cls, DOMAIN_TASKS[domain].summary
    )
    for domain, cls in DOMAIN_ENVS.items()
}

OOD_TASKS: dict[str, TaskInfo] = {
    env_id(v.name): TaskInfo(env_id(v.name), "ood", v.axis, VARIANT_ENVS[v.name], v.summary)
    for v in VARIANTS
}

ANSWER_TASKS: dict[str, TaskInfo] = {
    answer_env_id(d): TaskInfo(answer_env_id(d), "vl-think-answer", d, cls, "answer mode: " + s)
    for d, (cls, s) in ANSWER_ENVS.items()
}

ALL_TASKS: dict[str, TaskInfo] = {}


def register_all() -> None:
    """Register every task id with ManiSkill (idempotent); Gymnasium has them from ``ids``."""
    ids.register_gym_ids()
    ALL_TASKS.update(VL_THINK_TASKS)  # in the order of ids.ENV_IDS
    ALL_TASKS.update(ANSWER_TASKS)
    ALL_TASKS.update(OOD_TASKS)
    for info in ALL_TASKS.values():
        if info.env_id not in REGISTERED_ENVS:
            steps = (
                ids.ANSWER_MAX_EPISODE_STEPS if info.env_id in ANSWER_TASKS else MAX_EPISODE_STEPS
            )
            register(info.env_id, info.env_class, max_episode_steps=steps)


def check_ids() -> None:
    """The task tables hold exactly the ids Gymnasium was given, in the same order and groups,
    and each id's entry point names its class."""
    rows = {**VL_THINK_TASKS, **ANSWER_TASKS, **OOD_TASKS}
    tables = {i: (t.suite, t.group) for i, t in rows.items()}
    if tables != ids.GROUPS or tuple(tables) != ids.ENV_IDS:
        differing = sorted(i for i in {*tables, *ids.GROUPS} if tables.get(i) != ids.GROUPS.get(i))
        raise RuntimeError(
            "vlthink.envs.ids lists other env ids or groups than the task tables "
            f"(differing: {differing or 'the order'}); make the two lists agree"
        )
    for eid, info in rows.items():
        cls = info.env_class
        if ids.ENTRY_POINTS[eid] != f"{cls.__module__}:{cls.__name__}":
            raise RuntimeError(f"{eid}: entry point {ids.ENTRY_POINTS[eid]} is not {cls}")


def task(env_id: str) -> TaskInfo:
    """The task with this id, or a KeyError listing the known ids."""
    try:
        return ALL_TASKS[env_id]
    except KeyError:
        raise UnknownNameError(
            f"unknown vlthink env id {env_id!r}; known ids: {', '.join(sorted(ALL_TASKS))}"
        ) from None


register_all()
