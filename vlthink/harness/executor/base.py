"""What every executor shares: the queue of episodes, ending an episode as the failure table
says, the policy guard, ``stop_after``."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

import numpy as np

from vlthink.harness.episodes import EpisodeKey
from vlthink.harness.executor.episode import RunningEpisode
from vlthink.harness.executor.failures import DISPOSITION, Disposition
from vlthink.harness.executor.options import RunOptions, RunOutcome
from vlthink.harness.protocol import short_exc
from vlthink.harness.video import video_path, write_mp4
from vlthink.harness.worker import WorkerStartError
from vlthink.policies.base import check_actions

log = logging.getLogger("vlthink.harness")


class KeyQueue:
    """The episodes still to run, drawn from an iterator as they are needed (a plan of any size
    costs no memory), with the episodes given back to run again first."""

    def __init__(self, keys: Iterable[EpisodeKey]):
        self._keys: Iterator[EpisodeKey] = iter(keys)
        self._front: deque[EpisodeKey] = deque()

    def peek(self) -> EpisodeKey | None:
        if not self._front:
            nxt = next(self._keys, None)
            if nxt is None:
                return None
            self._front.append(nxt)
        return self._front[0]

    def __bool__(self) -> bool:
        return self.peek() is not None

    def take(self, n: int) -> list[EpisodeKey]:
        out: list[EpisodeKey] = []
        while len(out) < n and self.peek() is not None:
            out.append(self._front.popleft())
        return out

    def push_front(self, key: EpisodeKey) -> None:
        self._front.appendleft(key)


class Executor:
    """What every executor shares; subclasses implement :meth:`_run`."""

    def __init__(self, policy: Any, opts: RunOptions, emit: Callable[[dict[str, Any]], None]):
        self.policy = policy
        self.opts = opts
        self.emit = emit
        self.traits = opts.policy_traits(policy)
        self.outcome = RunOutcome()
        self.queue = KeyQueue(())
        self._died_once: set[EpisodeKey] = set()
        self._policy_failures = 0

    def run(self, keys: Iterable[EpisodeKey]) -> RunOutcome:
        """Run ``keys`` (taken one at a time as slots free up) and say what happened."""
        self.queue = KeyQueue(keys)
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
        return self.queue.take(n)

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
            log.warning(
                "vlthink-eval: %s on %s (%s); running it again",
                ep.failure.kind.replace("_", " "),
                ep.key.label(),
                ep.failure.detail.split(" | ")[0],
            )
            self.queue.push_front(ep.key)
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
        return self.call_policy("act", episodes, partial(self.checked_act, observations))

    def checked_act(self, observations: list[Any]) -> np.ndarray:
        """``policy.act``, its answer checked (shape, finite); raises what it raises."""
        name = f"policy {self.policy.name!r}"
        return check_actions(self.policy.act(observations), len(observations), name)

    def deadline(self, ep: RunningEpisode) -> float:
        return ep.t0 + ep.waited + self.opts.episode_timeout

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
