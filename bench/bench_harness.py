"""Harness overhead: the oracle through ``vlthink-eval`` against the bare env loop.

    MS_ASSET_DIR=/work/shared/maniskill python bench/bench_harness.py [--env ENV] [--episodes 16]

Measures, on the same env and episodes (same episode seeds):

1. **bare loop** - one process: ``env.reset(seed=episode_seed(...))``, ``policy.reset``, then
   ``policy.act`` / ``env.step`` until the env ends the episode.  No files, no IPC.  It runs as
   a subprocess timed from its launch, as the harness is: both pay Python's start and the imports
   of torch, SAPIEN and ManiSkill once.
2. **harness, 1 worker** - ``vlthink-eval --policy oracle --workers 1`` as a subprocess.
3. **harness, 2 workers** - the same with ``--workers 2``.
4. **2 bare loops at once** - two bare-loop processes side by side, each on half the episodes,
   with the thread settings of the harness's workers (one torch thread, lavapipe on every core):
   the most any two-process scheme can get out of this machine.  Their rates are added.

Every loop renders what an image policy needs (``--obs-mode rgb``, the default; the harness is
forced to it, since the oracle alone would let it skip the render) or nothing
(``--obs-mode state_dict``).

For each: *steady-state* episodes/minute, timed from the end of the first episode(s) to the end
of the last one (episodes that end within a second of the first, i.e. a whole first round of
workers, are left out of the count), so process start-up, imports and env construction - a fixed
cost of a few seconds per run - are excluded; and the *end-to-end* rate including them.  The
harness's episode end times are taken when its row appears in ``episodes.jsonl`` (polled every
20 ms).  Goals (issue 17): harness (1 worker) >= 90% of the bare loop end to end; 2 workers >= 90%
of the two bare loops at once.  Results are printed and written as JSON (``--json PATH``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def bare_loop(env_id: str, episodes: int, seed: int, obs_mode: str, first: int = 0) -> dict:
    """The loop itself, in this process; ``ends`` are wall-clock times (time.time())."""
    import gymnasium as gym
    import torch

    import vlthink  # noqa: F401
    from vlthink.harness.bridge import episode_tasks, policy_observations
    from vlthink.harness.episodes import episode_seed
    from vlthink.policies.base import EpisodeSpec
    from vlthink.policies.registry import load_policy

    torch.set_num_threads(1)  # as the harness's workers do, so the ratio measures overhead only
    t_start = time.perf_counter()
    policy = load_policy("oracle")
    env = gym.make(env_id, obs_mode=obs_mode, sim_backend="cpu", num_envs=1)
    ends, successes, steps = [], 0, 0
    for ep in range(first, first + episodes):
        obs, _ = env.reset(seed=episode_seed(env_id, ep, seed))
        task = episode_tasks(env)[0]
        policy.reset([EpisodeSpec(env_id, ep, seed, task["instruction"], task)])
        ok = False
        while True:
            action = policy.act(policy_observations(env, obs))
            obs, _r, term, trunc, info = env.step(action)
            steps += 1
            ok = ok or bool(info["success"][0])
            if bool(term[0]) or bool(trunc[0]):
                break
        successes += ok
        ends.append(time.time())
    env.close()
    return {"ends": ends, "successes": successes, "steps": steps, "loop_start": t_start}


def parallel_bare(env_id: str, episodes: int, seed: int, obs_mode: str, procs: int = 2) -> dict:
    """``procs`` bare loops at once in separate processes, each on its share of the episodes,
    timed from their launch."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    share = episodes // procs
    t_start = time.time()
    running = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--env",
                env_id,
                "--episodes",
                str(share),
                "--seed",
                str(seed),
                "--obs-mode",
                obs_mode,
                "--bare-only",
                str(k * share),
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for k in range(procs)
    ]
    parts = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in running]
    label = "bare loop" if procs == 1 else f"{procs} bare loops at once"
    each = [_rates(label, t_start, r["ends"], r["successes"], r["steps"]) for r in parts]
    ends = sorted(t for r in parts for t in r["ends"])
    res = _rates(label, t_start, ends, sum(r["successes"] for r in parts), 0)
    res["steps"] = sum(r["steps"] for r in parts)
    res["steady_eps_per_min"] = sum(r["steady_eps_per_min"] for r in each)
    return res


def harness(env_id: str, episodes: int, seed: int, workers: int, obs_mode: str) -> dict:
    out = Path(tempfile.mkdtemp(prefix="vlthink-bench-"))
    rows = out / "episodes.jsonl"
    cmd = [
        sys.executable,
        "-m",
        "vlthink.harness.cli",
        "--policy",
        "oracle",
        "--suite",
        env_id,
        "--episodes",
        str(episodes),
        "--seed",
        str(seed),
        "--workers",
        str(workers),
        "--out",
        str(out),
        "--no-progress",
        "--obs-mode",
        obs_mode,
    ]
    t_start = time.time()
    proc = subprocess.Popen(
        cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    ends: list[float] = []
    seen = 0
    while True:
        done = proc.poll() is not None
        if rows.exists():
            n = rows.read_bytes().count(b"\n")
            now = time.time()
            ends += [now] * (n - seen)
            seen = n
        if done:
            break
        time.sleep(0.02)
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"vlthink-eval failed ({proc.returncode}):\n{stderr[-3000:]}")
    data = [json.loads(line) for line in rows.read_text().splitlines()]
    successes = sum(r["success_once"] for r in data)
    steps = sum(r["steps"] for r in data)
    errors = sum(1 for r in data if r["error"])
    res = _rates(f"harness, {workers} worker(s)", t_start, ends, successes, steps)
    res["errors"] = errors
    return res


