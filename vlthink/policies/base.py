"""The policy interface every adapter implements.

A policy sees a *batch* of episodes at once (one per worker or per GPU sub-env), so that a
served model gets one batched request per control step instead of one per episode.

    policy.reset([EpisodeSpec, ...])          # new episodes start, one per batch slot
    actions = policy.act([Observation, ...])  # -> float32 array (B, 7)

An action is the WidowX controller's native 7-vector
``[dx, dy, dz, droll, dpitch, dyaw, gripper]``: a position delta in metres and a rotation delta as
XYZ Euler angles in radians (ManiSkill's ``arm_pd_ee_target_delta_pose_align2`` controller reads
them so), both in the robot base frame, and a gripper command in [-1, 1] with -1 = closed and
+1 = open. Adapters whose models speak another convention convert in ``act`` (see
``vlthink.policies.conventions``).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from vlthink.errors import VLThinkError

ACTION_DIM = 7


@dataclass(frozen=True)
class EpisodeSpec:
    """What identifies one episode; the scene is derived from these alone."""

    env_id: str
    episode: int
    seed: int
    instruction: str = ""
    # Task facts a probe or scripted policy may use (target concept, its position word, a concept
    # absent from the scene ...). Action policies must ignore them.
    task: dict[str, Any] = field(default_factory=dict)

    def with_task(self, task: dict[str, Any]) -> EpisodeSpec:
        """This episode with the task facts its env gave at reset."""
        return replace(self, instruction=str(task.get("instruction", "")), task=dict(task))


@dataclass
class Observation:
    """One episode's observation at one control step."""

    image: np.ndarray | None  # (H, W, 3) uint8, the Bridge 3rd_view_camera frame; None for a
    # policy whose ``uses_images`` is False (nothing is rendered for it, see the harness)
    instruction: str
    step: int
    # Privileged simulator state for scripted reference policies (world frame, poses as
    # [x, y, z, qw, qx, qy, qz]): "tcp_pose", "object_pose", "target_pose", "robot_base_pose",
    # "gripper_closed" ... Learned policies must not read it.
    privileged: dict[str, np.ndarray] = field(default_factory=dict)


@runtime_checkable
class Policy(Protocol):
    """A batched action policy. ``name`` appears in results files and leaderboards.

    The capabilities the harness reads are declared as class attributes; :class:`PolicyBase`
    gives the defaults, and :func:`traits` reads them (with the same defaults) from any object:

    * ``kind = "action"`` (acts every step) or ``"probe"`` (answers a question on the first
      frame through ``probe``, see :class:`ProbePolicy`);
    * ``uses_images = True``; ``False`` says the policy never looks at ``Observation.image``
      (scripted policies on privileged state), so the harness skips the camera render;
    * ``per_slot_reset = False``; ``True`` says ``reset_slots(slots, episodes)`` resets only
      those batch slots and keeps the others' state, so a slot whose episode ends is refilled
      at once (otherwise episodes run in rounds that start together); ``act`` then gets the
      batch indexed by slot, ``None`` for a slot that is not stepped, and its row is ignored;
    * ``batched_act = True``: one ``act`` call on many observations costs less than one call
      each (a model on an accelerator). ``False`` (scripted policies), with ``per_slot_reset``,
      lets the harness step each worker as soon as it answers instead of all in lock-step;
    * ``runs_in_worker = False``; ``True`` says the policy is cheap, can be pickled and needs
      nothing of the process that loaded it (no server connection, no model): the harness
      sends a fresh copy with each episode to the env worker, which plays the whole episode
      with no round trip per step (the scripted policies);
    * ``concurrent_act = False``; ``True`` says ``act`` may be called from several threads at
      once, each call on other slots (a client of a model server): with ``--in-flight``, the
      harness then asks for one slot's action while others' requests are still at the server.
    """

    name: str

    def reset(self, episodes: list[EpisodeSpec]) -> None: ...

    def act(self, observations: list[Observation]) -> np.ndarray: ...

    def close(self) -> None: ...


