"""The CPU executor and its schedules: one object per way of feeding K workers.

- :class:`Rounds` (any policy): lock-step; up to K episodes start with one ``reset``; a slot
  whose episode ended keeps its last observation in the batch, its action discarded, until the
  round's last episode ends.
- :class:`Refill` (``per_slot_reset``): lock-step; a slot whose episode ends takes the next one
  at once (the batch is indexed by slot, an idle slot's entry ``None``).
- :class:`FreeRunning` (``per_slot_reset`` and not ``batched_act``, or ``in_flight`` > 1):
  whichever worker answers first gets its next action at once, from an ``act`` call on its slot
  alone (in a thread, for a policy that declares ``concurrent_act``).
- :class:`InWorker` (``runs_in_worker``): each worker is sent a whole episode with a copy of
  the policy and plays it; the first to answer takes the next episode.

All four give identical rows: an episode's scene and actions depend on its identity only.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

from vlthink.harness.executor.episode import RunningEpisode
from vlthink.harness.executor.options import check_in_flight
from vlthink.harness.executor.pool import PooledExecutor
from vlthink.harness.protocol import Ready
from vlthink.policies.base import PolicyTraits


class LockStep:
    """Rounds and refill share this: every control step one ``act`` over the batch, then every
    busy worker steps in parallel."""

    def __init__(self, ex: CpuExecutor):
        self.ex = ex
        self.slots: list[RunningEpisode | None] = [None] * len(ex.pool.workers)

    def run(self) -> None:
        ex = self.ex
        while not ex.stopping():
            self.fill()
            active = [i for i, ep in enumerate(self.slots) if ep is not None and not ep.done]
            if not active:
                if not ex.queue:
                    break
                continue
            self.step(active)
            self.release()

    # what rounds and refill do differently
    def free_slots(self) -> list[int]:
        raise NotImplementedError

    def policy_reset(self, started: list[tuple[int, RunningEpisode]]) -> Any:
        raise NotImplementedError

    def batch(self) -> tuple[list[int], list[Any]]:
        """(slot of each batch row, the observations the policy is asked about)."""
        raise NotImplementedError

    def over(self, over: list[bool]) -> bool:
        """May the slots whose episodes are over be freed now?"""
        raise NotImplementedError

    # what they share
    def fill(self) -> None:
        free = self.free_slots()
        keys = self.ex.take(len(free)) if free else []
        if not keys:
            return
        slots = free[: len(keys)]
        eps = [self.ex.new_episode(k) for k in keys]
        for i, ep in zip(slots, eps):
            self.slots[i] = ep
        self.ex.pool.reset(slots, eps)
        started = [(i, ep) for i, ep in zip(slots, eps) if not ep.done]
        for i, ep in zip(slots, eps):
            if ep.done:  # failed at reset: not part of the batch the policy is reset with
                self.slots[i] = None
        if started:
            self.ex.call_policy("reset", [ep for _, ep in started], self.policy_reset(started))
            self.release()

    def step(self, active: list[int]) -> None:
        batch, obs = self.batch()
        actions = self.ex.act(obs, [self.slots[i] for i in active])
        if actions is None:
            return
        row_of = {slot: j for j, slot in enumerate(batch)}
        self.ex.pool.step([(i, self.slots[i], actions[row_of[i]]) for i in active])

    def release(self) -> None:
        """Free the slots whose episodes are over (rounds: all at once, when all are over)."""
        over = [ep is None or ep.done for ep in self.slots]
        if self.over(over):
            self.slots = [None if gone else ep for ep, gone in zip(self.slots, over)]


class Rounds(LockStep):
    def free_slots(self) -> list[int]:
        free = [i for i, ep in enumerate(self.slots) if ep is None]
        return free if len(free) == len(self.slots) else []  # a round starts when all are free

    def policy_reset(self, started: list[tuple[int, RunningEpisode]]) -> Any:
        return partial(self.ex.policy.reset, [ep.spec for _, ep in started])

    def batch(self) -> tuple[list[int], list[Any]]:
        # the round's slots, in slot order; finished ones keep their last observation
        batch = [i for i, ep in enumerate(self.slots) if ep is not None]
        return batch, [self.slots[i].obs for i in batch]

    def over(self, over: list[bool]) -> bool:
        return all(over)


class Refill(LockStep):
    def free_slots(self) -> list[int]:
        return [i for i, ep in enumerate(self.slots) if ep is None]

    def policy_reset(self, started: list[tuple[int, RunningEpisode]]) -> Any:
        slots, specs = [i for i, _ in started], [ep.spec for _, ep in started]
        return partial(self.ex.policy.reset_slots, slots, specs)  # batch rows are slots

    def batch(self) -> tuple[list[int], list[Any]]:
        obs = [ep.obs if ep is not None and not ep.done else None for ep in self.slots]
        return list(range(len(self.slots))), obs

    def over(self, over: list[bool]) -> bool:
        return True


class FreeRunning:
    """Each slot on its own: the first worker to answer gets its next request at once.

    With ``in_flight`` N > 1 a worker has N slots (one env process each) that take turns: a
    slot's request waits while another slot of its worker has one in flight, and goes out the
    moment that one is answered, before the answer is taken to the policy. So a worker simulates
    one episode while the policy answers another, and never more than ``workers`` scenes run at
    once. Time a request waits for its turn is not counted against its episode's timeout.

    A policy that declares ``concurrent_act`` is asked in a thread of its own per call, and the
    loop goes on meanwhile: several slots' requests can be at its server at once.
    """

    plays = False  # InWorker: each request is a whole episode, played in the worker

    def __init__(self, ex: CpuExecutor):
        self.ex = ex
        self.k = len(ex.pool.workers)
        self.lanes = max(1, ex.opts.in_flight)  # slots per worker
        self.live: dict[int, RunningEpisode] = {}  # slot -> its episode, until it ends
        self.busy: dict[int, RunningEpisode] = {}  # slot -> its episode, a request in flight
        # worker -> the requests waiting for its turn: (slot, episode, since, send)
        self.waiting: dict[int, deque[tuple[int, RunningEpisode, float, Callable[[], None]]]]
        self.waiting = defaultdict(deque)
        # concurrent_act: each slot's action is asked for in a thread, and the loop goes on
        self.thinking: dict[int, tuple[RunningEpisode, Future]] = {}  # slot -> its policy call
        self.threads = self.wake = self._wake_w = None
        if ex.traits.concurrent_act and not self.plays:
            self.threads = ThreadPoolExecutor(self.k, thread_name_prefix="vlthink-act")
            self.wake, self._wake_w = multiprocessing.Pipe(duplex=False)  # a call ended

    def run(self) -> None:
        ex = self.ex
        try:
            while not ex.stopping():
                self.start_free_slots()
                if not self.busy and not self.thinking:
                    break
                got = ex.pool.next_reply(self.busy, self.wake if self.thinking else None)
                if got is not None:
                    slot, reply = got
                    ep = self.busy.pop(slot)
                    self.next_turn(slot // self.lanes)
                    self.answer(slot, ep, reply)
                    if ep.done:
                        self.live.pop(slot, None)
                self.acted()
        finally:
            self.close_threads()
        for slot in self.busy:  # stopped: what is still in flight is left, not recorded
            ex.pool.workers[slot].kill()

    def start_free_slots(self) -> None:
        play = self.ex.policy if self.plays else None
        for slot in [i for i in range(self.k) if i not in self.live]:
            keys = self.ex.take(1)
            if not keys:
                return
            ep = self.live[slot] = self.ex.new_episode(keys[0])
            self.send(slot, ep, partial(self.ex.pool.send_reset, slot, ep, play))

    def send(self, slot: int, ep: RunningEpisode, request: Callable[[], None]) -> None:
        """Send now, or when the turn of the slot's worker comes."""
        worker = slot // self.lanes
        if any(s // self.lanes == worker for s in self.busy):
            self.waiting[worker].append((slot, ep, time.monotonic(), request))
            return
        request()
        self.busy[slot] = ep

    def next_turn(self, worker: int) -> None:
        if self.waiting[worker]:
            slot, ep, since, request = self.waiting[worker].popleft()
            ep.waited += time.monotonic() - since  # a reset starts the clock afresh
            request()
            self.busy[slot] = ep

    def answer(self, slot: int, ep: RunningEpisode, reply: Any) -> None:
        """A worker's reply into its episode; a live episode gets its next action."""
        ex = self.ex
        ex.pool.apply(ep, reply, played=self.plays)
        if not ep.done and isinstance(reply, Ready):
            ex.call_policy("reset", [ep], partial(ex.policy.reset_slots, [slot], [ep.spec]))
        if ep.done or ex.stopping():
            return
        obs: list[Any] = [None] * self.k
        obs[slot] = ep.obs
        if self.threads is not None:
            future = self.threads.submit(ex.checked_act, obs)
            future.add_done_callback(lambda _: self._wake_w.send_bytes(b"."))
            self.thinking[slot] = (ep, future)
            return
        self.step(slot, ep, ex.act(obs, [ep]))

    def step(self, slot: int, ep: RunningEpisode, actions: Any) -> None:
        """The slot's action to its worker (None: the call failed, and ended the episode)."""
        if actions is not None and not self.ex.stopping():
            self.send(slot, ep, partial(self.ex.pool.send_step, slot, ep, actions[slot]))

    def acted(self) -> None:
        """The policy calls that have ended: each episode's action to its worker (a failed call
        ends its episode as the failure table says)."""
        if self.wake is None:
            return
        while self.wake.poll():
            self.wake.recv_bytes()
        for slot in [s for s, (_, call) in self.thinking.items() if call.done()]:
            ep, call = self.thinking.pop(slot)
            self.step(slot, ep, self.ex.call_policy("act", [ep], call.result))
            if ep.done:
                self.live.pop(slot, None)

    def close_threads(self) -> None:
        """No policy call outlives the run (each ends within the policy's own timeout)."""
        if self.threads is not None:
            self.threads.shutdown(wait=True, cancel_futures=True)
            self.wake.close()
            self._wake_w.close()


class InWorker(FreeRunning):
    plays = True


def schedule_for(traits: PolicyTraits, in_flight: int = 1) -> type[LockStep] | type[FreeRunning]:
    """The schedule a policy's traits call for (see the module docstring); with more than one
    episode in flight per worker, slots take turns, which only free-running does."""
    if traits.runs_in_worker:
        return InWorker
    if traits.per_slot_reset:
        return Refill if traits.batched_act and in_flight == 1 else FreeRunning
    return Rounds  # one in flight only: check_in_flight refuses more


class CpuExecutor(PooledExecutor):
    """K workers, fed by the schedule the policy's traits call for."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        check_in_flight(self.policy, self.opts)  # the run checked it too, before writing
        self.schedule = schedule_for(self.traits, self.opts.in_flight)(self)

    @property
    def free_running(self) -> bool:
        return isinstance(self.schedule, FreeRunning)

    @property
    def in_worker(self) -> bool:
        return isinstance(self.schedule, InWorker)

    def _run(self) -> None:
        self.pool.start()
        self.schedule.run()