def _rates(label: str, t_start: float, ends: list[float], successes: int, steps: int) -> dict:
    n = len(ends)
    # A round of K workers ends K episodes at once: count only those that end after it.
    later = [t for t in ends if t > ends[0] + 1.0] if n else []
    steady = len(later) / (ends[-1] - ends[0]) * 60 if later else float("nan")
    return {
        "label": label,
        "episodes": n,
        "success_rate": successes / max(n, 1),
        "steps": steps,
        "steady_eps_per_min": steady,
        "end_to_end_eps_per_min": n / (ends[-1] - t_start) * 60 if n else float("nan"),
        "wall_s": (ends[-1] - t_start) if n else float("nan"),
    }


def _median(runs: tuple[dict, ...]) -> dict:
    """Each figure's median over the repeats (one run: that run)."""
    out = dict(runs[0])
    for k in ("steady_eps_per_min", "end_to_end_eps_per_min", "wall_s", "success_rate"):
        vals = sorted(r[k] for r in runs)
        mid = len(vals) // 2
        out[k] = vals[mid] if len(vals) % 2 else (vals[mid - 1] + vals[mid]) / 2
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--env", default=None, help="env id (default: the first VL-Think env)")
    p.add_argument("--episodes", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the four set-ups in turn this many times and report each figure's median",
    )
    p.add_argument(
        "--obs-mode",
        choices=("rgb", "state_dict"),
        default="rgb",
        help="rgb: render the camera every step, as for an image policy (default)",
    )
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--bare-only", type=int, default=None, metavar="FIRST", help=argparse.SUPPRESS)
    a = p.parse_args()
    os.environ.setdefault("MS_ASSET_DIR", str(REPO.parent / "shared" / "maniskill"))
    import vlthink

    env_id = a.env or next(iter(vlthink.VL_THINK_TASKS))
    if a.bare_only is not None:  # one process of parallel_bare
        print(json.dumps(bare_loop(env_id, a.episodes, a.seed, a.obs_mode, first=a.bare_only)))
        return 0
    # the four take turns (--repeat) so that drifting machine load hits them alike
    rounds = []
    for _ in range(a.repeat):
        rounds.append(
            [
                parallel_bare(env_id, a.episodes, a.seed, a.obs_mode, procs=1),
                harness(env_id, a.episodes, a.seed, 1, a.obs_mode),
                harness(env_id, a.episodes, a.seed, 2, a.obs_mode),
                parallel_bare(env_id, a.episodes, a.seed, a.obs_mode),
            ]
        )
    bare, one, two, ceiling = results = [_median(runs) for runs in zip(*rounds)]
    summary = {
        "env": env_id,
        "episodes": a.episodes,
        "obs_mode": a.obs_mode,
        "cpus": os.cpu_count(),
        "results": results,
        "all_runs": [r for rnd in rounds for r in rnd],
        "harness_1w_vs_bare": one["steady_eps_per_min"] / bare["steady_eps_per_min"],
        "speedup_2w_vs_1w": two["steady_eps_per_min"] / one["steady_eps_per_min"],
        "ceiling_2_bare_vs_1_bare": ceiling["steady_eps_per_min"] / bare["steady_eps_per_min"],
        "load_average": os.getloadavg(),
    }
    print(
        f"env {env_id}, obs_mode {a.obs_mode}, {a.episodes} episodes each, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} (other processes distort every figure)"
    )
    print(
        f"{'':24s} {'steady ep/min':>14s} {'end-to-end ep/min':>18s} {'wall s':>8s} {'success':>8s}"
    )
    for r in results:
        print(
            f"{r['label']:24s} {r['steady_eps_per_min']:14.1f} "
            f"{r['end_to_end_eps_per_min']:18.1f} {r['wall_s']:8.1f} {r['success_rate']:8.2f}"
        )
    print(f"harness (1 worker) / bare loop: {summary['harness_1w_vs_bare']:.1%}  (goal >= 90%)")
    print(f"2 workers / 1 worker: {summary['speedup_2w_vs_1w']:.2f}x  (goal >= 1.7x)")
    e2e = {k: r["end_to_end_eps_per_min"] for k, r in zip(("bare", "one", "two", "ceil"), results)}
    print(
        f"end to end: harness (1 worker) / bare loop {e2e['one'] / e2e['bare']:.1%}, "
        f"2 workers / 2 bare loops {e2e['two'] / e2e['ceil']:.1%}  (goals >= 90%)"
    )
    print(
        f"steady: 2 workers / 2 bare loops {two['steady_eps_per_min'] / ceiling['steady_eps_per_min']:.1%}"
        "  (goal >= 90%)"
    )
    print(
        f"ceiling, 2 bare loops at once / 1 bare loop: {summary['ceiling_2_bare_vs_1_bare']:.2f}x"
    )
    if a.json:
        a.json.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
