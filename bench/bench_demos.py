"""Recording cost: ``vlthink demos`` against ``vlthink-eval`` on the same oracle episodes.

    MS_ASSET_DIR=/work/shared/maniskill python bench/bench_demos.py [--episodes 12] [--workers 2]
        [--format v2.1 v3.0]

Both run the oracle on ``--env`` with ``--workers`` processes and camera frames rendered
(``vlthink-eval --obs-mode rgb``): the harness on run seed ``DEMO_SEED_BASE + seed``, so its
episodes are exactly the recorder's attempts (every oracle attempt on the training split
succeeds, so the recorder makes no extra ones; the script checks). Reported, for each:
end-to-end episodes/minute (process start to exit) and steady-state episodes/minute (from the
first finished episode to the last: rows in ``episodes.jsonl`` / ``total_episodes`` in
``meta/info.json``, polled every 50 ms), the recorder's overhead, and the dataset's size on disk
per 100 episodes. Goal: recording costs <= 25% more than the harness. ``--format`` records
the same episodes once per LeRobot version asked (v2.1: a file per episode; v3.0: episodes
appended to shared files), side by side. ``--json PATH`` writes the numbers.
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
POLL = 0.05  # s


def _count_rows(out: Path) -> int:
    path = out / "episodes.jsonl"
    return path.read_text().count("\n") if path.exists() else 0


def _count_episodes(out: Path) -> int:
    path = out / "meta/info.json"
    try:
        return int(json.loads(path.read_text())["total_episodes"])
    except (OSError, ValueError, KeyError):
        return 0


def timed(label: str, cmd: list[str], out: Path, count) -> dict:
    """Run ``cmd``; the time each new finished episode appeared."""
    env = {**os.environ, "MS_SKIP_ASSET_DOWNLOAD_PROMPT": "1"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    ends, seen = [], 0
    while proc.poll() is None:
        n = count(out)
        ends += [time.perf_counter()] * (n - seen)
        seen = max(seen, n)
        time.sleep(POLL)
    n = count(out)
    ends += [time.perf_counter()] * (n - seen)
    total = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{label} failed ({proc.returncode}): {proc.stderr.strip()[-800:]}")
    # steady state: from the first finished episode (a whole first round of workers ends within
    # a second of it) to the last
    first = ends[0]
    later = [t for t in ends if t > first + 1.0]
    steady = 60 * len(later) / (later[-1] - first) if later else float("nan")
    return {
        "label": label,
        "episodes": len(ends),
        "seconds": round(total, 1),
        "end_to_end_per_min": round(60 * len(ends) / total, 2),
        "steady_per_min": round(steady, 2),
    }


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def record(a, out: Path, fmt: str, common: list[str], harness: dict) -> dict:
    """One ``vlthink demos --format FMT`` of the harness's episodes, timed and sized."""
    demos = timed(
        f"recorder (vlthink demos, {fmt})",
        [sys.executable, "-m", "vlthink.cli", "demos", "--suite", a.env, "--seed", str(a.seed)]
        + ["--format", fmt, "--out", str(out), *common],
        out,
        _count_episodes,
    )
    info = json.loads((out / "meta/info.json").read_text())
    return {
        "demos": demos,
        "attempts": (out / "meta/vlthink/attempts.jsonl").read_text().count("\n"),
        "steady_overhead": round(harness["steady_per_min"] / demos["steady_per_min"] - 1, 3),
        "end_to_end_overhead": round(
            harness["end_to_end_per_min"] / demos["end_to_end_per_min"] - 1, 3
        ),
        "frames": info["total_frames"],
        "mb_per_100_episodes": round(du(out) / 1e6 * 100 / a.episodes, 1),
        "videos_mb_per_100_episodes": round(du(out / "videos") / 1e6 * 100 / a.episodes, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--env", default="VLThink-OOD-Train-v0")
    ap.add_argument("--episodes", type=int, default=12)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--format", nargs="+", choices=("v2.1", "v3.0"), default=["v2.1", "v3.0"])
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    from vlthink.demos.record import DEMO_SEED_BASE

    tmp = Path(tempfile.mkdtemp(prefix="bench_demos_"))
    common = ["--episodes", str(a.episodes), "--workers", str(a.workers), "--no-progress"]
    harness = timed(
        "harness (vlthink-eval, rgb)",
        [
            sys.executable,
            "-m",
            "vlthink.harness.cli",
            "--policy",
            "oracle",
            "--suite",
            a.env,
            "--seed",
            str(DEMO_SEED_BASE + a.seed),
            "--obs-mode",
            "rgb",
            "--out",
            str(tmp / "eval"),
            *common,
        ],
        tmp / "eval",
        _count_rows,
    )
    result = {"env": a.env, "workers": a.workers, "episodes": a.episodes, "harness": harness}
    for fmt in a.format:
        result[fmt] = record(a, tmp / f"ds-{fmt}", fmt, common, harness)
    for run in [harness] + [result[fmt]["demos"] for fmt in a.format]:
        print(
            f"{run['label']:<36} {run['episodes']:>3} episodes in {run['seconds']:>6.1f} s: "
            f"{run['end_to_end_per_min']:.2f}/min end to end, {run['steady_per_min']:.2f}/min "
            "steady"
        )
    for fmt in a.format:
        r = result[fmt]
        print(
            f"{fmt}: recording costs {100 * r['steady_overhead']:+.1f}% (steady), "
            f"{100 * r['end_to_end_overhead']:+.1f}% (end to end); {r['attempts']} attempts; "
            f"{r['mb_per_100_episodes']} MB per 100 episodes "
            f"({r['videos_mb_per_100_episodes']} MB of it video), {r['frames']} frames"
        )
    if a.json:
        a.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
