"""Episodes per minute through the vla-eval adapter and through the openpi path, real envs.

    python bench/bench_vla_eval.py [--latency 0.05] [--episodes-per-worker 2] [--env VLThink-Shape-v0]

The same scripted model (``vlthink.testing.vla_eval_models.scripted_action``: the action from
the frame's brightness) sits behind vla-eval's own ``PredictModelServer`` (``max_batch_size`` =
workers, so K workers' observations are one batched call) and behind the loopback openpi
server (one call per observation, serialised like one GPU). Every model call takes a fixed
``L`` seconds (per batched call where the server batches). One action per call on both paths.

Rates come from the rows' own ``seconds`` (reset to last step), so process start and env
builds are left out: ``workers * 60 / mean(seconds)``. Beside them, the ideal for ``L``: the
slower of the bare scene (a policy that costs nothing, same workers) and the server's
capacity (``60 / (steps * L)`` episodes a minute, times K where it batches K).
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np

import vlthink
from vlthink.policies.base import PolicyBase
from vlthink.policies.registry import load_policy
from vlthink.scene.timing import MAX_EPISODE_STEPS
from vlthink.testing.servers import OpenPIServer
from vlthink.testing.vla_eval_models import ScriptedModel, scripted_action


class Free(PolicyBase):
    """The bare scene: an action that costs nothing."""

    name = "free"
    per_slot_reset = True

    def reset_slots(self, slots, episodes):
        pass

    def act(self, observations):
        return np.zeros((len(observations), 7), np.float32)


def rate(policy, env: str, workers: int, episodes: int, tmp: str) -> float:
    run = vlthink.evaluate(
        policy, suite=env, episodes=episodes, seeds=[0], out=tmp, workers=workers, progress=False
    )
    assert run.exit_code == 0, run.exit_code
    return workers * 60.0 / statistics.mean(r["seconds"] for r in run.rows)


def main() -> None:
    import tempfile

    from vla_eval.api import serve_background

    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--episodes-per-worker", type=int, default=2)
    ap.add_argument("--env", default="VLThink-Shape-v0")
    a = ap.parse_args()
    L, steps = a.latency, MAX_EPISODE_STEPS
    print(f"L = {a.latency * 1000:.0f} ms per call, {steps} steps an episode, env {a.env}")
    print(
        f"{'path':<10} {'workers':>7} {'ep/min':>8} {'ideal':>8} {'of ideal':>9}  (scene, server)"
    )
    for k in (1, 2):
        n = k * a.episodes_per_worker
        with tempfile.TemporaryDirectory() as d:
            scene = rate(Free(), a.env, k, n, d + "/free")
            model = ScriptedModel(latency_s=L, max_batch_size=k)
            with serve_background(model) as srv:
                ours = rate(load_policy("vla-eval", endpoint=srv.url), a.env, k, n, d + "/v")
            infer = lambda obs: {"actions": scripted_action(obs["observation/image"], 0)[None]}  # noqa: E731
            with OpenPIServer(infer=infer, latency_s=L) as srv:
                theirs = rate(
                    load_policy("openpi", endpoint=srv.url, replan_steps=1), a.env, k, n, d + "/o"
                )
        for path, got, capacity in (
            ("vla-eval", ours, k * 60 / (steps * L)),
            ("openpi", theirs, 60 / (steps * L)),
        ):
            ideal = min(scene, capacity)
            print(
                f"{path:<10} {k:>7} {got:>8.2f} {ideal:>8.2f} {got / ideal:>8.0%}  ({scene:.2f}, {capacity:.1f})"
            )


if __name__ == "__main__":
    main()
