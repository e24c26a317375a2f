"""vlthink: does a VLA policy keep the vision-language knowledge of the VLM it was built from?

``import vlthink`` registers every task id with Gymnasium::

    import gymnasium as gym, vlthink
    env = gym.make("VLThink-Traffic-v0")

The envs themselves (torch, SAPIEN, ManiSkill) are imported when the first one is made.
``vlthink.VL_THINK_TASKS`` and ``vlthink.OOD_TASKS`` list the ids with their domain or axis.
"""

__version__ = "0.1.0"

from vlthink.envs.ids import PROTOCOL_VERSION, register_gym_ids  # noqa: E402

register_gym_ids()

from vlthink.policies.base import PolicyBase  # noqa: E402


def __getattr__(name: str):
    if name in ("OOD_TASKS", "VL_THINK_TASKS"):
        from vlthink.envs import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'vlthink' has no attribute {name!r}")


def evaluate(policy, **kwargs):
    """Evaluate a policy object (or name) with the vlthink-eval harness; see vlthink.harness.api."""
    from vlthink.harness.api import evaluate as run

    return run(policy, **kwargs)


__all__ = [
    "OOD_TASKS",
    "PROTOCOL_VERSION",
    "PolicyBase",
    "VL_THINK_TASKS",
    "__version__",
    "evaluate",
]
