"""Episodes per minute through the vla-eval adapter and through the openpi path, real envs.

    python bench/bench_vla_eval.py [--latency 0.05] [--episodes-per-worker 4] [--in-flight 2]
                                   [--env VLThink-Shape-v0]

The same scripted model (``vlthink.testing.vla_eval_models.scripted_action``: the action from
the frame's brightness) sits behind vla-eval's own ``PredictModelServer`` (``max_batch_size`` =
workers; asking for 224x224 frames, as a Bridge WidowX server does) and behind the loopback
openpi server (one call per observation, serialised like one GPU; 224x224 frames too). Every
model call takes ``L`` seconds in all, its own compute included (per batched call where the
server batches).
One action per call on both paths. Each path runs with one episode in flight per worker and
with ``--in-flight`` N (N env processes per worker taking turns: one simulates while the server
answers another; ``vlthink-eval --in-flight``).

Rates come from the rows' own ``seconds`` (reset to last step), in steady state: process
start is left out, and so is each slot's first episode, the one that builds its env (episodes
start in index order, one a free slot): ``slots * 60 / mean(seconds)`` over the others, with
``slots = workers * in_flight`` running their episodes back to back. Beside
them, the issue's ideal for ``L``: the slower of the bare scene (a policy that costs nothing,
same workers) and the server's capacity. The bare scene is timed both with one slot a worker and
with N taking turns; the faster of the two is the ideal's (so the turn-taking's own cost counts
against the in-flight rows). Printed last, the serial bound
of one episode in flight: a worker waits for its answer before it steps, so each of its steps
takes the bare scene's step time plus ``L``.

The capacity is the server's as it dispatches, not ``K / L``: vla-eval's ``PredictModelServer``
starts a batch as soon as one request waits and holds its ``max_wait_time`` window only after a
batch has run (``vla_eval.model_servers.predict``, ``_dispatch_loop``). Slots that each wait
for their own answer therefore alternate in batches of one (one request a ``L``, like openpi's
server), and K slots that step together are served in two batches a step (1, then K - 1):
``1 / (2 L)`` steps a second for K >= 2. The batch sizes the server saw are printed.

A first table times the policy side alone (``policy.act`` on K 480x640 frames, no env): control
steps a second against the same servers, beside that ideal.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter

import numpy as np

import vlthink
from vlthink.policies.base import PolicyBase
from vlthink.policies.registry import load_policy
from vlthink.scene.timing import MAX_EPISODE_STEPS
from vlthink.testing.servers import OpenPIServer
from vlthink.testing.vla_eval_models import ScriptedModel, scripted_action

# what a Bridge WidowX model server asks for; the openpi path sends the same (its image_size)
BRIDGE = {"image_size": [224, 224]}


class Free(PolicyBase):
    """The bare scene: an action that costs nothing."""

    name = "free"
    per_slot_reset = True

    def reset_slots(self, slots, episodes):
        pass

    def act(self, observations):
        return np.zeros((len(observations), 7), np.float32)


def rate(policy, env: str, workers: int, episodes: int, tmp: str, in_flight: int = 1) -> float:
    """Episodes a minute: ``workers * in_flight`` slots, each ``mean(seconds)`` an episode."""
    run = vlthink.evaluate(
        policy,
        suite=env,
        episodes=episodes,
        seeds=[0],
        out=tmp,
        workers=workers,
        in_flight=in_flight,
        progress=False,
    )
    assert run.exit_code == 0, run.exit_code
    # steady state: episodes start in index order, one a free slot, so the first of each slot
    # (the one that builds its env) are episodes 0 .. slots - 1
    slots = workers * in_flight
    steady = [r["seconds"] for r in run.rows if r["episode"] >= slots]
    assert steady, f"run more than {slots} episodes"
    return slots * 60.0 / statistics.mean(steady)


def act_rate(policy, k: int, steps: int = 40) -> float:
    from vlthink.policies.base import EpisodeSpec, Observation

    frame = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    policy.reset([EpisodeSpec("VLThink-Shape-v0", i, 0) for i in range(k)])
    obs = [Observation(frame, "put carrot on pentagon", 0)] * k
    policy.act(obs)  # connections
    t = time.perf_counter()
    for _ in range(steps):
        policy.act(obs)
    dt = time.perf_counter() - t
    policy.close()
    return steps / dt


def policy_side(L: float) -> None:
    print(
        f"{'path':<10} {'workers':>7} {'steps/s':>8} {'ideal':>8} {'of ideal':>9}   (policy side only)"
    )
    for k in (1, 2):
        # vla-eval: lock-step slots meet its server in batches of 1 then K - 1 (module docstring)
        ideal = {"vla-eval": 1 / L if k == 1 else 1 / (2 * L), "openpi": 1 / (k * L)}
        for name, serve in paths(L, k):
            with serve() as policy:  # the row, then what the server saw (at its exit)
                got = act_rate(policy, k)
                print(
                    f"{name:<10} {k:>7} {got:>8.2f} {ideal[name]:>8.2f} {got / ideal[name]:>8.0%}"
                )


def openpi_infer(obs: dict) -> dict:
    """The scripted model behind the openpi server: the same actions as behind vla-eval's."""
    return {"actions": scripted_action(obs["observation/image"], 0)[None]}


