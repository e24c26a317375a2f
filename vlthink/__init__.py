"""vlthink: does a VLA policy keep the vision-language knowledge of the VLM it was built from?

``import vlthink`` registers every task with Gymnasium::

    import gymnasium as gym, vlthink
    env = gym.make("VLThink-Traffic-v0")

``vlthink.VL_THINK_TASKS`` and ``vlthink.OOD_TASKS`` list the ids with their domain or axis.
"""

__version__ = "0.1.0"

from vlthink.envs import OOD_TASKS, PROTOCOL_VERSION, VL_THINK_TASKS, register_all  # noqa: E402

register_all()

__all__ = ["OOD_TASKS", "PROTOCOL_VERSION", "VL_THINK_TASKS", "__version__"]
