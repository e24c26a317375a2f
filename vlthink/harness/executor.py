"""Running episodes: executors that turn episode keys into rows.

Three siblings share one base (:class:`Executor`), which owns what every way of running has in
common: the in-flight episode record (:class:`RunningEpisode`), finishing an episode (video,
row), the policy guard, ``stop_after``, and what happens to each kind of failure.

``CpuExecutor`` (``--workers K``)
    K workers (:mod:`vlthink.harness.worker`), each owning one env. The schedule is chosen once
    from the policy's traits:

    - *in the worker* (``runs_in_worker``: the scripted policies): each worker is sent a whole
      episode with a copy of the policy (:class:`~vlthink.harness.worker.Play`) and plays it
      with no round trip per step; the first to answer takes the next episode.
    - *free-running* (``per_slot_reset`` and not ``batched_act``): each worker goes at its own
      pace. Whichever answers first gets its next action at once, from an ``act`` call on its
      slot alone (the other slots' entries ``None``), and a slot whose episode ends takes the
      next one; no worker waits for another.
    - *refill* (``per_slot_reset``): every control step the executor sends one action to every
      busy worker, the workers step in parallel, and it gathers one observation per worker into
      one ``policy.act(batch)`` call; a slot whose episode ends takes the next one at once (the
      batch is indexed by slot and an idle slot's entry is ``None``).
    - *rounds* (any other policy): lock-step as in refill, but up to K episodes start with one
      ``reset``; a slot whose episode ended keeps its last observation in the batch, its
      action discarded, until the round's last episode ends.

    All four give identical rows: an episode's scene and actions depend on its identity only.
``ProbeExecutor`` (policies of kind ``probe``)
    Resets K episodes on the workers, asks ``policy.probe`` about their first frames, writes one
    row per episode with ``steps = 0``.
``GpuExecutor`` (``--sim-backend gpu --num-envs N``)
    One batched env in this process runs N episodes of one env id at once, in lock-step rounds;
    a short last round is padded with repeats whose rows are dropped.

Failures
    Every failure has a kind, and :data:`DISPOSITION` says, per kind, whether the episode's row
    is written or the episode is left for the next run. A row is an episode's own outcome; a
    failure that is not the episode's doing never becomes a row.
"""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from vlthink.harness.episodes import EpisodeKey, episode_seed
from vlthink.harness.results import HarnessError
from vlthink.harness.video import video_path, write_mp4
from vlthink.harness.worker import (
    EpisodeEnv,
    Failed,
    Play,
    Played,
    ProcessWorker,
    Ready,
    Reset,
    Step,
    Stepped,
    WorkerStartError,
    close_workers,
    first_ready,
    short_exc,
)
from vlthink.policies.base import EpisodeSpec, PolicyTraits, check_actions

DEFAULT_EPISODE_TIMEOUT = 300.0  # s, from an episode's reset to its last step


class Disposition(enum.Enum):
    RECORD = "recorded"  # the episode's own outcome: a row with the error (``--retry-errors``)
    LEAVE = "left"  # not the episode's doing: no row; the next run of the command runs it
    RETRY_ONCE = "retried"  # run again once in this run; recorded if it fails the same way
    STOP = "stop"  # nothing more can run: stop now, leave the episode


#: What the harness does with each kind of failure, and why.
DISPOSITION: dict[str, Disposition] = {
    # The env cannot be made (missing robot asset, broken install): every episode of it would
    # fail the same way, and none of that is a policy's score.
    "env_build": Disposition.STOP,
    "worker_start": Disposition.STOP,
    # An exception inside reset/step of a built env follows from the episode's seed (a layout
    # that cannot be placed, a physics blow-up): reproducible, so it is the episode's outcome.
    "env_reset": Disposition.RECORD,
    "env_step": Disposition.RECORD,
    # A step that never returns within --episode-timeout is, like an exception, the episode's.
    "timeout": Disposition.RECORD,
    # A policy call that failed (server down, malformed reply) says nothing about the episode.
    "policy": Disposition.LEAVE,
    # A worker process can be lost to the machine (OOM killer, a signal); once is bad luck,
    # twice on the same episode is the episode's.
    "worker_died": Disposition.RETRY_ONCE,
}


@dataclass
class RunOptions:
    workers: int = 1
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


