"""One batched env in this process (``--sim-backend gpu --num-envs N``): N episodes of one env
id at a time, in lock-step rounds; a short last round is padded with repeats whose rows are
dropped."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from vlthink.harness.episode_env import EpisodeEnv
from vlthink.harness.episodes import EpisodeKey
from vlthink.harness.executor.base import Executor
from vlthink.harness.executor.episode import RunningEpisode
from vlthink.harness.executor.options import RunOptions, obs_mode_for
from vlthink.harness.protocol import short_exc


def _batched_env(obs_mode: str, assets: str, env_id: str, n: int) -> EpisodeEnv:
    from vlthink.harness.episode_env import ManiSkillEpisodes

    return ManiSkillEpisodes(env_id, obs_mode, assets, "gpu", n)


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
        self.make_env = make_env or partial(_batched_env, obs_mode_for(policy, opts), opts.assets)
        self.env: EpisodeEnv | None = None
        self.env_id: str | None = None

    def _run(self) -> None:
        while self.queue and not self.stopping():
            env_id = self.queue.peek().env_id
            keys: list[EpisodeKey] = []
            while self.queue and self.queue.peek().env_id == env_id and len(keys) < self.n:
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
        """One lock-step round of the batched env, until every sub-env's episode is over."""
        real = [ep for ep in eps if not ep.padding]
        if self.traits.kind == "probe":
            return self.judge(real)
        if not self.call_policy("reset", real, lambda: self.policy.reset([ep.spec for ep in eps])):
            return
        while not all(ep.done for ep in eps) and not self.stopping():
            if time.monotonic() > self.deadline(eps[0]):
                return self._time_out(eps)
            actions = self.act([ep.obs for ep in eps], real)
            if actions is None or not self._step(eps, actions):
                return

    def _step(self, eps: list[RunningEpisode], actions: np.ndarray) -> bool:
        """Step every sub-env with its action (finished ones keep stepping, ignored)."""
        live = [(ep, action) for ep, action in zip(eps, actions) if not ep.done]
        for ep, action in live:
            ep.acting(action)
        try:
            stepped = self.env.step(actions)
        except Exception as exc:
            self._close()
            return self._fail_all([ep for ep, _ in live], "env_step", exc)
        for ep, s in zip(eps, stepped):
            if not ep.done:
                ep.stepped(s)
                if ep.done:
                    self.end(ep)
        return True

    def _time_out(self, eps: list[RunningEpisode]) -> None:
        why = f"the batched env exceeded --episode-timeout {self.opts.episode_timeout:g}s"
        self._fail_all([ep for ep in eps if not ep.done], "timeout", TimeoutError(why))

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