def paths(L: float, k: int):
    """(name, a context manager yielding the policy) for each path, against a fresh server."""
    from contextlib import contextmanager

    from vla_eval.api import serve_background

    @contextmanager
    def vla_eval():
        model = ScriptedModel(latency_s=L, max_batch_size=k, observation_params=BRIDGE)
        with serve_background(model) as srv:
            yield load_policy("vla-eval", endpoint=srv.url)
        sizes = dict(sorted(Counter(model.batch_sizes).items()))
        print(f"{'':<10} vla-eval batch sizes (size: calls): {sizes}")

    @contextmanager
    def openpi():
        with OpenPIServer(infer=openpi_infer, latency_s=L) as srv:
            yield load_policy("openpi", endpoint=srv.url, replan_steps=1)

    return (("vla-eval", vla_eval), ("openpi", openpi))


def main() -> None:
    import tempfile

    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--episodes-per-worker", type=int, default=6)
    ap.add_argument("--in-flight", type=int, default=2, help="episodes in flight per worker")
    ap.add_argument("--env", default="VLThink-Shape-v0")
    ap.add_argument("--policy-side-only", action="store_true", help="only the second table")
    a = ap.parse_args()
    L, steps, n_in = a.latency, MAX_EPISODE_STEPS, a.in_flight
    policy_side(L)
    if a.policy_side_only:
        return
    print(f"L = {L * 1000:.0f} ms per call, {steps} steps an episode, env {a.env}")
    print(
        f"{'path':<10} {'workers':>7} {'in flight':>9} {'ep/min':>8} {'ideal':>8} {'of ideal':>9}"
        "  (scene, server; serial bound)"
    )
    capacity = 60 / (steps * L)  # one request a call on both servers: see the docstring
    for k in (1, 2):
        n = k * a.episodes_per_worker
        with tempfile.TemporaryDirectory() as d:
            # the bare scene, one slot a worker and in_flight slots taking turns: the faster is
            # the ideal's scene (turn-taking's own cost is not counted in the ideal)
            scenes = [rate(Free(), a.env, k, n, f"{d}/free{i}", i) for i in (1, n_in)]
            scene = max(scenes)
            step_s = k * 60 / (scene * steps)
            serial = k * 60 / (steps * (step_s + L))  # a worker waits for its answer, then steps
            for name, serve in paths(L, k):
                for i in (1, n_in):
                    # slots asking at once reach vla-eval's server together: up to k a batch
                    most = capacity * (k if name == "vla-eval" and i > 1 else 1)
                    ideal = min(scene, most)
                    with serve() as policy:  # the row, then what the server saw (at its exit)
                        got = rate(policy, a.env, k, n, f"{d}/{name}{i}", i)
                        print(
                            f"{name:<10} {k:>7} {i:>9} {got:>8.2f} {ideal:>8.2f} "
                            f"{got / ideal:>8.0%}  ({scene:.2f} [{scenes[0]:.2f} / "
                            f"{scenes[1]:.2f}], {most:.1f}; {serial:.2f})"
                        )


if __name__ == "__main__":
    main()
