"""Executors whose envs live in K workers: the pool that talks to them, and the probe
executor (the CPU schedules are in :mod:`vlthink.harness.executor.schedules`)."""

from __future__ import annotations

import multiprocessing.connection
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from vlthink.harness.executor.base import Executor
from vlthink.harness.executor.episode import RunningEpisode
from vlthink.harness.executor.options import RunOptions, obs_mode_for
from vlthink.harness.protocol import Play, Played, Ready, Reset, Step, Stepped
from vlthink.harness.worker import ProcessWorker, close_workers, first_ready
from vlthink.policies.base import PolicyTraits


class WorkerPool:
    """K workers, each serving one batch slot, building their envs in ``obs_mode`` on the
    asset set ``assets``.

    It keeps how long the workers had work: a slot is busy from a request's send until its
    answer is read, and :meth:`used` gives that against the time the scenes could have run
    (``scenes`` of them at once: the workers, whatever the episodes in flight) since
    :meth:`start`. Below 100% the workers waited for the policy (or for the harness)."""

    def __init__(
        self, workers: list[Any], executor: Executor, obs_mode: str, assets: str, scenes: int = 0
    ):
        self.workers = workers
        self.ex = executor
        self.obs_mode = obs_mode
        self.assets = assets
        self.scenes = scenes or len(workers)
        self.busy_s = 0.0
        self._sent: dict[int, float] = {}  # slot -> when its outstanding request went out
        self._t0: float | None = None

    def start(self) -> None:
        for w in self.workers:
            w.start()  # all processes import in parallel
        for w in self.workers:
            w.wait_started()
        self._t0 = time.monotonic()  # imports are not the workers' work

    def used(self) -> tuple[float, float]:
        """(seconds the slots had work, seconds the scenes could have run) since :meth:`start`."""
        if self._t0 is None:
            return 0.0, 0.0
        return self.busy_s, self.scenes * (time.monotonic() - self._t0)

    def _send(self, slot: int, request: Any) -> None:
        self._sent.setdefault(slot, time.monotonic())
        self.workers[slot].send(request)

    def _receive(self, slot: int, deadline: float) -> Any:
        reply = self.workers[slot].receive(deadline)
        sent = self._sent.pop(slot, None)
        if sent is not None:
            self.busy_s += time.monotonic() - sent
        return reply

    def reset(self, slots: list[int], eps: list[RunningEpisode]) -> None:
        """Reset each episode on its slot's worker; failed ones are ended."""
        for i in slots:
            self.workers[i].start()  # replacements of killed workers start together
        for i, ep in zip(slots, eps):
            self.send_reset(i, ep)
        for i, ep in zip(slots, eps):
            self.apply(ep, self._receive(i, self.ex.deadline(ep)))

    def step(self, moves: list[tuple[int, RunningEpisode, np.ndarray]]) -> None:
        for i, ep, action in moves:
            self.send_step(i, ep, action)
        for i, ep, _action in moves:
            self.apply(ep, self._receive(i, self.ex.deadline(ep)))

    def send_reset(self, slot: int, ep: RunningEpisode, play: Any = None) -> None:
        """Start ``ep`` on the slot's worker; with ``play`` (a policy that runs in the worker),
        the worker plays the whole episode."""
        self.workers[slot].wait_started()
        ep.t0, ep.waited = time.monotonic(), 0.0
        request: Reset | Play = Reset(ep.key.env_id, ep.seed, self.obs_mode, self.assets)
        if play is not None:
            request = Play(request, ep.identity(), play, ep.keep_frames or ep.keep_trace)
        self._send(slot, request)

    def send_step(self, slot: int, ep: RunningEpisode, action: np.ndarray) -> None:
        ep.acting(action)
        self._send(slot, Step(action))

    def next_reply(
        self, busy: dict[int, RunningEpisode], wake: Any = None
    ) -> tuple[int, Any] | None:
        """(slot, reply) of whichever busy worker answers first; past the earliest deadline,
        that worker's timeout. None: ``wake`` (a connection) became readable first."""
        slots = list(busy)
        extra = [] if wake is None else [wake]
        if not slots:
            multiprocessing.connection.wait(extra)
            return None
        first = min(slots, key=lambda i: self.ex.deadline(busy[i]))
        wait = self.ex.deadline(busy[first]) - time.monotonic()
        ready = first_ready([self.workers[i] for i in slots], wait, extra)
        if ready == [-1]:
            return None
        slot = slots[ready[0]] if ready else first
        return slot, self._receive(slot, self.ex.deadline(busy[slot]))

    def apply(self, ep: RunningEpisode, reply: Any, played: bool = False) -> None:
        """What the worker answered, into the episode's record (``played``: a Play was sent)."""
        if isinstance(reply, Played):
            return self._replay(ep, reply)
        if isinstance(reply, Ready):
            ep.started(reply)
        elif isinstance(reply, Stepped):
            ep.stepped(reply)
        else:
            detail = reply.detail
            if reply.kind == "timeout":
                detail = (
                    f"no answer from the env within --episode-timeout "
                    f"{self.ex.opts.episode_timeout:g}s; the worker was killed and replaced"
                )
            # a worker that plays the episode says nothing until its end
            ep.fail(reply.kind, detail, "while the worker played the episode" if played else None)
        if ep.done:
            self.ex.end(ep)

    def _replay(self, ep: RunningEpisode, played: Played) -> None:
        """A played episode, step by step, as if the executor had stepped it."""
        if played.ready is not None:
            ep.started(played.ready)
        for action, stepped in zip(played.actions, played.steps):
            ep.acting(action)
            ep.stepped(stepped)
        failed = played.failed
        if failed is not None and failed.kind == "policy":
            return self.ex.policy_failed(failed.detail, [ep])
        if played.ready is not None:
            self.ex.policy_answered()
        if failed is not None:
            ep.fail(failed.kind, failed.detail)
        self.ex.end(ep)

    def close(self) -> None:
        close_workers(self.workers)


