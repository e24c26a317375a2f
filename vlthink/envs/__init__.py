"""vlthink environments: the registry and the task families (the bridge to the policy interface
is the harness's: :mod:`vlthink.harness.bridge`)."""

from vlthink.envs.registry import (
    ALL_TASKS,
    OOD_TASKS,
    PROTOCOL_VERSION,
    SUITES,
    VL_THINK_TASKS,
    TaskInfo,
    UnknownEnvError,
    register_all,
    resolve_suites,
    task,
)
from vlthink.scene.success import PLACED_ON

__all__ = [
    "ALL_TASKS",
    "OOD_TASKS",
    "PLACED_ON",
    "PROTOCOL_VERSION",
    "SUITES",
    "VL_THINK_TASKS",
    "TaskInfo",
    "UnknownEnvError",
    "register_all",
    "resolve_suites",
    "task",
]
