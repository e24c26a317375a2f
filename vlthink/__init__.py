"""vlthink: does a VLA policy keep the vision-language knowledge of the VLM it was built from?

``import vlthink`` registers every task with Gymnasium::

    import gymnasium as gym, vlthink
    env = gym.make("VLThink-Traffic-v0")

``vlthink.VL_THINK_TASKS`` and ``vlthink.OOD_TASKS`` list the ids with their domain or axis.
"""

__version__ = "0.1.0"

from vlthink.envs import OOD_TASKS, PROTOCOL_VERSION, VL_THINK_TASKS, register_all  # noqa: E402

register_all()

from vlthink.policies.base import PolicyBase  # noqa: E402


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
