"""Episodes per minute through the vla-eval adapter and through the openpi path, real envs.

    python bench/bench_vla_eval.py [--latency 0.05] [--episodes-per-worker 6] [--in-flight 2]
                                   [--rounds 2] [--env VLThink-Shape-v0]

The same scripted model (``vlthink.testing.vla_eval_models.scripted_action``: the action from
the frame's brightness) sits behind vla-eval's own ``PredictModelServer`` (``max_batch_size`` =
workers, vla-eval's default ``max_wait_time``; asking for 224x224 frames, as a Bridge WidowX
server does) and behind the loopback openpi server (one call per observation, serialised like
one GPU; 224x224 frames too). Each server runs in its own process, as a deployed model server
does (in the bench's process its event loop would share the harness's interpreter lock). Every
model call takes ``L`` seconds in all, its own compute included (per batched call where the
server batches). One action per call on both paths. Each path runs with ``--in-flight`` N
episodes in flight per worker (N env processes per worker taking turns: one simulates while the
server answers another; ``vlthink-eval --in-flight``); ``--in-flight 1 2`` adds the rows of one.

Rates come from the rows' own ``seconds`` (reset to last step), in steady state: process
start is left out, and so is each slot's first episode, the one that builds its env (episodes
start in index order, one a free slot): ``slots * 60 / mean(seconds)`` over the others, with
``slots = workers * in_flight`` running their episodes back to back (so each slot must play
as many as the others: ``--episodes-per-worker`` a multiple of each in-flight count). Beside
them, the issue's ideal for ``L``: the slower of the bare scene (a policy that costs nothing,
same workers) and the server's capacity. The bare scene is timed both with one slot a worker and
with N taking turns; the faster of the two is the ideal's (so the turn-taking's own cost counts
against the in-flight rows). The machine's speed drifts by tens of percent over minutes (a
shared 2-core VM), so the whole set is timed ``--rounds`` times, interleaved, each path's ratio
taken against its own round's scene; printed are the medians (and the range of the ratio).
Printed last on each row, the serial bound of one episode in flight: a worker waits for its
answer before it steps, so each of its steps takes the bare scene's step time plus ``L``.
``busy``: the share of the run's time the env workers had work (``Evaluation.workers_busy``):
near 100%, the policy kept up and what is missing of the ideal is the scene's own speed (on a
shared machine, the CPU the request takes beside the scene); below, the workers waited for
answers.

The capacity is one request a ``L`` on openpi's server; on vla-eval's, up to ``workers`` a
``L`` (its ``max_batch_size``), whether or not its dispatch fills the batches.
vla-eval's ``PredictModelServer`` starts a batch as soon as one request waits and holds its
``max_wait_time`` window only after a batch has run (``vla_eval.model_servers.predict``,
``_dispatch_loop``), so a batch fills only with what arrived meanwhile; K slots that step
together (one in flight) are often served one request, then K - 1. The batch sizes each server
saw are printed, with the CPU it spent per observation.

A first table times the policy side alone (``policy.act`` on K 480x640 frames, no env): control
steps a second against the same servers, beside each server's capacity (``1 / L`` steps a second
on vla-eval's, K a call; ``1 / (K L)`` on openpi's).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time
from collections import Counter
from contextlib import contextmanager

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


def rate(
    policy, env: str, workers: int, episodes: int, tmp: str, in_flight: int = 1
) -> tuple[float, float]:
    """Episodes a minute (``workers * in_flight`` slots, each ``mean(seconds)`` an episode),
    and the share of the time the env workers had work (``Evaluation.workers_busy``)."""
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
    return slots * 60.0 / statistics.mean(steady), run.workers_busy


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
        # each server's capacity: vla-eval's takes K a call, openpi's one (module docstring)
        ideal = {"vla-eval": 1 / L, "openpi": 1 / (k * L)}
        for name in PATHS:
            with serving(name, L, k) as (policy, seen):
                got = act_rate(policy, k)
            print(f"{name:<10} {k:>7} {got:>8.2f} {ideal[name]:>8.2f} {got / ideal[name]:>8.0%}")
            print(f"{'':<10} {name} server calls (batch size: calls): {seen}")


def openpi_infer(obs: dict) -> dict:
    """The scripted model behind the openpi server: the same actions as behind vla-eval's."""
    return {"actions": scripted_action(obs["observation/image"], 0)[None]}


PATHS = ("vla-eval", "openpi")


@contextmanager
def _served(name: str, L: float, k: int):
    """``(url, calls)`` of a running ``name`` server; ``calls()``: {batch size: calls}."""
    if name == "vla-eval":
        from vla_eval.api import serve_background

        model = ScriptedModel(latency_s=L, max_batch_size=k, observation_params=BRIDGE)
        with serve_background(model) as srv:
            yield srv.url, lambda: dict(sorted(Counter(model.batch_sizes).items()))
    else:
        with OpenPIServer(infer=openpi_infer, latency_s=L) as srv:
            yield srv.url, lambda: {1: srv.model.requests}  # one observation a call


def _server(conn, name: str, L: float, k: int) -> None:
    """A server's own process (as a deployed model server runs): its URL, then, when the bench
    is done with it, the sizes of the calls it served and the CPU seconds it used."""
    with _served(name, L, k) as (url, calls):
        cpu = time.process_time()
        conn.send(url)
        conn.recv()
        conn.send((calls(), time.process_time() - cpu))


