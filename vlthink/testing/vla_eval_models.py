"""A scripted model behind vla-eval's own ``PredictModelServer`` (needs ``vlthink[vla-eval]``).

:class:`ScriptedModel` answers each observation with an action that depends on the image it
was sent (so two harnesses agree only if they show the model the same frames), or with a chunk
of such actions; it can take a fixed ``latency_s`` per call (per batched call when
``max_batch_size > 1``) and fail on purpose: ``faults`` maps an episode index to ``"raise"`` (an
exception in ``predict``), ``"sleep"`` (a ``predict`` that takes ``fault_sleep_s``) or ``"exit"``
(the server process dies), at observation ``fault_step`` of that episode. It keeps, per
episode ``(env_id, episode_idx, seed)`` of ``episode_start``, a digest of every frame it saw.

Served in a thread with vla-eval's ``vla_eval.api.serve_background``, or as a process::

    python -m vlthink.testing.vla_eval_models --port 8000 [--chunk 4] [--fault 2=exit ...]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import threading
import time
from typing import Any

import numpy as np
from vla_eval.model_servers.predict import PredictModelServer

from vlthink.testing.loopback import sleep_until


def scripted_action(image: np.ndarray, step: int) -> np.ndarray:
    """``[pos3, rotvec3, gripper]`` from the frame's brightness and the step (deterministic)."""
    m = float(np.asarray(image, dtype=np.float64).mean()) / 255.0
    return np.array(
        [
            0.02 * (m - 0.4),
            0.01 * np.cos(step / 5),
            -0.004,
            0.0,
            0.0,
            0.05 * (m - 0.5),
            1.0 if step < 30 else 0.0,
        ],
        dtype=np.float32,
    )


class ScriptedModel(PredictModelServer):
    def __init__(
        self,
        chunk: int = 1,
        latency_s: float = 0.0,
        faults: dict[int, str] | None = None,
        fault_step: int = 3,
        fault_sleep_s: float = 5.0,
        max_batch_size: int = 1,
        observation_params: dict[str, Any] | None = None,
        max_wait_time: float | None = None,
    ) -> None:
        # max_wait_time None: vla-eval's own default, what a served model gets
        wait = {} if max_wait_time is None else {"max_wait_time": max_wait_time}
        super().__init__(max_batch_size=max_batch_size, **wait)
        self.chunk, self.latency_s = chunk, latency_s
        self.faults = dict(faults or {})
        self.fault_step, self.fault_sleep_s = fault_step, fault_sleep_s
        self.obs_params = dict(observation_params or {})
        self.tasks: dict[str, tuple] = {}  # session -> (env_id, episode_idx, seed)
        self.seen: dict[tuple, list[str]] = {}  # episode -> frame digests
        self.calls = 0
        self.batch_sizes: list[int] = []
        self._lock = threading.Lock()

    def get_observation_params(self) -> dict[str, Any]:
        return dict(self.obs_params)

    async def on_episode_start(self, config: dict[str, Any], ctx: Any) -> None:
        task = config.get("task") or {}
        key = (task.get("env_id"), task.get("episode_idx"), task.get("seed"))
        self.tasks[ctx.session_id] = key
        self.seen[key] = []
        await super().on_episode_start(config, ctx)

    def _one(self, obs: dict[str, Any], ctx: Any) -> dict[str, Any]:
        key = self.tasks.get(ctx.session_id)
        image = obs["images"]["primary"]
        with self._lock:
            self.seen.setdefault(key, []).append(
                hashlib.sha1(np.ascontiguousarray(image)).hexdigest()[:12]
            )
        if key is not None and key[1] in self.faults and ctx.step == self.fault_step:
            self._misbehave(self.faults[key[1]])
        actions = [scripted_action(image, ctx.step + k) for k in range(self.chunk)]
        return {"actions": actions[0] if self.chunk == 1 else np.stack(actions)}

    def _misbehave(self, fault: str) -> None:
        if fault == "raise":
            raise RuntimeError("scripted fault: predict raised")
        if fault == "sleep":
            time.sleep(self.fault_sleep_s)
        if fault == "exit":
            os._exit(17)  # the process dies mid-episode, as a crashed server would

    def predict(self, obs: dict[str, Any], ctx: Any) -> dict[str, Any]:
        return self.predict_batch([obs], [ctx])[0]

    def predict_batch(
        self, obs_batch: list[dict[str, Any]], ctx_batch: list[Any]
    ) -> list[dict[str, Any]]:
        t0 = time.monotonic()
        self.calls += 1
        self.batch_sizes.append(len(obs_batch))
        out = [self._one(o, c) for o, c in zip(obs_batch, ctx_batch)]
        sleep_until(t0 + self.latency_s)  # the call takes latency_s in all
        return out


def main(argv: list[str] | None = None) -> None:
    from vla_eval.model_servers.serve import serve

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--chunk", type=int, default=1)
    p.add_argument("--latency-s", type=float, default=0.0)
    p.add_argument("--fault", action="append", default=[], metavar="EPISODE=raise|sleep|exit")
    p.add_argument("--fault-step", type=int, default=3)
    p.add_argument("--fault-sleep-s", type=float, default=5.0)
    p.add_argument("--max-batch-size", type=int, default=1)
    a = p.parse_args(argv)
    faults = {int(e): kind for e, _, kind in (f.partition("=") for f in a.fault)}
    model = ScriptedModel(
        a.chunk, a.latency_s, faults, a.fault_step, a.fault_sleep_s, max_batch_size=a.max_batch_size
    )
    serve(model, host="127.0.0.1", port=a.port)


if __name__ == "__main__":
    main()
