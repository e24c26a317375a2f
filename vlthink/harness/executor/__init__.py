"""Running episodes: executors that turn episode keys into rows (a package, one concern a module:
``options`` / ``failures`` / ``episode`` / ``base`` / ``pool`` / ``schedules`` / ``gpu``).

Three siblings share one base (:class:`Executor`), which owns what every way of running has in
common: the in-flight episode record (:class:`RunningEpisode`), finishing an episode (video,
row), the policy guard, ``stop_after``, and what happens to each kind of failure.

``CpuExecutor`` (``--workers K``)
    K workers (:mod:`vlthink.harness.worker`), each owning one env, fed by one schedule object
    (:mod:`~vlthink.harness.executor.schedules`) chosen once from the policy's traits:

    - *in the worker* (``runs_in_worker``: the scripted policies): each worker is sent a whole
      episode with a copy of the policy (:class:`~vlthink.harness.worker.Play`) and plays it
      with no round trip per step; the first to answer takes the next episode (``InWorker``).
    - *free-running* (``per_slot_reset`` and not ``batched_act``, or ``--in-flight`` N > 1):
      each worker goes at its own pace. Whichever answers first gets its next action at once,
      from an ``act`` call on its slot alone (the other slots' entries ``None``; in a thread for
      a policy that declares ``concurrent_act``), and a slot whose episode ends takes the next
      one; no worker waits for another (``FreeRunning``). With N in flight a worker is N env
      processes taking turns, one simulating while the policy answers another.
    - *refill* (``per_slot_reset``): every control step the executor sends one action to every
      busy worker, the workers step in parallel, and it gathers one observation per worker into
      one ``policy.act(batch)`` call; a slot whose episode ends takes the next one at once (the
      batch is indexed by slot and an idle slot's entry is ``None``; ``Refill``).
    - *rounds* (any other policy): lock-step as in refill, but up to K episodes start with one
      ``reset``; a slot whose episode ended keeps its last observation in the batch, its
      action discarded, until the round's last episode ends (``Rounds``).

    All four give identical rows: an episode's scene and actions depend on its identity only.
``ProbeExecutor`` (policies of kind ``probe``)
    Resets K episodes on the workers, asks ``policy.probe`` about their first frames, writes one
    row per episode with ``steps = 0``.
``GpuExecutor`` (``--sim-backend gpu --num-envs N``)
    One batched env in this process runs N episodes of one env id at once, in lock-step rounds;
    a short last round is padded with repeats whose rows are dropped.

Failures
    Every failure has a kind, and :data:`DISPOSITION` (``failures``) says, per kind, whether the episode's row
    is written or the episode is left for the next run. A row is an episode's own outcome; a
    failure that is not the episode's doing never becomes a row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vlthink.harness.executor.base import Executor, KeyQueue
from vlthink.harness.executor.episode import (  # noqa: F401  (_jsonable_task: demos rows)
    RunningEpisode,
    _jsonable_task,
)
from vlthink.harness.executor.failures import DISPOSITION, Disposition
from vlthink.harness.executor.gpu import GpuExecutor
from vlthink.harness.executor.options import (
    DEFAULT_EPISODE_TIMEOUT,
    RunOptions,
    RunOutcome,
    check_in_flight,
    obs_mode_for,
)
from vlthink.harness.executor.pool import (
    PooledExecutor,
    ProbeExecutor,
    WorkerPool,
    needs_main,
    process_workers,
)
from vlthink.harness.executor.schedules import CpuExecutor


def make_executor(
    policy: Any, opts: RunOptions, emit: Callable[[dict[str, Any]], None], **kwargs: Any
) -> Executor:
    """The executor for this policy and backend (``kwargs``: stand-in workers or env, tests)."""
    if opts.sim_backend == "gpu":
        return GpuExecutor(policy, opts, emit, **kwargs)
    if opts.policy_traits(policy).kind == "probe":
        return ProbeExecutor(policy, opts, emit, **kwargs)
    return CpuExecutor(policy, opts, emit, **kwargs)


__all__ = [
    "DEFAULT_EPISODE_TIMEOUT",
    "DISPOSITION",
    "CpuExecutor",
    "Disposition",
    "Executor",
    "GpuExecutor",
    "KeyQueue",
    "PooledExecutor",
    "ProbeExecutor",
    "RunOptions",
    "RunOutcome",
    "RunningEpisode",
    "WorkerPool",
    "check_in_flight",
    "make_executor",
    "needs_main",
    "obs_mode_for",
    "process_workers",
]
