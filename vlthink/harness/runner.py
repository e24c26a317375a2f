"""Running episodes: worker processes, batched policy calls, timeouts.

CPU executor (``--workers K``)
    K worker processes (``multiprocessing`` *spawn* context: SAPIEN and torch do not survive a
    fork) each own one ManiSkill env (``num_envs=1``, ``sim_backend="cpu"``), kept across episodes
    of the same env id and rebuilt when the env id changes or after an error.  The parent owns the
    policy.  Each control step it sends one action to every busy worker, the workers step in
    parallel, and it gathers one observation per worker and calls ``policy.act(batch)`` once.

Batch slots and ``policy.reset``
    The policy interface resets a whole batch (``policy.reset([spec, ...])``, one spec per slot).
    If the policy also has ``reset_slots(slots, specs)`` (reset only those slots, keep the others'
    state), a slot whose episode ends is refilled from the queue at once; the batch then always
    has K entries, indexed by slot, and an idle slot's entry is ``None`` (its action is ignored).  Otherwise the harness
    runs *rounds*: up to K episodes start together with one ``reset``; a slot whose episode ended
    early idles (its last observation stays in the batch so indices never shift, its action is
    discarded) until the round's last episode ends.  Both give identical rows - an episode's scene
    and actions depend on its identity only - they differ in throughput when episodes end early.

Probe policies (``kind == "probe"``)
    Do not act: each episode is reset, ``policy.probe(specs, observations)`` judges the first
    frame, and one row per episode is written with ``steps = 0`` and the probe's fields.

Timeouts and crashes
    Each episode has a wall-clock budget (``--episode-timeout``, from its reset to its last step).
    A worker that does not answer within it is killed and replaced (lazily, on its next episode),
    and the episode is recorded with ``error = "timeout: ..."``.  An exception in the env is
    recorded against its episode (the env is rebuilt); a worker process that dies likewise.
    An exception from the policy (``PolicyError`` or otherwise) ends the episodes of that call
    with ``error = "policy: ..."``; if ``max_policy_failures`` consecutive policy calls fail the
    policy is taken to be dead (server down, ...): the run stops with one message, the episodes of
    those failing calls are *not* recorded (they run again on resume) and every finished episode
    stays in the results file.

GPU executor (``--sim-backend gpu --num-envs N``)
    One batched ManiSkill env in the parent runs N episodes of one env id at once (lock-step
    rounds, a short last round padded with repeats of its first episode whose rows are dropped);
    each sub-env is reset with its own episode seed.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from vlthink.harness.episodes import EpisodeKey, episode_seed
from vlthink.harness.results import HarnessError

DEFAULT_EPISODE_TIMEOUT = 300.0
STARTUP_TIMEOUT = 600.0  # a worker's imports on a cold, busy machine can take tens of seconds


class PolicyDead(HarnessError):
    pass


@dataclass
class RunOptions:
    workers: int = 1
    sim_backend: str = "cpu"
    num_envs: int = 1
    episode_timeout: float = DEFAULT_EPISODE_TIMEOUT
    record_video: bool = False
    video_dir: Optional[Path] = None
    max_policy_failures: int = 3
    # None: see obs_mode_for. Policies see camera frames only; a segmentation render would cost
    # as much again per step (envs that need it themselves, like the OOD Tex overlays, render it).
    obs_mode: Optional[str] = None
    # stop after this many rows were written (tests / benchmarks); None = run everything
    stop_after: Optional[int] = None


def obs_mode_for(policy: Any, opts: RunOptions) -> str:
    """The ManiSkill observation mode a run needs: camera frames ("rgb") unless the policy says it
    never looks at them (``uses_images = False``) and no video is recorded; then "state_dict",
    which skips the render. Physics, and so every result, is the same either way."""
    needs_frames = getattr(policy, "uses_images", True) or opts.record_video
    if opts.obs_mode == "state_dict" and needs_frames:
        raise HarnessError(f"policy {getattr(policy, 'name', '?')!r} looks at camera frames (or a video is "
                           "recorded), so it cannot run with --obs-mode state_dict. Fix: drop --obs-mode.")
    if opts.obs_mode is not None:
        return opts.obs_mode
    return "rgb" if needs_frames else "state_dict"


def _short_exc(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 500 else text[:497] + "..."


# --------------------------------------------------------------------------------------------
# env access (shared by worker processes and the GPU executor)


def _make_env(env_id: str, obs_mode: str, sim_backend: str, num_envs: int):
    import gymnasium as gym

    import vlthink  # noqa: F401  (registers the env ids)

    return gym.make(env_id, obs_mode=obs_mode, sim_backend=sim_backend, num_envs=num_envs)


def _as_list(x: Any, n: int, cast: Callable = bool) -> list:
    """``n`` Python values from a per-sub-env tensor/array (a single value is broadcast)."""
    if hasattr(x, "cpu"):
        x = x.cpu().numpy()
    arr = np.asarray(x).reshape(-1)
    if arr.size == 1 and n > 1:
        arr = np.repeat(arr, n)
    return [cast(v) for v in arr[:n]]


def _placed_name(idx: Optional[int]) -> Optional[str]:
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
        elif isinstance(v, (list, tuple)) and all(isinstance(x, (str, int, float, bool)) for x in v):
            out[k] = list(v)
    return out


def _step_info(info: dict[str, Any], n: int) -> tuple[list[bool], list[Optional[int]]]:
    success = _as_list(info["success"], n) if "success" in info else [False] * n
    placed = _as_list(info["placed_on"], n, int) if "placed_on" in info else [None] * n
    return success, placed


# --------------------------------------------------------------------------------------------
# worker process


def _worker_main(conn, obs_mode: str) -> None:  # pragma: no cover - child
    """Serve ('reset', env_id, ep_seed) / ('step', action) / ('close',) over ``conn``.

    Torch gets one intra-op thread: ManiSkill's controller math on a single env is many tiny
    tensor ops, which run about 20% faster without a thread pool to wake (measured: 12 vs 15 ms
    per state-only step on 2 CPUs). Lavapipe keeps its default of one rasterizer thread per CPU:
    workers step in lockstep, so while one waits for the other's step the other can render on
    every core (measured with 2 workers on 2 CPUs, rgb: 15.7 episodes/min uncapped against 14.3
    with one thread each). Set before SAPIEN or torch start; values the user exported win.
    """
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import torch

        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    except Exception:
        pass
    env = None
    env_id = None
    try:
        import gymnasium  # noqa: F401

        import vlthink  # noqa: F401  (registers the env ids)
        from vlthink.envs import episode_tasks, policy_observations
    except BaseException as exc:
        conn.send(("fatal", _short_exc(exc) + " | " + traceback.format_exc(limit=4)[-1500:]))
        conn.close()
        return
    conn.send(("ready", os.getpid()))

    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            break  # parent gone
        kind = msg[0]
        try:
            if kind == "close":
                break
            if kind == "reset":
                _, want_id, ep_seed = msg
                if env is None or env_id != want_id:
                    if env is not None:
                        env.close()
                        env = None
                    env = _make_env(want_id, obs_mode, "cpu", 1)
                    env_id = want_id
                obs, _info = env.reset(seed=ep_seed)
                o = policy_observations(env, obs)[0]
                task = episode_tasks(env)[0]
                conn.send(("ok", o, task))
            elif kind == "step":
                _, action = msg
                obs, _r, term, trunc, info = env.step(np.asarray(action, np.float32)[None])
                o = policy_observations(env, obs)[0]
                success, placed = _step_info(info, 1)
                done = bool(_as_list(term, 1)[0] or _as_list(trunc, 1)[0])
                conn.send(("ok", o, success[0], placed[0], done))
            else:
                conn.send(("error", f"unknown command {kind!r}"))
        except Exception as exc:  # the episode fails, the worker lives on with a fresh env
            detail = _short_exc(exc) + " | " + traceback.format_exc(limit=3).strip()[-800:]
            try:
                if env is not None:
                    env.close()
            except Exception:
                pass
            env, env_id = None, None
            try:
                conn.send(("error", detail))
            except (OSError, EOFError):
                break
    try:
        if env is not None:
            env.close()
    finally:
        conn.close()


class Worker:
    """One worker process and its pipe; started lazily, killed on timeout."""

    def __init__(self, ctx, obs_mode: str):
        self._ctx = ctx
        self._obs_mode = obs_mode
        self.proc = None
        self.conn = None
        self._ready = False

    def start(self) -> None:
        """Start the process (its imports run in the background; see :meth:`ready`)."""
        if self.proc is not None and self.proc.is_alive():
            return
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_worker_main, args=(child, self._obs_mode),
                                 daemon=True)
        proc.start()
        child.close()
        self.proc, self.conn = proc, parent
        self._ready = False

    def ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Wait for the worker's imports (not counted against any episode's time budget)."""
        self.start()
        if self._ready:
            return
        reply = self.recv(time.monotonic() + timeout)
        if reply[0] == "ready":
            self._ready = True
            return
        self.kill()
        why = {"timeout": f"it did not start within {timeout:g}s"}.get(reply[0], str(reply[-1]))
        raise HarnessError(
            f"a worker process could not start: {why}. Fix: check that `python -c \"import "
            "vlthink\"` works in this environment (MS_ASSET_DIR set, board art present)."
        )

    def send(self, msg: tuple) -> None:
        self.ready()
        self.conn.send(msg)

    def recv(self, deadline: float) -> tuple:
        """The worker's reply, or ('timeout',) / ('died', why) - never blocks past ``deadline``."""
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return ("timeout",)
                if self.conn.poll(min(left, 1.0)):
                    return self.conn.recv()
                if not self.proc.is_alive():
                    return ("died", f"worker process exited with code {self.proc.exitcode}")
        except (EOFError, OSError):
            code = self.proc.exitcode if self.proc is not None else None
            return ("died", f"worker process died (exit code {code})")

    def kill(self) -> None:
        if self.proc is not None:
            if self.proc.is_alive():
                self.proc.kill()
            self.proc.join(timeout=10)
        if self.conn is not None:
            self.conn.close()
        self.proc, self.conn = None, None
        self._ready = False

    def close(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            try:
                self.conn.send(("close",))
                self.proc.join(timeout=10)
            except (OSError, EOFError):
                pass
        self.kill()


# --------------------------------------------------------------------------------------------
# episodes in flight


@dataclass(eq=False)
class Episode:
    key: EpisodeKey
    seed: int
    spec: Any = None
    obs: Any = None
    task: dict[str, Any] = field(default_factory=dict)
    steps: int = 0
    success_once: bool = False
    success_last: bool = False
    placed: Optional[int] = None
    error: Optional[str] = None
    done: bool = False
    t0: float = 0.0
    frames: list = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    padding: bool = False  # GPU executor: a repeat that fills the batch, never recorded

    def row(self, policy_name: str) -> dict[str, Any]:
        task = _jsonable_task(self.task)
        row = {
            "env": self.key.env_id,
            "episode": self.key.episode,
            "seed": self.key.seed,
            "episode_seed": self.seed,
            "policy": policy_name,
            "instruction": task.pop("instruction", None),
            "target": task.pop("target", None),
            "success_once": bool(self.success_once),
            "success_at_end": bool(self.success_last),
            "placed_on": _placed_name(self.placed) if self.error is None else None,
            "steps": self.steps,
            "seconds": round(time.monotonic() - self.t0, 3),
            "error": self.error,
        }
        if self.error is not None:
            row["success_once"] = row["success_at_end"] = False
        if task:
            row["task"] = task
        for k, v in self.extra.items():
            row.setdefault(k, v)
        return row


def _spec(ep: Episode):
    from vlthink.policies.base import EpisodeSpec

    return EpisodeSpec(
        env_id=ep.key.env_id,
        episode=ep.key.episode,
        seed=ep.key.seed,
        instruction=str(ep.task.get("instruction", "")),
        task=dict(ep.task),
    )


def _is_probe(policy: Any) -> bool:
    kind = getattr(policy, "kind", None) or (getattr(policy, "config", None) or {}).get("kind")
    return kind == "probe" or (hasattr(policy, "probe") and not hasattr(policy, "act"))


class _PolicyGuard:
    """Counts consecutive failing policy calls; holds their episodes' rows until it knows more."""

    def __init__(self, policy: Any, limit: int, emit: Callable[[Episode], None]):
        self.policy = policy
        self.limit = max(1, limit)
        self.emit = emit
        self.failures = 0
        self.held: list[Episode] = []
        self.last_error = ""

    def ok(self) -> None:
        self.failures = 0
        held, self.held = self.held, []
        for ep in held:
            self.emit(ep)

    def failed(self, what: str, exc: BaseException, episodes: list[Episode]) -> None:
        self.failures += 1
        self.last_error = _short_exc(exc)
        for ep in episodes:
            if not ep.done:
                ep.error = f"policy: {what} failed: {self.last_error}"
                ep.done = True
                self.held.append(ep)
        if self.failures >= self.limit:
            n = len(self.held)
            self.held = []
            raise PolicyDead(
                f"policy {getattr(self.policy, 'name', '?')!r} failed on {self.failures} "
                f"consecutive calls; last error: {self.last_error}. The run stopped; the "
                f"{n} episode(s) of those calls were not recorded and every finished episode is "
                "kept. Fix the policy (is its server running and reachable?) and rerun the same "
                "command to resume."
            )

    def flush(self) -> None:
        self.ok()


# --------------------------------------------------------------------------------------------
# the CPU executor


class CpuExecutor:
    def __init__(self, policy: Any, opts: RunOptions, emit: Callable[[dict[str, Any]], None]):
        self.policy = policy
        self.opts = opts
        self._emit_row = emit
        self.ctx = mp.get_context("spawn")
        k = max(1, opts.workers)
        self.workers = [Worker(self.ctx, obs_mode_for(policy, opts)) for _ in range(k)]
        self.guard = _PolicyGuard(policy, opts.max_policy_failures, self._finish)
        self.written = 0

    # -- bookkeeping
    def _finish(self, ep: Episode) -> None:
        if ep.padding:
            return
        if self.opts.record_video and ep.frames and self.opts.video_dir is not None:
            try:
                save_gif(ep.frames, self.opts.video_dir, ep.key)
            except Exception as exc:  # a video is a by-product; never lose the row over it
                ep.extra["video_error"] = _short_exc(exc)
        self._emit_row(ep.row(self.policy.name))
        self.written += 1

    def _end(self, ep: Episode) -> None:
        """An episode finished (success or its own error): record it now unless held."""
        ep.done = True
        if ep in self.guard.held:
            return
        self._finish(ep)

    def _stop_requested(self) -> bool:
        return self.opts.stop_after is not None and self.written >= self.opts.stop_after

    # -- worker calls
    def _reset_many(self, slots: list[int], eps: list[Episode]) -> None:
        for i in slots:
            self.workers[i].start()  # replacements of killed workers start together
        for i, ep in zip(slots, eps):
            try:
                self.workers[i].ready()
                ep.t0 = time.monotonic()
                self.workers[i].send(("reset", ep.key.env_id, ep.seed))
            except (OSError, EOFError) as exc:
                ep.error = f"worker: could not send reset: {_short_exc(exc)}"
                self.workers[i].kill()
        for i, ep in zip(slots, eps):
            if ep.error is not None:
                continue
            reply = self.workers[i].recv(ep.t0 + self.opts.episode_timeout)
            self._apply(i, ep, reply, first=True)

    def _apply(self, i: int, ep: Episode, reply: tuple, first: bool = False) -> None:
        status = reply[0]
        if status == "ok":
            if first:
                _, ep.obs, ep.task = reply
                if self.opts.record_video:
                    ep.frames.append(_frame(ep.obs))
            else:
                _, ep.obs, success, placed, done = reply
                ep.steps += 1
                ep.success_once = ep.success_once or success
                ep.success_last = success
                ep.placed = placed
                if self.opts.record_video:
                    ep.frames.append(_frame(ep.obs))
                if done:
                    ep.done = True
            return
        if status == "timeout":
            ep.error = (
                f"timeout: no answer from the env within --episode-timeout "
                f"{self.opts.episode_timeout:g}s (step {ep.steps}); the worker was killed and "
                "replaced"
            )
            self.workers[i].kill()
        elif status == "died":
            ep.error = f"worker: {reply[1]} at step {ep.steps}; replaced"
            self.workers[i].kill()
        else:  # "error": an exception inside reset/step
            where = "reset" if first else f"step {ep.steps + 1}"
            ep.error = f"env: {where}: {reply[1]}"
        ep.done = True

    # -- main loop
    def run(self, keys: list[EpisodeKey]) -> None:
        queue = list(keys)
        queue.reverse()  # pop() from the end keeps the given order
        nslots = len(self.workers)
        refill = hasattr(self.policy, "reset_slots")
        probe = _is_probe(self.policy)
        slots: list[Optional[Episode]] = [None] * nslots
        try:
            for w in self.workers:
                w.start()  # start all processes together (imports run in parallel)
            for w in self.workers:
                w.ready()
            while True:
                if self._stop_requested():
                    return
                # 1. start new episodes in free slots
                free = [i for i in range(nslots) if slots[i] is None]
                round_over = len(free) == nslots
                if queue and free and (refill or round_over or probe):
                    take = free[: len(queue)]
                    if self.opts.stop_after is not None:
                        take = take[: max(1, self.opts.stop_after - self.written)]
                    new = []
                    for i in take:
                        k = queue.pop()
                        ep = Episode(k, episode_seed(k.env_id, k.episode, k.seed))
                        slots[i] = ep
                        new.append(ep)
                    self._reset_many(take, new)
                    for ep in new:
                        if ep.error is None:
                            ep.spec = _spec(ep)
                    ok_new = [(i, ep) for i, ep in zip(take, new) if ep.error is None]
                    for i, ep in zip(take, new):
                        if ep.error is not None:
                            self._end(ep)
                            slots[i] = None  # not part of the batch the policy is reset with
                    if probe:
                        self._probe(ok_new)
                        for i in take:
                            slots[i] = None
                        continue
                    if ok_new:
                        try:
                            if refill:  # batch indices are slot indices
                                self.policy.reset_slots([i for i, _ in ok_new],
                                                        [ep.spec for _, ep in ok_new])
                            else:
                                # round start: the batch is the slots that got an episode
                                self.policy.reset([ep.spec for _, ep in ok_new])
                        except Exception as exc:
                            self.guard.failed("reset", exc, [ep for _, ep in ok_new])
                    if refill:  # a failed reset_slots: those slots are free again
                        for i, ep in ok_new:
                            if ep.done:
                                slots[i] = None
                active = [i for i in range(nslots) if slots[i] is not None and not slots[i].done]
                if not active:
                    if all(s is None or s.done for s in slots):
                        slots = [None] * nslots
                    if not queue:
                        break
                    continue
                # 2. one batched policy call over the batch's slots (stable indices)
                batch = [i for i in range(nslots) if slots[i] is not None]
                if refill:
                    order = list(range(nslots))
                    obs = [slots[i].obs if slots[i] is not None else None for i in order]
                    idx = {i: i for i in batch}
                else:
                    obs = [slots[i].obs for i in batch]
                    idx = {i: j for j, i in enumerate(batch)}
                try:
                    from vlthink.policies.base import check_actions

                    raw = self.policy.act(obs)
                    actions = check_actions(raw, len(obs), f"policy {self.policy.name!r}")
                except Exception as exc:
                    self.guard.failed("act", exc, [slots[i] for i in active])
                    for i in active:
                        self._end(slots[i])
                        if refill:
                            slots[i] = None
                    continue
                self.guard.ok()
                # 3. scatter actions, step workers in parallel, gather
                sent = []
                for i in active:
                    try:
                        self.workers[i].send(("step", actions[idx[i]]))
                        sent.append(i)
                    except (OSError, EOFError) as exc:
                        slots[i].error = f"worker: could not send step: {_short_exc(exc)}"
                        self.workers[i].kill()
                        slots[i].done = True
                for i in sent:
                    ep = slots[i]
                    self._apply(i, ep, self.workers[i].recv(ep.t0 + self.opts.episode_timeout))
                for i in active:
                    if slots[i].done:
                        self._end(slots[i])
                        if refill:
                            slots[i] = None
                        if self._stop_requested():
                            return
                if not refill and all(s is None or s.done for s in slots):
                    slots = [None] * nslots
            self.guard.flush()
        finally:
            for w in self.workers:
                w.close()

    def _probe(self, items: list[tuple[int, Episode]]) -> None:
        if not items:
            return
        eps = [ep for _, ep in items]
        try:
            if hasattr(self.policy, "reset"):
                self.policy.reset([ep.spec for ep in eps])
            answers = self.policy.probe([ep.spec for ep in eps], [ep.obs for ep in eps])
            if len(answers) != len(eps):
                raise RuntimeError(f"probe returned {len(answers)} answers for {len(eps)} episodes")
        except Exception as exc:
            self.guard.failed("probe", exc, eps)
            return
        self.guard.ok()
        for ep, ans in zip(eps, answers):
            ok = bool(ans.get("success", False))
            ep.success_once = ep.success_last = ok
            ep.extra.update({k: v for k, v in ans.items() if k != "success"})
            ep.extra.setdefault("probe", True)
            self._end(ep)


# --------------------------------------------------------------------------------------------
# the GPU executor: one batched env, N episodes of one env id per round


class GpuExecutor(CpuExecutor):
    def __init__(self, policy: Any, opts: RunOptions, emit: Callable[[dict[str, Any]], None]):
        self.policy = policy
        self.opts = opts
        self._emit_row = emit
        self.guard = _PolicyGuard(policy, opts.max_policy_failures, self._finish)
        self.written = 0
        self.workers = []

    def run(self, keys: list[EpisodeKey]) -> None:  # pragma: no cover - needs a CUDA device
        from vlthink.envs import episode_tasks, policy_observations
        from vlthink.policies.base import check_actions

        n = max(1, self.opts.num_envs)
        by_env: dict[str, list[EpisodeKey]] = {}
        for k in keys:
            by_env.setdefault(k.env_id, []).append(k)
        probe = _is_probe(self.policy)
        for env_id, ks in by_env.items():
            env = _make_env(env_id, obs_mode_for(self.policy, self.opts), "gpu", n)
            try:
                for start in range(0, len(ks), n):
                    if self._stop_requested():
                        return
                    chunk = ks[start:start + n]
                    eps = [Episode(k, episode_seed(*k)) for k in chunk]
                    while len(eps) < n:  # pad a short last round
                        eps.append(Episode(chunk[0], eps[0].seed, padding=True))
                    t0 = time.monotonic()
                    for ep in eps:
                        ep.t0 = t0
                    try:
                        obs, _ = env.reset(seed=[ep.seed for ep in eps])
                        olist = policy_observations(env, obs)
                        tasks = episode_tasks(env)
                    except Exception as exc:
                        for ep in eps:
                            ep.error = f"env: reset: {_short_exc(exc)}"
                            self._end(ep)
                        continue
                    for ep, o, t in zip(eps, olist, tasks):
                        ep.obs, ep.task = o, t
                        ep.spec = _spec(ep)
                        if self.opts.record_video:
                            ep.frames.append(_frame(o))
                    if probe:
                        self._probe(list(enumerate(eps)))
                        continue
                    try:
                        self.policy.reset([ep.spec for ep in eps])
                    except Exception as exc:
                        self.guard.failed("reset", exc, eps)
                        continue
                    while not all(ep.done for ep in eps):
                        if time.monotonic() - t0 > self.opts.episode_timeout:
                            for ep in eps:
                                if not ep.done:
                                    ep.error = "timeout: batched env exceeded --episode-timeout"
                                    self._end(ep)
                            break
                        try:
                            actions = check_actions(
                                self.policy.act([ep.obs for ep in eps]), n,
                                f"policy {self.policy.name!r}")
                        except Exception as exc:
                            self.guard.failed("act", exc, eps)
                            break
                        self.guard.ok()
                        try:
                            import torch

                            obs, _r, term, trunc, info = env.step(torch.as_tensor(actions))
                            olist = policy_observations(env, obs)
                        except Exception as exc:
                            for ep in eps:
                                if not ep.done:
                                    ep.error = f"env: step {ep.steps + 1}: {_short_exc(exc)}"
                                    self._end(ep)
                            break
                        success, placed = _step_info(info, n)
                        dones = [a or b for a, b in zip(_as_list(term, n),
                                                        _as_list(trunc, n))]
                        for j, ep in enumerate(eps):
                            if ep.done:
                                continue  # finished sub-envs keep stepping; ignored
                            ep.obs = olist[j]
                            ep.steps += 1
                            ep.success_once = ep.success_once or success[j]
                            ep.success_last = success[j]
                            ep.placed = placed[j]
                            if self.opts.record_video:
                                ep.frames.append(_frame(olist[j]))
                            if dones[j]:
                                self._end(ep)
            finally:
                env.close()
        self.guard.flush()


# --------------------------------------------------------------------------------------------
# video


def _frame(obs: Any) -> np.ndarray:
    img = np.asarray(obs.image)
    return img[::2, ::2].copy()  # half resolution keeps GIFs small


def save_gif(frames: list[np.ndarray], video_dir: Path, key: EpisodeKey, fps: int = 10) -> Path:
    """Write an episode's frames as an animated GIF (PIL; no ffmpeg needed)."""
    from PIL import Image

    path = Path(video_dir) / key.env_id / f"seed{key.seed}_ep{key.episode:04d}.gif"
    path.parent.mkdir(parents=True, exist_ok=True)
    imgs = [Image.fromarray(np.asarray(f, dtype=np.uint8)) for f in frames]
    imgs[0].save(path, save_all=True, append_images=imgs[1:], duration=int(1000 / fps), loop=0)
    return path


def make_executor(policy: Any, opts: RunOptions, emit: Callable[[dict[str, Any]], None]):
    if opts.sim_backend == "gpu":
        return GpuExecutor(policy, opts, emit)
    return CpuExecutor(policy, opts, emit)
