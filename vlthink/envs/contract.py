"""What a vlthink env offers the harness and the integrations that drive it.

Every vlthink env (VL-Think and the OOD suite; implemented once by the scene base class
:class:`vlthink.scene.widowx.WidowXTableEnv`) is a batched ManiSkill env of ``num_envs``
sub-envs that also gives, on its unwrapped instance:

* **task facts** - :meth:`EnvContract.task_info`: per sub-env a dict of the episode's draw
  (``instruction`` and ``target`` always; the suite's other facts beside them), computed once
  per reset;
* **privileged state** - :meth:`EnvContract.privileged_state`: per key an ``(N, ...)`` NumPy
  array (poses as ``[x, y, z, qw, qx, qy, qz]``), what scripted reference policies plan from;
* **camera images** - :meth:`EnvContract.camera_images`: ``(N, H, W, 3)`` uint8 frames of the
  Bridge camera from an observation;
* **episode identity -> seed** - an episode is ``(env id, episode index, run seed)``;
  ``reset(seed=episode_seed(env_id, episode, seed))`` (:func:`vlthink.harness.episodes.episode_seed`,
  a stable SHA-256) builds the same scene on every machine, and nothing else chooses the scene.

This module imports nothing heavy (no torch, no SAPIEN): an integration can type against it
without building an env.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

#: Keys every env's :meth:`EnvContract.task_info` entry has.
TASK_KEYS = ("instruction", "target")
#: Keys every env's :meth:`EnvContract.privileged_state` has (the robot's and the task's).
PRIVILEGED_KEYS = ("tcp_pose", "robot_base_pose", "gripper_qpos", "object_pose", "target_pose")


@runtime_checkable
class EnvContract(Protocol):
    """The unwrapped vlthink env, as the harness and integrations use it."""

    num_envs: int

    def reset(self, seed: int | list[int] | None = None, options: dict | None = None) -> Any:
        """Start an episode in every sub-env (or those in ``options["env_idx"]``)."""
        ...

    def task_info(self) -> list[dict[str, Any]]:
        """Per sub-env: the facts of its episode (instruction, target, ...)."""
        ...

    def privileged_state(self) -> dict[str, np.ndarray]:
        """Per key: an (N, ...) NumPy array of simulator state."""
        ...

    def camera_images(self, obs: dict) -> np.ndarray:
        """(N, H, W, 3) uint8 frames of the Bridge camera from an observation dict."""
        ...


def contract_of(env: Any) -> EnvContract:
    """The unwrapped env as an :class:`EnvContract`; a TypeError names what it lacks."""
    base = getattr(env, "unwrapped", env)
    if not isinstance(base, EnvContract):
        missing = [
            name
            for name in ("num_envs", "reset", "task_info", "privileged_state", "camera_images")
            if not hasattr(base, name)
        ]
        raise TypeError(
            f"{type(base).__name__} is not a vlthink env: it lacks {', '.join(missing)} "
            "(see vlthink.envs.contract.EnvContract)"
        )
    return base