def process_workers(k: int, with_main: bool = False) -> list[ProcessWorker]:
    """``k`` env worker processes, started: their imports run while the caller goes on
    (``with_main``: they import the caller's ``__main__`` first, see :func:`needs_main`)."""
    workers = [ProcessWorker(with_main=with_main) for _ in range(max(1, k))]
    for w in workers:
        w.start()
    return workers


def needs_main(policy: Any, traits: PolicyTraits) -> bool:
    """Must the workers import ``__main__``? Only to unpickle a policy that runs in them and
    whose class is defined there (a script's own class)."""
    return traits.runs_in_worker and type(policy).__module__ == "__main__"


class PooledExecutor(Executor):
    """An executor whose envs live in K workers (processes, or in-process stand-ins)."""

    def __init__(
        self,
        policy: Any,
        opts: RunOptions,
        emit: Callable[[dict[str, Any]], None],
        workers: list[Any] | None = None,
    ):
        super().__init__(policy, opts, emit)
        mode = obs_mode_for(policy, opts)
        k = opts.workers * opts.in_flight
        workers = workers or process_workers(k, needs_main(policy, self.traits))
        self.pool = WorkerPool(workers, self, mode, opts.assets, scenes=opts.workers)

    def _close(self) -> None:
        busy, could = self.pool.used()
        self.outcome.busy_s += busy
        self.outcome.scene_s += could
        self.pool.close()


class ProbeExecutor(PooledExecutor):
    """Reset K episodes on the workers, ask the probe about their first frames, one row each."""

    def _run(self) -> None:
        self.pool.start()
        while self.queue and not self.stopping():
            keys = self.take(len(self.pool.workers))
            if not keys:
                break
            eps = [self.new_episode(k) for k in keys]
            self.pool.reset(list(range(len(eps))), eps)
            self.judge([ep for ep in eps if not ep.done])
