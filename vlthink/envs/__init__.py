"""vlthink environments: the registry and the task families (the bridge to the policy interface
is the harness's: :mod:`vlthink.harness.bridge`).

The names below are loaded on first use: the registry imports the envs (torch, SAPIEN,
ManiSkill), which a process that never makes an env should not wait for. The ids themselves are
in :mod:`vlthink.envs.ids`, which needs none of that.
"""

from importlib import import_module

from vlthink.envs.ids import PROTOCOL_VERSION

_REGISTRY_NAMES = ("ALL_TASKS", "OOD_TASKS", "VL_THINK_TASKS", "TaskInfo", "register_all", "task")
_ID_NAMES = ("SUITES", "UnknownEnvError", "resolve_suites")
_WHERE = {
    **dict.fromkeys(_REGISTRY_NAMES, "vlthink.envs.registry"),
    **dict.fromkeys(_ID_NAMES, "vlthink.envs.ids"),
    "PLACED_ON": "vlthink.scene.placed",
}


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_WHERE[name]), name)


__all__ = ["PLACED_ON", "PROTOCOL_VERSION", *_REGISTRY_NAMES, *_ID_NAMES]
