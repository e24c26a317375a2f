"""Env workers: the request loop, the process that runs it, and an in-process stand-in.

The messages are :mod:`vlthink.harness.protocol`'s (re-exported here), the envs
:mod:`vlthink.harness.episode_env`'s. A worker is anything with ``start / send / receive /
kill / close`` and ``has_reply / handles`` (for :func:`first_ready`): :class:`ProcessWorker` runs
one ManiSkill env in a spawned process (SAPIEN and torch do not survive a fork);
:class:`InProcessWorker` runs the same request loop in this process over any
:class:`EpisodeEnv`, so scheduling and failures can be tested in milliseconds.

A process worker needs nothing but a pipe to start: what it builds is in each ``Reset``. So a run
starts its workers first, and their imports (torch, SAPIEN, ManiSkill) go on while the parent
imports, reads the plan and loads the policy. It does not re-run the parent's ``__main__``
script (see :func:`_spawning_without_main`).

``Play`` is for a policy that ``runs_in_worker`` (the scripted ones): it travels, pickled, with
each episode, and the worker acts and steps in one loop with no round trip to the executor per
step. The reply carries every action and step, so the executor keeps the same record of the
episode as when it steps it itself.
"""

from __future__ import annotations

import gc
import importlib
import multiprocessing as mp
import multiprocessing.connection
import os
import pickle
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np

from vlthink.harness.episode_env import EpisodeEnv, ManiSkillEpisodes, as_list  # noqa: F401
from vlthink.harness.protocol import (  # noqa: F401  (the messages, importable from here too)
    FAILURE_KINDS,
    Close,
    Failed,
    Play,
    Played,
    Ready,
    Reply,
    Request,
    Reset,
    Started,
    Step,
    Stepped,
    short_exc,
)
from vlthink.policies.base import check_actions

STARTUP_TIMEOUT = 600.0  # s; a worker's imports on a cold, busy machine can take tens of seconds


# --- the request loop (one env, rebuilt when the id changes or after an error) ---------------


class RequestLoop:
    """A worker's side of the protocol, independent of how requests arrive."""

    def __init__(self, make_env: Callable[[str, str, str], EpisodeEnv], freeze_gc: bool = False):
        self.make_env = make_env  # (env_id, obs_mode, assets) -> env
        self.freeze_gc = freeze_gc  # a worker process's own loop: see _freeze_imports_of
        self.env: EpisodeEnv | None = None
        self.built: tuple[str, str, str] | None = None  # (env_id, obs_mode, assets) of self.env

    def handle(self, request: Request) -> Reply:
        if isinstance(request, Reset):
            return self._reset(request)
        if isinstance(request, Step):
            if self.env is None:
                return Failed("env_step", "step before reset (the env was dropped after an error)")
            try:
                return self.env.step(np.asarray(request.action, np.float32)[None])[0]
            except Exception as exc:
                return self._failed("env_step", exc)
        if isinstance(request, Play):
            return self._play(request)
        return Failed("env_step", f"unknown request {type(request).__name__}")

    def _play(self, request: Play) -> Played:
        """The episode's whole loop here: reset, then act and step until the env ends it."""
        ready = self._reset(request.reset)
        if isinstance(ready, Failed):
            return Played(None, [], [], ready)
        policy, name = request.policy, f"policy {getattr(request.policy, 'name', '?')!r}"
        actions: list[np.ndarray] = []
        steps: list[Stepped] = []
        played = partial(Played, _without_image(ready, request.keep_images), actions, steps)
        try:
            policy.reset([request.spec.with_task(ready.task)])
        except Exception as exc:
            return played(Failed("policy", f"reset failed: {short_exc(exc)}"))
        observation = ready.observation
        while True:
            try:
                action = check_actions(policy.act([observation]), 1, name)[0]
            except Exception as exc:
                return played(Failed("policy", f"act failed: {short_exc(exc)}"))
            reply = self.handle(Step(action))
            if isinstance(reply, Failed):
                return played(reply)
            actions.append(action)
            steps.append(_without_image(reply, request.keep_images))
            if reply.done:
                return played()
            observation = reply.observation

    def _reset(self, request: Reset) -> Reply:
        wanted = (request.env_id, request.obs_mode, request.assets)
        if self.env is None or self.built != wanted:
            self.close()
            if self.freeze_gc:
                _freeze_imports_of(request.env_id)
            try:
                self.env = self.make_env(*wanted)
                self.built = wanted
            except Exception as exc:
                return self._failed("env_build", exc)
        try:
            return self.env.reset([request.episode_seed])[0]
        except Exception as exc:
            return self._failed("env_reset", exc)

    def _failed(self, kind: str, exc: Exception) -> Failed:
        # The env may be in any state after an exception: the next episode gets a fresh one.
        detail = short_exc(exc) + " | " + traceback.format_exc(limit=3).strip()[-800:]
        self.close()
        return Failed(kind, detail)

    def close(self) -> None:
        env, self.env, self.built = self.env, None, None
        if env is not None:
            try:
                env.close()
            except Exception:
                pass