@contextmanager
def serving(name: str, L: float, k: int):
    """``(policy, seen)`` against a fresh ``name`` server in its own process; ``seen`` (batch
    size: calls, and the server's CPU milliseconds per observation once it listens) is
    filled when the server stops."""
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe()
    proc = ctx.Process(target=_server, args=(theirs, name, L, k), daemon=True)
    proc.start()
    seen: dict = {}  # batch size: calls, and "cpu ms/obs"
    try:
        if not ours.poll(120):
            raise RuntimeError(f"the {name} server did not start within 120 s")
        url = ours.recv()
        options = {"replan_steps": 1} if name == "openpi" else {}
        yield load_policy(name, endpoint=url, **options), seen
        ours.send("stop")
        sizes, cpu = ours.recv()
        seen.update(sizes)
        seen["cpu ms/obs"] = round(1000 * cpu / max(1, sum(n * c for n, c in sizes.items())), 2)
    finally:
        proc.join(10)
        if proc.is_alive():
            proc.kill()


def one_round(L: float, k: int, a, tmp: str) -> dict:
    """One round for ``k`` workers: the bare scene, then each path at each in-flight count."""
    n, out = k * a.episodes_per_worker, {}
    # the bare scene, one slot a worker and N slots taking turns: the faster is the ideal's
    # scene (turn-taking's own cost is not counted in the ideal)
    out["scene"] = [
        rate(Free(), a.env, k, n, f"{tmp}/free{i}", i)[0] for i in sorted({1, max(a.in_flight)})
    ]
    for name in PATHS:
        for i in a.in_flight:
            with serving(name, L, k) as (policy, seen):
                out[name, i], out[name, i, "busy"] = rate(
                    policy, a.env, k, n, f"{tmp}/{name}{i}", i
                )
            out[name, i, "seen"] = seen
    return out


def report(L: float, k: int, rounds: list[dict], in_flight: list[int]) -> None:
    """Median of the rounds for each row; ``of ideal`` is the median of each round's own ratio."""
    med = statistics.median
    steps = MAX_EPISODE_STEPS
    capacity = 60 / (steps * L)  # episodes a minute at one request a call
    scene = [max(r["scene"]) for r in rounds]
    # one slot a worker / N taking turns: what turn-taking alone costs the scene
    each = " / ".join(
        f"{med(r['scene'][j] for r in rounds):.2f}" for j in range(len(rounds[0]["scene"]))
    )
    step_s = k * 60 / (med(scene) * steps)
    serial = k * 60 / (steps * (step_s + L))  # a worker waits for its answer, then steps
    for name in PATHS:
        for i in in_flight:
            most = capacity * (k if name == "vla-eval" else 1)  # vla-eval's: k a batch
            got = [r[name, i] for r in rounds]
            ratios = [g / min(s, most) for g, s in zip(got, scene)]
            spread = f"{min(ratios):.0%}-{max(ratios):.0%}" if len(ratios) > 1 else ""
            busy = med(r[name, i, "busy"] for r in rounds)
            print(
                f"{name:<10} {k:>7} {i:>9} {med(got):>8.2f} {min(med(scene), most):>8.2f} "
                f"{med(ratios):>8.0%} {spread:>9} {busy:>6.0%}  (scene {med(scene):.2f} [{each}], "
                f"server {most:.1f}; serial {serial:.2f})"
            )
    for name in PATHS:
        for i in in_flight:
            print(
                f"{'':<10} {name}, {i} in flight, server calls (batch size: calls), each round: "
                + "; ".join(str(r[name, i, "seen"]) for r in rounds)
            )


def main() -> None:
    import tempfile

    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--episodes-per-worker", type=int, default=6)
    ap.add_argument(
        "--in-flight", type=int, nargs="+", default=[2], help="episodes in flight per worker"
    )
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds; medians printed")
    ap.add_argument("--env", default="VLThink-Shape-v0")
    ap.add_argument("--policy-side-only", action="store_true", help="only the first table")
    a = ap.parse_args()
    for i in a.in_flight:
        # every slot must play as many episodes as the others, two at least: a slot left to
        # run alone at the end is counted as if its siblings still ran (a rate up to N times)
        if a.episodes_per_worker % i or a.episodes_per_worker < 2 * i:
            ap.error(
                f"--episodes-per-worker {a.episodes_per_worker} must be a multiple of each "
                f"--in-flight count and at least twice it ({i}): e.g. 6 for --in-flight 2 3"
            )
    L = a.latency
    policy_side(L)
    if a.policy_side_only:
        return
    results: dict[int, list[dict]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as d:
        for r in range(a.rounds):  # rounds interleave, so the machine's drift hits every row
            for k in (1, 2):
                results[k].append(one_round(L, k, a, f"{d}/r{r}k{k}"))
    print(
        f"L = {L * 1000:.0f} ms per call, {MAX_EPISODE_STEPS} steps an episode, env {a.env}, "
        f"median of {a.rounds} rounds"
    )
    print(
        f"{'path':<10} {'workers':>7} {'in flight':>9} {'ep/min':>8} {'ideal':>8} {'of ideal':>9}"
        f" {'range':>9} {'busy':>6}"
    )
    for k in (1, 2):
        report(L, k, results[k], a.in_flight)


if __name__ == "__main__":
    main()
