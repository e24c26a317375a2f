"""vlthink environments: registry, task families, and the bridge to the policy interface."""

from vlthink.envs.observations import episode_tasks, policy_observations
from vlthink.envs.registry import (
    ALL_TASKS,
    OOD_TASKS,
    PROTOCOL_VERSION,
    VL_THINK_TASKS,
    TaskInfo,
    register_all,
    task,
)
from vlthink.envs.vl_think import PLACED_ON

__all__ = [
    "ALL_TASKS", "OOD_TASKS", "PLACED_ON", "PROTOCOL_VERSION", "VL_THINK_TASKS", "TaskInfo",
    "episode_tasks", "policy_observations", "register_all", "task",
]