def _freeze_imports_of(env_id: str) -> None:
    """Import the env's module, then move everything alive out of the garbage collector's reach,
    before the env is built; for a worker process, which holds nothing else then. ManiSkill runs
    a full ``gc.collect()`` whenever it clears a scene (every answer-mode reset builds a new one);
    without this, each walks every torch, SAPIEN and ManiSkill object in the process. The env and
    its scenes are made after the freeze, so they are still collected when dropped."""
    import gymnasium as gym

    try:
        entry = gym.spec(env_id).entry_point
        if isinstance(entry, str):
            importlib.import_module(entry.split(":")[0])
    except Exception:
        return  # building the env says what is wrong (an env_build failure)
    gc.collect()
    gc.freeze()


def _without_image(reply: Ready | Stepped, keep: bool) -> Ready | Stepped:
    if keep or reply.observation.image is None:
        return reply
    return replace(reply, observation=replace(reply.observation, image=None))


# --- a worker process ------------------------------------------------------------------------


def _serve(conn) -> None:  # pragma: no cover - runs in the child
    """Answer requests over ``conn`` until Close or the parent goes away.

    Torch gets one intra-op thread: ManiSkill's controller maths on a single env is many tiny
    tensor ops, faster without a thread pool to wake (bench/bench_harness.py). Lavapipe keeps
    its default threads: while one worker waits (for the policy, or for its turn in lock-step),
    the other can render on every core. Set before SAPIEN or torch start; values the user exported win.
    """
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import torch

        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
        from vlthink.envs.ids import register_gym_ids

        register_gym_ids()
    except BaseException as exc:
        conn.send(
            Failed("worker_start", short_exc(exc) + " | " + traceback.format_exc(limit=4)[-1500:])
        )
        conn.close()
        return
    loop = RequestLoop(ManiSkillEpisodes, freeze_gc=True)
    try:
        conn.send(Started(os.getpid()))
    except (OSError, EOFError):  # the parent went away while this worker was importing
        os._exit(0)
    try:
        while True:
            try:
                request = conn.recv()
            except (EOFError, OSError, KeyboardInterrupt):
                break  # parent gone
            if isinstance(request, Close):
                break
            try:
                conn.send(loop.handle(request))
            except (OSError, EOFError):
                break
    finally:
        loop.close()
        conn.close()
    # The env is closed and nothing else is held: skip the interpreter's teardown of torch and
    # SAPIEN, which a spawned child would otherwise run for longer than the env took to close.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


class WorkerStartError(RuntimeError):
    pass


#: The one line for a worker that died on start while re-running the caller's script.
MAIN_GUARD_HINT = (
    "the policy runs in the workers and its class is defined in your script, which each worker "
    'imports: put the vlthink.evaluate call under `if __name__ == "__main__":`, or define the '
    "class in a module"
)


@contextmanager
def _spawning_without_main() -> Iterator[None]:
    """Start a process that does not re-run the parent's ``__main__``.

    A spawned child normally imports the parent's main script first (so that objects pickled
    by reference to ``__main__`` are found). An env worker needs none of it: its requests name
    vlthink's classes only. Without this, a script calling ``vlthink.evaluate`` with no
    ``if __name__ == "__main__":`` guard would run again in every worker, and code read from
    stdin could not be found at all. The child is still a fresh interpreter (spawn, not fork).
    """
    main = sys.modules.get("__main__")
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if k in vars(main or {})}
    if main is not None:
        main.__dict__.pop("__file__", None)
        main.__spec__ = None
    try:
        yield
    finally:
        if main is not None:
            main.__dict__.update(saved)


