"""The in-flight episode: from its reset to its row."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vlthink.harness.episodes import EpisodeKey, episode_seed
from vlthink.harness.protocol import Failed, Ready, Stepped
from vlthink.policies.base import EpisodeSpec


def _placed_name(idx: int | None) -> str | None:
    if idx is None:
        return None
    from vlthink.envs import PLACED_ON

    return PLACED_ON[idx] if 0 <= idx < len(PLACED_ON) else str(idx)


def _jsonable_task(task: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in task.items():
        if hasattr(v, "tolist"):
            v = v.tolist()
        if isinstance(v, (str, int, float, bool)) or v is None:
            out[k] = v
        elif isinstance(v, (list, tuple)) and all(
            isinstance(x, (str, int, float, bool)) for x in v
        ):
            out[k] = list(v)
    return out


@dataclass(eq=False)
class RunningEpisode:
    """One episode from its reset to its row: the step bookkeeping, written once for all."""

    key: EpisodeKey
    seed: int
    padding: bool = False  # GPU executor: a repeat that fills the batch, never recorded
    keep_frames: bool = False
    keep_trace: bool = False
    spec: EpisodeSpec | None = None
    obs: Any = None
    task: dict[str, Any] = field(default_factory=dict)
    steps: int = 0
    success_once: bool = False
    success_last: bool = False
    placed: int | None = None
    grasped: bool | None = None  # ever held the object (None: the env does not say)
    failure: Failed | None = None
    done: bool = False
    t0: float = field(default_factory=time.monotonic)
    # seconds its requests waited for their worker's turn (--in-flight): not the episode's time
    waited: float = 0.0
    frames: list = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # with keep_trace: the observation before each step, the action sent, and what came back
    # (the observation after the last step is ``obs``)
    trace: list[tuple[Any, np.ndarray, bool]] = field(default_factory=list)

    @classmethod
    def of(
        cls, key: EpisodeKey, keep_frames: bool = False, keep_trace: bool = False
    ) -> RunningEpisode:
        return cls(key, episode_seed(*key), keep_frames=keep_frames, keep_trace=keep_trace)

    def acting(self, action: np.ndarray) -> None:
        """The action about to be sent for this episode's next step."""
        if self.keep_trace:
            self.trace.append((self.obs, np.asarray(action, np.float32).copy(), False))

    def started(self, ready: Ready) -> None:
        self.obs, self.task = ready.observation, dict(ready.task)
        self.spec = self.identity().with_task(self.task)
        self._frame()

    def identity(self) -> EpisodeSpec:
        return EpisodeSpec(self.key.env_id, self.key.episode, self.key.seed)

    def stepped(self, s: Stepped) -> None:
        if self.keep_trace and self.trace:
            obs, action, _ = self.trace[-1]
            self.trace[-1] = (obs, action, bool(s.success))
        self.obs = s.observation
        self.steps += 1
        self.success_once = self.success_once or bool(s.success)
        self.success_last = bool(s.success)
        self.placed = s.placed_on
        if s.grasped is not None:
            self.grasped = bool(self.grasped) or bool(s.grasped)
        self._frame()
        self.done = self.done or bool(s.done)

    def fail(self, kind: str, detail: str, where: str | None = None) -> None:
        where = where or ("at reset" if self.spec is None else f"at step {self.steps}")
        self.failure = Failed(kind, f"{detail} ({where})")
        self.done = True

    def answer(self, fields: dict[str, Any]) -> None:
        """A probe's verdict on the first frame."""
        self.success_once = self.success_last = bool(fields.get("success", False))
        self.extra.update({k: v for k, v in fields.items() if k != "success"})
        self.extra.setdefault("probe", True)
        self.done = True

    def _frame(self) -> None:
        if self.keep_frames and self.obs is not None and self.obs.image is not None:
            self.frames.append(np.asarray(self.obs.image)[::2, ::2].copy())  # half size: videos

    def row(self, policy_name: str) -> dict[str, Any]:
        task = _jsonable_task(self.task)
        failed = self.failure is not None
        row = {
            "env": self.key.env_id,
            "episode": self.key.episode,
            "seed": self.key.seed,
            "episode_seed": self.seed,
            "policy": policy_name,
            "instruction": task.pop("instruction", None),
            "target": task.pop("target", None),
            "success_once": bool(self.success_once) and not failed,
            "success_at_end": bool(self.success_last) and not failed,
            "placed_on": None if failed else _placed_name(self.placed),
            "steps": self.steps,
            "seconds": round(time.monotonic() - self.t0, 3),
            "error": f"{self.failure.kind}: {self.failure.detail}" if failed else None,
        }
        if failed:
            row["error_kind"] = self.failure.kind
        elif self.grasped is not None:  # why it failed: never grasped, dropped, wrong board
            row["grasped"] = self.grasped
            # held at some step, never placed on the target, resting on no board at the end
            row["dropped"] = self.grasped and not row["success_once"] and row["placed_on"] == "none"
        if task:
            row["task"] = task
        for k, v in self.extra.items():
            row.setdefault(k, v)
        return row
