"""How a run is executed (:class:`RunOptions`), the observation mode it needs, and what it did
beyond its rows (:class:`RunOutcome`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vlthink.assets.sets import DEFAULT_ASSETS
from vlthink.harness.protocol import Failed
from vlthink.harness.results import HarnessError
from vlthink.policies.base import PolicyTraits

if TYPE_CHECKING:
    from vlthink.harness.executor.episode import RunningEpisode

DEFAULT_EPISODE_TIMEOUT = 300.0  # s, from an episode's reset to its last step


@dataclass
class RunOptions:
    workers: int = 1
    # episodes each worker keeps in flight: ``in_flight`` env processes per worker take turns, so
    # one simulates while the policy answers another; at most ``workers`` simulate at once
    in_flight: int = 1
    sim_backend: str = "cpu"
    num_envs: int = 1
    episode_timeout: float = DEFAULT_EPISODE_TIMEOUT
    record_video: bool = False
    video_dir: Path | None = None
    video_of: str = "all"  # which episodes keep their video: "all" or "failures"
    video_first: int | None = None  # only episodes with index < this, per (env, seed)
    max_policy_failures: int = 3
    # None: see obs_mode_for. Policies see camera frames only; a segmentation render would cost
    # as much again per step (envs that need it themselves, like the OOD Tex overlays, render it).
    obs_mode: str | None = None
    # the asset set every env is built with (vlthink.assets.sets)
    assets: str = DEFAULT_ASSETS
    # stop after this many rows were written (tests / benchmarks); None = run everything
    stop_after: int | None = None
    # keep every observation and action of an episode (RunningEpisode.trace) for on_finish
    keep_trace: bool = False
    # called with each finished episode and its row just before the row is emitted (a
    # demonstration recorder writes the episode's frames and actions here)
    on_finish: Callable[[RunningEpisode, dict], None] | None = None
    # the policy's traits, read once by whoever resolved the run (None: read them here)
    traits: PolicyTraits | None = None

    def policy_traits(self, policy: Any) -> PolicyTraits:
        return self.traits if self.traits is not None else PolicyTraits.of(policy)


def obs_mode_for(policy: Any, opts: RunOptions) -> str:
    """The ManiSkill observation mode a run needs: camera frames ("rgb") unless the policy says it
    never looks at them (``uses_images = False``) and no video is recorded; then "state_dict",
    which skips the render. Physics, and so every result, is the same either way."""
    needs_frames = opts.policy_traits(policy).uses_images or opts.record_video
    if opts.obs_mode == "state_dict" and needs_frames:
        raise HarnessError(
            f"policy {getattr(policy, 'name', '?')!r} looks at camera frames (or a "
            "video is recorded), so it cannot run with --obs-mode state_dict. "
            "Fix: drop --obs-mode."
        )
    if opts.obs_mode is not None:
        return opts.obs_mode
    return "rgb" if needs_frames else "state_dict"


def check_in_flight(policy: Any, opts: RunOptions) -> None:
    """More than one episode in flight per worker needs slots the policy can reset one at a time,
    and something to overlap: an action policy that answers in this process."""
    if opts.in_flight == 1:
        return
    traits = opts.policy_traits(policy)
    name = getattr(policy, "name", "?")
    reasons = (
        (traits.kind == "probe", "looks at first frames only, with nothing to overlap"),
        (opts.sim_backend == "gpu", "runs on the GPU backend, one batched env"),
        (
            not traits.per_slot_reset and not traits.runs_in_worker,
            "resets all its episodes at once (it has no reset_slots)",
        ),
    )
    why = next((why for refused, why in reasons if refused), None)
    if why is not None:
        raise HarnessError(
            f"policy {name!r} {why}, so it cannot keep --in-flight {opts.in_flight} episodes "
            "per worker. Fix: drop --in-flight"
        )


@dataclass
class RunOutcome:
    """What happened beyond the rows: episodes left for the next run, and why a run stopped."""

    written: int = 0
    recorded_errors: int = 0
    left: dict[str, int] = field(default_factory=dict)  # failure kind -> episodes left
    last_error: dict[str, str] = field(default_factory=dict)  # failure kind -> its last detail
    stopped: str | None = None  # one line: why the run stopped before its plan was done
    # the env workers' use: seconds with a request outstanding, of the seconds the workers
    # could have simulated (scenes that may run at once x the schedule's wall time)
    busy_s: float = 0.0
    scene_s: float = 0.0

    @property
    def workers_busy(self) -> float | None:
        """The share of the time the env workers had work (None: no pooled workers ran)."""
        return self.busy_s / self.scene_s if self.scene_s > 0 else None

    def leave(self, failure: Failed) -> None:
        self.left[failure.kind] = self.left.get(failure.kind, 0) + 1
        self.last_error[failure.kind] = failure.detail