class ProcessWorker:
    """One env process and its pipe; started lazily, killed and replaced on a timeout or death.

    ``receive`` never raises and never blocks past its deadline: a dead or silent process is a
    :class:`Failed` reply (``worker_died`` / ``timeout``), after which the process is killed and
    the next ``send`` starts a fresh one.
    """

    def __init__(self, context: Any = None, with_main: bool = False):
        self.ctx = context or mp.get_context("spawn")
        self.with_main = with_main  # import __main__ first: a Play's policy class lives there
        self.proc = None
        self.conn = None
        self.started = False
        self.closing = False  # Close sent, exit awaited
        self._pending: Failed | None = None

    def start(self) -> None:
        """Start the process if none runs (its imports go on in the background)."""
        if self.proc is not None and self.proc.is_alive():
            return
        self.kill()
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_serve, args=(child,), daemon=True)
        if self.with_main:
            self.proc.start()
        else:
            with _spawning_without_main():
                self.proc.start()
        child.close()
        self.conn = parent

    def wait_started(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Wait for the imports (not counted against any episode's budget)."""
        self.start()
        if self.started:
            return
        reply = self._recv(time.monotonic() + timeout)
        if isinstance(reply, Started):
            self.started = True
            return
        self.kill()
        why = f"it did not start within {timeout:g}s" if reply.kind == "timeout" else reply.detail
        fix = (
            MAIN_GUARD_HINT
            if self.with_main
            else 'check that `python -c "import vlthink"` works in this environment '
            "(MS_ASSET_DIR set, board art present)"
        )
        raise WorkerStartError(f"a worker process could not start: {why}. Fix: {fix}.")

    def send(self, request: Request) -> None:
        self.wait_started()
        try:
            self.conn.send(request)
        except (OSError, EOFError) as exc:
            self._pending = Failed("worker_died", f"could not send to the worker: {short_exc(exc)}")

    def has_reply(self) -> bool:
        """A reply is known without reading the pipe (a send that failed)."""
        return self._pending is not None

    def handles(self) -> list:
        """What :func:`multiprocessing.connection.wait` watches: the pipe and the process."""
        return [] if self.proc is None else [self.conn, self.proc.sentinel]

    def receive(self, deadline: float) -> Reply:
        pending, self._pending = self._pending, None
        reply = pending or self._recv(deadline)
        if isinstance(reply, Failed) and reply.kind in ("timeout", "worker_died"):
            self.kill()
        return reply

    def _recv(self, deadline: float):
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return Failed("timeout", "no answer within the deadline")
                if self.conn.poll(min(left, 1.0)):
                    return self.conn.recv()
                if not self.proc.is_alive():
                    return Failed(
                        "worker_died", f"the worker process exited with code {self.proc.exitcode}"
                    )
        except (EOFError, OSError):
            code = self.proc.exitcode if self.proc is not None else None
            return Failed("worker_died", f"the worker process died (exit code {code})")

    def kill(self) -> None:
        if self.proc is not None:
            if self.proc.is_alive():
                self.proc.kill()
            self.proc.join(timeout=10)
        if self.conn is not None:
            self.conn.close()
        self.proc, self.conn, self.started, self.closing = None, None, False, False

    def ask_to_close(self) -> None:
        """Tell the process to close its env and exit (``close`` waits for it)."""
        if self.proc is not None and self.proc.is_alive() and self.started and not self.closing:
            try:
                self.conn.send(Close())
                self.closing = True
            except (OSError, EOFError):
                pass

    def close(self) -> None:
        self.ask_to_close()
        if self.closing:
            self.proc.join(timeout=10)
        self.kill()


# --- the in-process stand-in -----------------------------------------------------------------


class Unresponsive(BaseException):
    """Raised by a stand-in env to act out a worker *process* that hangs or dies.

    A ``BaseException`` so that the request loop (which turns every ``Exception`` into an env
    failure) lets it through to :class:`InProcessWorker`, which answers as a process worker
    would: ``Failed("timeout")`` or ``Failed("worker_died")``, and starts afresh.
    """

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


@dataclass
class InProcessWorker:
    """The worker protocol served in this process: same interface as :class:`ProcessWorker`."""

    make_env: Callable[[str, str, str], EpisodeEnv]  # (env_id, obs_mode, assets) -> env
    fail_start: str | None = None  # a worker_start failure to act out
    loop: RequestLoop = field(init=False)
    _reply: Reply | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.loop = RequestLoop(self.make_env)

    def start(self) -> None:
        pass

    def wait_started(self, timeout: float = STARTUP_TIMEOUT) -> None:
        if self.fail_start:
            raise WorkerStartError(f"a worker process could not start: {self.fail_start}")

    def send(self, request: Request) -> None:
        self.wait_started()
        if isinstance(request, Play):  # its policy is a copy, as through a process's pipe
            request = pickle.loads(pickle.dumps(request))
        try:
            self._reply = self.loop.handle(request)
        except Unresponsive as exc:
            self.kill()
            detail = (
                "no answer within the deadline"
                if exc.kind == "timeout"
                else "the worker process exited with code -9"
            )
            self._reply = Failed(exc.kind, detail)

    def has_reply(self) -> bool:
        return self._reply is not None

    def handles(self) -> list:
        return []

    def receive(self, deadline: float) -> Reply:
        reply, self._reply = self._reply, None
        return reply if reply is not None else Failed("worker_died", "nothing was sent")

    def kill(self) -> None:
        self.loop.close()
        self.loop = RequestLoop(self.make_env)

    def ask_to_close(self) -> None:
        pass

    def close(self) -> None:
        self.loop.close()


def close_workers(workers: list) -> None:
    """Close every worker; all are told before any is awaited, so their teardowns overlap."""
    for w in workers:
        w.ask_to_close()
    for w in workers:
        w.close()


def first_ready(workers: list, timeout: float, extra: list = ()) -> list[int]:
    """Indices of ``workers`` whose reply can be received now, waiting up to ``timeout`` s for the
    first one (an empty list: none answered in time). A dead process counts as ready: its
    ``receive`` says so. ``[-1]``: none had answered when one of ``extra`` became readable."""
    now = [i for i, w in enumerate(workers) if w.has_reply()]
    if now:
        return now
    owner = {h: i for i, w in enumerate(workers) for h in w.handles()}
    owner.update({h: -1 for h in extra})
    got = multiprocessing.connection.wait(list(owner), max(0.0, timeout))
    ready = sorted({owner[h] for h in got} - {-1})
    return ready or ([-1] if got else [])