@runtime_checkable
class ProbePolicy(Protocol):
    """A policy that does not act: it judges each episode's first frame.

    ``probe`` returns one dict per episode with at least ``success`` (bool); the VLM probe adds
    ``said_yes``, ``position``, ``absent_correct``, the answers and the questions.
    """

    name: str

    def reset(self, episodes: list[EpisodeSpec]) -> None: ...

    def probe(
        self, episodes: list[EpisodeSpec], observations: list[Observation]
    ) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


class PolicyBase:
    """Optional base class for a policy: the declared capabilities and their defaults."""

    name: str = "policy"
    kind: ClassVar[str] = "action"
    uses_images: ClassVar[bool] = True
    per_slot_reset: ClassVar[bool] = False
    batched_act: ClassVar[bool] = True
    runs_in_worker: ClassVar[bool] = False
    concurrent_act: ClassVar[bool] = False

    def reset(self, episodes: list[EpisodeSpec]) -> None:
        pass

    def close(self) -> None:
        pass


KINDS = ("action", "probe")


@dataclass(frozen=True)
class PolicyTraits:
    """What the harness needs to know about a policy, read once from its declarations."""

    kind: str = "action"
    uses_images: bool = True
    per_slot_reset: bool = False
    batched_act: bool = True
    runs_in_worker: bool = False
    concurrent_act: bool = False

    @classmethod
    def of(cls, policy: Any) -> PolicyTraits:
        """The declared traits of ``policy``; a declaration the policy cannot honour is a
        :class:`TypeError` naming the missing method."""
        default = cls()
        found = cls(
            kind=str(getattr(policy, "kind", default.kind)),
            uses_images=bool(getattr(policy, "uses_images", default.uses_images)),
            per_slot_reset=bool(getattr(policy, "per_slot_reset", default.per_slot_reset)),
            batched_act=bool(getattr(policy, "batched_act", default.batched_act)),
            runs_in_worker=bool(getattr(policy, "runs_in_worker", default.runs_in_worker)),
            concurrent_act=bool(getattr(policy, "concurrent_act", default.concurrent_act)),
        )
        needs = {"action": "act", "probe": "probe"}
        if found.kind not in needs:
            raise TypeError(
                f"policy {getattr(policy, 'name', policy)!r}: kind must be one of "
                f"{KINDS}, got {found.kind!r}"
            )
        missing = [
            m
            for m in ("reset", needs[found.kind])
            + (("reset_slots",) if found.per_slot_reset else ())
            if not callable(getattr(policy, m, None))
        ]
        if missing:
            raise TypeError(
                f"policy {getattr(policy, 'name', policy)!r} ({found.kind}) has no "
                f"{', '.join(missing)}() method"
            )
        if found.runs_in_worker:
            _check_portable(policy, found.kind)
        return found


def _check_portable(policy: Any, kind: str) -> None:
    """A policy that ``runs_in_worker`` acts and can be pickled (it travels with each episode)."""
    name = getattr(policy, "name", policy)
    if kind != "action":
        raise TypeError(f"policy {name!r}: runs_in_worker needs kind 'action', got {kind!r}")
    try:
        pickle.dumps(policy)
    except Exception as exc:
        raise TypeError(
            f"policy {name!r} declares runs_in_worker but cannot be pickled "
            f"({type(exc).__name__}: {exc})"
        ) from None


class PolicyError(VLThinkError, RuntimeError):
    """A policy could not produce an action (server down, malformed reply, bad config).

    The message names the problem and the fix; the harness records it against the episode.
    """


def check_actions(actions: Any, batch: int, source: str) -> np.ndarray:
    """Validate a batch of actions coming back from a model or server."""
    try:
        arr = np.asarray(actions, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"{source} returned a non-numeric action: {actions!r:.200}") from exc
    if arr.shape == (ACTION_DIM,) and batch == 1:
        arr = arr[None]
    if arr.shape != (batch, ACTION_DIM):
        raise PolicyError(
            f"{source} returned actions of shape {arr.shape}, expected ({batch}, {ACTION_DIM}): "
            "one [dx, dy, dz, droll, dpitch, dyaw, gripper] per episode"
        )
    if not np.all(np.isfinite(arr)):
        raise PolicyError(f"{source} returned a non-finite action: {arr.tolist()}")
    return arr