# --- the in-flight episode -------------------------------------------------------------------


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


# --- what a run did --------------------------------------------------------------------------


@dataclass
class RunOutcome:
    """What happened beyond the rows: episodes left for the next run, and why a run stopped."""

    written: int = 0
    recorded_errors: int = 0
    left: dict[str, int] = field(default_factory=dict)  # failure kind -> episodes left
    last_error: dict[str, str] = field(default_factory=dict)  # failure kind -> its last detail
    stopped: str | None = None  # one line: why the run stopped before its plan was done

    def leave(self, failure: Failed) -> None:
        self.left[failure.kind] = self.left.get(failure.kind, 0) + 1
        self.last_error[failure.kind] = failure.detail


# --- the base --------------------------------------------------------------------------------


class Executor:
    """What every executor shares; subclasses implement :meth:`_run`."""

    def __init__(self, policy: Any, opts: RunOptions, emit: Callable[[dict[str, Any]], None]):
        self.policy = policy
        self.opts = opts
        self.emit = emit
        self.traits = opts.policy_traits(policy)
        self.outcome = RunOutcome()
        self.queue: deque[EpisodeKey] = deque()
        self._died_once: set[EpisodeKey] = set()
        self._policy_failures = 0

    def run(self, keys: list[EpisodeKey]) -> RunOutcome:
        self.queue = deque(keys)
        try:
            self._run()
        except WorkerStartError as exc:
            self.stop(str(exc))
        finally:
            self._close()
        return self.outcome

    def _run(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        pass

    # -- episodes
    def new_episode(self, key: EpisodeKey) -> RunningEpisode:
        return RunningEpisode.of(
            key, keep_frames=self.opts.record_video, keep_trace=self.opts.keep_trace
        )

    def take(self, n: int) -> list[EpisodeKey]:
        """Up to ``n`` keys from the queue, within what ``stop_after`` still allows."""
        if self.opts.stop_after is not None:
            n = min(n, max(0, self.opts.stop_after - self.outcome.written))
        return [self.queue.popleft() for _ in range(min(n, len(self.queue)))]

    def end(self, ep: RunningEpisode) -> None:
        """An episode is over: write its row, or dispose of its failure as the table says."""
        ep.done = True
        if ep.padding:
            return
        if ep.failure is None:
            return self._finish(ep)
        disposition = DISPOSITION[ep.failure.kind]
        if disposition is Disposition.RETRY_ONCE and ep.key not in self._died_once:
            self._died_once.add(ep.key)
            self.queue.appendleft(ep.key)
        elif disposition in (Disposition.RECORD, Disposition.RETRY_ONCE):
            self.outcome.recorded_errors += 1
            self._finish(ep)
        else:
            self.outcome.leave(ep.failure)
            if disposition is Disposition.STOP:
                self.stop(
                    f"cannot run {ep.key.env_id} ({ep.failure.kind}): "
                    f"{ep.failure.detail.split(' | ')[0]}"
                )

    def _finish(self, ep: RunningEpisode) -> None:
        row = ep.row(self.policy.name)
        if ep.frames and self.opts.video_dir is not None and self._wants_video(row):
            try:
                write_mp4(ep.frames, video_path(self.opts.video_dir, ep.key))
            except Exception as exc:  # a video is a by-product; never lose the row over it
                row["video_error"] = short_exc(exc)
        if self.opts.on_finish is not None:
            self.opts.on_finish(ep, row)
        self.emit(row)
        self.outcome.written += 1

    def _wants_video(self, row: dict[str, Any]) -> bool:
        first = self.opts.video_first
        if first is not None and row["episode"] >= first:
            return False
        return self.opts.video_of == "all" or not row["success_once"]

    def stop(self, why: str) -> None:
        if self.outcome.stopped is None:
            self.outcome.stopped = why

    def stopping(self) -> bool:
        full = self.opts.stop_after is not None and self.outcome.written >= self.opts.stop_after
        return full or self.outcome.stopped is not None

    # -- the policy guard
    def policy_failed(self, detail: str, episodes: list[RunningEpisode]) -> None:
        """A policy call failed: its episodes are left; after enough in a row, the run stops."""
        for ep in episodes:
            if not ep.done:
                ep.fail("policy", detail)
                self.end(ep)
        self._policy_failures += 1
        if self._policy_failures >= max(1, self.opts.max_policy_failures):
            self.stop(
                f"policy {self.policy.name!r} failed on {self._policy_failures} "
                f"consecutive calls; last error: {detail}"
            )

    def call_policy(self, call: str, episodes: list[RunningEpisode], fn: Callable[[], Any]) -> Any:
        """``fn()``, or None after recording a failure of ``call`` against ``episodes``.

        Only an answer (``act``, ``probe``) proves the policy alive: a ``reset`` that succeeds
        may never have reached a server, so it does not clear the count of failures.
        """
        try:
            result = fn()
        except Exception as exc:
            self.policy_failed(f"{call} failed: {short_exc(exc)}", episodes)
            return None
        if call != "reset":
            self.policy_answered()
        return True if result is None else result

    def policy_answered(self) -> None:
        self._policy_failures = 0

    def act(self, observations: list[Any], episodes: list[RunningEpisode]) -> np.ndarray | None:
        name = f"policy {self.policy.name!r}"
        return self.call_policy(
            "act",
            episodes,
            lambda: check_actions(self.policy.act(observations), len(observations), name),
        )

    def deadline(self, ep: RunningEpisode) -> float:
        return ep.t0 + self.opts.episode_timeout

    def judge(self, eps: list[RunningEpisode]) -> None:
        """Ask a probe policy about the first frames of ``eps``; one row per episode."""
        if not eps:
            return
        specs, frames = [ep.spec for ep in eps], [ep.obs for ep in eps]

        def ask() -> list[dict[str, Any]]:
            self.policy.reset(specs)
            answers = list(self.policy.probe(specs, frames))
            if len(answers) != len(eps):
                raise RuntimeError(f"probe returned {len(answers)} answers for {len(eps)} episodes")
            return answers

        answers = self.call_policy("probe", eps, ask)
        for ep, fields in zip(eps, answers or []):
            ep.answer(fields)
            self.end(ep)


# --- workers ---------------------------------------------------------------------------------


class WorkerPool:
    """K workers, each serving one batch slot, building their envs in ``obs_mode``."""

    def __init__(self, workers: list[Any], executor: Executor, obs_mode: str):
        self.workers = workers
        self.ex = executor
        self.obs_mode = obs_mode

    def start(self) -> None:
        for w in self.workers:
            w.start()  # all processes import in parallel
        for w in self.workers:
            w.wait_started()

    def reset(self, slots: list[int], eps: list[RunningEpisode]) -> None:
        """Reset each episode on its slot's worker; failed ones are ended."""
        for i in slots:
            self.workers[i].start()  # replacements of killed workers start together
        for i, ep in zip(slots, eps):
            self.send_reset(i, ep)
        for i, ep in zip(slots, eps):
            self.apply(ep, self.workers[i].receive(self.ex.deadline(ep)))

    def step(self, moves: list[tuple[int, RunningEpisode, np.ndarray]]) -> None:
        for i, ep, action in moves:
            self.send_step(i, ep, action)
        for i, ep, _action in moves:
            self.apply(ep, self.workers[i].receive(self.ex.deadline(ep)))

    def send_reset(self, slot: int, ep: RunningEpisode, play: Any = None) -> None:
        """Start ``ep`` on the slot's worker; with ``play`` (a policy that runs in the worker),
        the worker plays the whole episode."""
        self.workers[slot].wait_started()
        ep.t0 = time.monotonic()
        request: Reset | Play = Reset(ep.key.env_id, ep.seed, self.obs_mode)
        if play is not None:
            request = Play(request, ep.identity(), play, ep.keep_frames or ep.keep_trace)
        self.workers[slot].send(request)

    def send_step(self, slot: int, ep: RunningEpisode, action: np.ndarray) -> None:
        ep.acting(action)
        self.workers[slot].send(Step(action))

    def next_reply(self, busy: dict[int, RunningEpisode]) -> tuple[int, Any]:
        """(slot, reply) of whichever busy worker answers first; past the earliest deadline,
        that worker's timeout."""
        slots = list(busy)
        first = min(slots, key=lambda i: self.ex.deadline(busy[i]))
        wait = self.ex.deadline(busy[first]) - time.monotonic()
        ready = first_ready([self.workers[i] for i in slots], wait)
        slot = slots[ready[0]] if ready else first
        return slot, self.workers[slot].receive(self.ex.deadline(busy[slot]))

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


def process_workers(k: int) -> list[ProcessWorker]:
    """``k`` env worker processes, started: their imports run while the caller goes on."""
    workers = [ProcessWorker() for _ in range(max(1, k))]
    for w in workers:
        w.start()
    return workers


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
        self.pool = WorkerPool(workers or process_workers(opts.workers), self, mode)

    def _close(self) -> None:
        self.pool.close()


class CpuExecutor(PooledExecutor):
    """K workers: free-running, refill or rounds (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.slots: list[RunningEpisode | None] = [None] * len(self.pool.workers)
        self.refill = self.traits.per_slot_reset
        self.in_worker = self.traits.runs_in_worker
        self.free_running = self.in_worker or (self.refill and not self.traits.batched_act)

    def _run(self) -> None:
        self.pool.start()
        if self.free_running:
            return self._run_free()
        while not self.stopping():
            self._fill()
            active = [i for i, ep in enumerate(self.slots) if ep is not None and not ep.done]
            if not active:
                if not self.queue:
                    break
                continue
            self._step(active)
            self._release()

    def _fill(self) -> None:
        free = [i for i, ep in enumerate(self.slots) if ep is None]
        if not free or (not self.refill and len(free) < len(self.slots)):
            return  # rounds: the next round starts when every slot is free
        keys = self.take(len(free))
        if not keys:
            return
        slots = free[: len(keys)]
        eps = [self.new_episode(k) for k in keys]
        for i, ep in zip(slots, eps):
            self.slots[i] = ep
        self.pool.reset(slots, eps)
        started = [(i, ep) for i, ep in zip(slots, eps) if not ep.done]
        for i, ep in zip(slots, eps):
            if ep.done:  # failed at reset: not part of the batch the policy is reset with
                self.slots[i] = None
        if not started:
            return
        specs = [ep.spec for _, ep in started]
        if self.refill:  # batch indices are slot indices
            reset = partial(self.policy.reset_slots, [i for i, _ in started], specs)
        else:  # a round: the batch is the slots that got an episode
            reset = partial(self.policy.reset, specs)
        self.call_policy("reset", [ep for _, ep in started], reset)
        self._release()

    def _step(self, active: list[int]) -> None:
        if self.refill:  # batch indices are slot indices; an idle slot's entry is None
            batch = list(range(len(self.slots)))
            obs = [ep.obs if ep is not None and not ep.done else None for ep in self.slots]
        else:  # the round's slots, in slot order; finished ones keep their last observation
            batch = [i for i, ep in enumerate(self.slots) if ep is not None]
            obs = [self.slots[i].obs for i in batch]
        actions = self.act(obs, [self.slots[i] for i in active])
        if actions is None:
            return
        row_of = {slot: j for j, slot in enumerate(batch)}
        self.pool.step([(i, self.slots[i], actions[row_of[i]]) for i in active])

    def _run_free(self) -> None:
        """Each slot on its own: the first worker to answer gets its next request at once (a
        policy that runs in the worker: each request is a whole episode)."""
        busy: dict[int, RunningEpisode] = {}  # slot -> its episode, a request in flight
        play = self.policy if self.in_worker else None
        while not self.stopping():
            for slot in [i for i in range(len(self.slots)) if i not in busy]:
                keys = self.take(1)
                if keys:
                    busy[slot] = self.new_episode(keys[0])
                    self.pool.send_reset(slot, busy[slot], play)
            if not busy:
                break
            slot, reply = self.pool.next_reply(busy)
            ep = busy.pop(slot)
            self.pool.apply(ep, reply, played=play is not None)
            if not ep.done and isinstance(reply, Ready):
                reset = partial(self.policy.reset_slots, [slot], [ep.spec])
                self.call_policy("reset", [ep], reset)
            if ep.done or self.stopping():
                continue
            obs: list[Any] = [None] * len(self.slots)
            obs[slot] = ep.obs
            actions = self.act(obs, [ep])
            if actions is not None:
                self.pool.send_step(slot, ep, actions[slot])
                busy[slot] = ep
        for slot in busy:  # stopped: what is still in flight is left, not recorded
            self.pool.workers[slot].kill()

    def _release(self) -> None:
        """Free the slots whose episodes are over (rounds: all at once, when all are over)."""
        over = [ep is None or ep.done for ep in self.slots]
        if self.refill or all(over):
            self.slots = [None if gone else ep for ep, gone in zip(self.slots, over)]


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


# --- one batched env (GPU) -------------------------------------------------------------------


def _batched_env(obs_mode: str, env_id: str, n: int) -> EpisodeEnv:
    from vlthink.harness.worker import ManiSkillEpisodes

    return ManiSkillEpisodes(env_id, obs_mode, "gpu", n)


class GpuExecutor(Executor):
    """N episodes of one env id at a time in one batched env of this process."""

    def __init__(
        self,
        policy: Any,
        opts: RunOptions,
        emit: Callable[[dict[str, Any]], None],
        make_env: Callable[[str, int], EpisodeEnv] | None = None,
    ):
        super().__init__(policy, opts, emit)
        self.n = max(1, opts.num_envs)
        self.make_env = make_env or partial(_batched_env, obs_mode_for(policy, opts))
        self.env: EpisodeEnv | None = None
        self.env_id: str | None = None

    def _run(self) -> None:
        while self.queue and not self.stopping():
            env_id = self.queue[0].env_id
            keys = []
            while self.queue and self.queue[0].env_id == env_id and len(keys) < self.n:
                keys += self.take(1)
            if not keys:
                break
            eps = [self.new_episode(k) for k in keys]
            eps += [
                RunningEpisode(keys[0], eps[0].seed, padding=True) for _ in range(self.n - len(eps))
            ]
            if self._reset(env_id, eps):
                self._play(eps)

    def _reset(self, env_id: str, eps: list[RunningEpisode]) -> bool:
        if self.env_id != env_id:
            self._close()
            try:
                self.env, self.env_id = self.make_env(env_id, self.n), env_id
            except Exception as exc:
                return self._fail_all(eps, "env_build", exc)
        t0 = time.monotonic()
        try:
            readies = self.env.reset([ep.seed for ep in eps])
        except Exception as exc:
            self._close()
            return self._fail_all(eps, "env_reset", exc)
        for ep, ready in zip(eps, readies):
            ep.t0 = t0
            ep.started(ready)
        return True

    def _play(self, eps: list[RunningEpisode]) -> None:
        real = [ep for ep in eps if not ep.padding]
        if self.traits.kind == "probe":
            return self.judge(real)
        if self.call_policy("reset", real, lambda: self.policy.reset([ep.spec for ep in eps])):
            while not all(ep.done for ep in eps) and not self.stopping():
                if time.monotonic() > self.deadline(eps[0]):
                    live = [ep for ep in eps if not ep.done]
                    return self._fail_all(
                        live,
                        "timeout",
                        TimeoutError(
                            "the batched env exceeded --episode-timeout "
                            f"{self.opts.episode_timeout:g}s"
                        ),
                    )
                actions = self.act([ep.obs for ep in eps], real)
                if actions is None:
                    return
                for ep, action in zip(eps, actions):
                    if not ep.done:
                        ep.acting(action)
                try:
                    stepped = self.env.step(actions)
                except Exception as exc:
                    self._close()
                    return self._fail_all([ep for ep in eps if not ep.done], "env_step", exc)
                for ep, s in zip(eps, stepped):
                    if not ep.done:  # finished sub-envs keep stepping; ignored
                        ep.stepped(s)
                        if ep.done:
                            self.end(ep)

    def _fail_all(self, eps: list[RunningEpisode], kind: str, exc: BaseException) -> bool:
        for ep in eps:
            if not ep.done:
                ep.fail(kind, short_exc(exc))
                self.end(ep)
        return False

    def _close(self) -> None:
        env, self.env, self.env_id = self.env, None, None
        if env is not None:
            env.close()


def make_executor(
    policy: Any, opts: RunOptions, emit: Callable[[dict[str, Any]], None], **kwargs: Any
) -> Executor:
    """The executor for this policy and backend (``kwargs``: stand-in workers or env, tests)."""
    if opts.sim_backend == "gpu":
        return GpuExecutor(policy, opts, emit, **kwargs)
    if opts.policy_traits(policy).kind == "probe":
        return ProbeExecutor(policy, opts, emit, **kwargs)
    return CpuExecutor(policy, opts, emit, **kwargs)
