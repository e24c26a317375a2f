"""``vlthink-eval``: run a policy on a suite, resume, summarize, pair against a baseline, merge.

    vlthink-eval --policy openvla-align --suite vl-think [--episodes 128] [--seed 0 1 2]
                 [--workers K] [--in-flight N] [--out DIR] [--baseline RUN_DIR] [--record-video]
                 [--sim-backend cpu|gpu] [--num-envs N] [--shard I/N] [--executor local|ray]
                 [--assets vlthink|original]
    vlthink-eval summary RUN_DIR [--baseline RUN_DIR]
    vlthink-eval merge OUT SHARD_DIR [SHARD_DIR ...]

``--suite`` takes ``vl-think``, ``ood``, ``all`` or env ids (several may be given).  The default
``--out`` is ``runs/<policy>/<suite>-seed<seeds>``, so rerunning the same command resumes the same
run: finished episodes are skipped, a truncated last line is repaired.  A run directory belongs to
one configuration (policy + settings, envs, episodes, seeds, backend, protocol, asset set); a
command that differs is refused rather than mixed into it.

A row is an episode's own outcome. User errors (unknown env id or policy, bad policy file,
corrupt results, mismatched baseline) print one ``vlthink-eval: error: ...`` line naming the
problem and the fix and exit with code 2. Failures that are not an episode's doing (the policy
failed, the env cannot be built) leave their episodes unrecorded: the run ends "incomplete" with
code 3 and the same command resumes it. A complete run whose rows carry errors (the env raised
or hung in that episode) exits with code 4; ``--retry-errors`` runs those again. Finished
episodes are never lost.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vlthink.assets.sets import ASSET_SETS, DEFAULT_ASSETS
from vlthink.errors import VLThinkError
from vlthink.harness import pipeline, rundir
from vlthink.harness.config import (
    ALTERNATIVES,
    DEFAULT_EPISODES,
    DEFAULT_SEEDS,
    PROTOCOL_PRESETS,
    EvalConfig,
    check_seed,
)
from vlthink.harness.pipeline import (  # noqa: F401  (the exit codes, as the CLI's)
    EXIT_ERRORED,
    EXIT_INCOMPLETE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USER,
    RunStopped,
    report,
    run_state,
)
from vlthink.harness.worker import close_workers

EXIT_CODES_HELP = (
    "exit codes: 0 complete, no errored episode; 2 bad input (nothing run); 3 incomplete "
    "(stopped, or episodes left because the policy or the env could not run: rerun the same "
    "command to resume); 4 complete with errored episodes (rerun with --retry-errors); "
    "130 interrupted."
)


# --------------------------------------------------------------------------------------------
# commands


def _positive(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v


def _seed(text: str) -> int:
    try:
        return check_seed(int(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


_H1_CHOICES = ALTERNATIVES

#: The options of a run, as (help group, flag, argparse keywords): one table, read by
#: :func:`build_parser`.
OPTIONS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "what to run",
        "--policy",
        dict(
            required=True,
            help="a name from policies/ (e.g. oracle, openvla-align), a .toml path, "
            "or an import string module:attr naming a policy class or factory",
        ),
    ),
    (
        "what to run",
        "--suite",
        dict(
            nargs="+",
            default=["vl-think"],
            metavar="SUITE_OR_ENV",
            help="vl-think, ood, all, or env ids (default: vl-think)",
        ),
    ),
    (
        "what to run",
        "--episodes",
        dict(
            type=_positive,
            default=None,
            help=f"episodes per (env, seed) cell (default {DEFAULT_EPISODES}, as the paper)",
        ),
    ),
    (
        "what to run",
        "--seed",
        dict(
            type=_seed,
            nargs="+",
            default=None,
            help="run seed(s); each makes one cell per env (mean ± SD is over seeds; "
            f"default {' '.join(map(str, DEFAULT_SEEDS))})",
        ),
    ),
    (
        "what to run",
        "--protocol",
        dict(
            choices=tuple(PROTOCOL_PRESETS),
            default=None,
            help="paper: the paper's run size, "
            f"{rundir.PAPER_EPISODES} episodes x seeds {' '.join(map(str, rundir.PAPER_SEEDS))}",
        ),
    ),
    ("what to run", "--sim-backend", dict(choices=("cpu", "gpu"), default="cpu")),
    (
        "what to run",
        "--shard",
        dict(
            default=None,
            metavar="I/N",
            help="run only shard I of N (join shards with `vlthink-eval merge`)",
        ),
    ),
    (
        "how to run",
        "--workers",
        dict(type=_positive, default=1, help="CPU env processes (default 1)"),
    ),
    (
        "how to run",
        "--in-flight",
        dict(
            type=_positive,
            default=1,
            metavar="N",
            help="episodes each worker keeps in flight (default 1): with N > 1, N env processes "
            "per worker take turns, one simulating while the policy answers another "
            "(a model server's latency hidden; policies with reset_slots)",
        ),
    ),
    (
        "how to run",
        "--num-envs",
        dict(type=_positive, default=1, help="sub-envs of one batched env with --sim-backend gpu"),
    ),
    (
        "how to run",
        "--executor",
        dict(
            choices=("local", "ray"),
            default="local",
            help="local processes, or shards over a Ray cluster (pip install vlthink[ray])",
        ),
    ),
    (
        "how to run",
        "--episode-timeout",
        dict(
            type=float,
            default=300.0,
            help="seconds before a hung episode's worker is killed (default 300)",
        ),
    ),
    (
        "how to run",
        "--max-policy-failures",
        dict(
            type=_positive,
            default=3,
            help="consecutive failing policy calls after which the run stops (default 3)",
        ),
    ),
    (
        "how to run",
        "--retry-errors",
        dict(action="store_true", help="run again the episodes whose rows carry an error"),
    ),
    (
        "how to run",
        "--obs-mode",
        dict(
            choices=("auto", "rgb", "state_dict"),
            default="auto",
            help="what the env renders: auto (camera frames unless the policy never uses them), "
            "or force one (benchmarks); results do not depend on it",
        ),
    ),
    (
        "what to run",
        "--assets",
        dict(
            choices=ASSET_SETS,
            default=DEFAULT_ASSETS,
            help="what the scenes are drawn with: vlthink (our own art, the default) or original "
            "(the paper's asset pack; `vlthink assets fetch original` installs it). Same envs, "
            "rules and seeds; runs on different sets are never paired or published together",
        ),
    ),
    ("how to run", "--stop-after", dict(type=int, default=None, help=argparse.SUPPRESS)),
    (
        "output",
        "--out",
        dict(
            type=Path,
            default=None,
            help="run directory (default runs/<policy>/<suite>-seed<seeds>)",
        ),
    ),
    (
        "output",
        "--baseline",
        dict(
            type=Path,
            default=None,
            help="a run directory to test this run against (paired Wilcoxon, McNemar)",
        ),
    ),
    (
        "output",
        "--alternative",
        dict(
            choices=_H1_CHOICES,
            default="greater",
            help="H1 of the paired tests: this run is greater (better) than the baseline",
        ),
    ),
    (
        "output",
        "--adjust",
        dict(
            choices=("holm", "bh"),
            default="holm",
            help="adjusted p-values over the cells of a baseline comparison: holm "
            "(family-wise error, default) or bh (Benjamini-Hochberg false discovery rate)",
        ),
    ),
    (
        "output",
        "--stop-when-decided",
        dict(
            action="store_true",
            help="with --baseline: play each env in blocks and stop it once a sequential "
            "paired test decides (better / worse / no difference); unplayed episodes are not "
            "rows, and the same command without the flag completes them",
        ),
    ),
    (
        "output",
        "--alpha",
        dict(type=float, default=0.05, help="the sequential test's error rate (default 0.05)"),
    ),
    (
        "output",
        "--block",
        dict(
            type=_positive,
            default=16,
            help="episodes per env between the sequential test's looks (default 16)",
        ),
    ),
    (
        "output",
        "--record-video",
        dict(action="store_true", help="save per-episode MP4s (H.264) in OUT/videos/<env>/"),
    ),
    (
        "output",
        "--video-of",
        dict(
            choices=("all", "failures"),
            default="all",
            help="with --record-video: keep the videos of all episodes or of failures only",
        ),
    ),
    (
        "output",
        "--video-first",
        dict(
            type=_positive,
            default=None,
            metavar="K",
            help="with --record-video: only episodes 0..K-1 of each (env, seed) cell",
        ),
    ),
    ("output", "--no-progress", dict(action="store_true", help="no progress bars")),
]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vlthink-eval",
        description="Evaluate a policy on the vlthink suites (resumable, batched, paired tests).",
        epilog="Subcommands: `vlthink-eval summary RUN_DIR [--baseline DIR]`, "
        "`vlthink-eval merge OUT SHARD_DIR...`. " + EXIT_CODES_HELP,
    )
    groups: dict[str, Any] = {}
    for group, flag, kwargs in OPTIONS:
        if group not in groups:
            groups[group] = p.add_argument_group(group)
        groups[group].add_argument(flag, **kwargs)
    return p


def config_from_args(args: argparse.Namespace, argv: Sequence[str] = ()) -> EvalConfig:
    """The parsed command line as the pipeline's typed config (bad combinations refused)."""
    return EvalConfig.build(
        args.policy,
        suite=args.suite,
        episodes=args.episodes,
        seeds=args.seed,
        protocol=args.protocol,
        shard=args.shard,
        sim_backend=args.sim_backend,
        num_envs=args.num_envs,
        workers=args.workers,
        in_flight=args.in_flight,
        executor=args.executor,
        episode_timeout=args.episode_timeout,
        max_policy_failures=args.max_policy_failures,
        retry_errors=args.retry_errors,
        obs_mode=args.obs_mode,
        assets=args.assets,
        stop_after=args.stop_after,
        out=args.out,
        baseline=args.baseline,
        alternative=args.alternative,
        adjustment=args.adjust,
        stop_when_decided=args.stop_when_decided,
        alpha=args.alpha,
        block=args.block,
        record_video=args.record_video,
        video_of=args.video_of,
        video_first=args.video_first,
        progress=not args.no_progress,
        argv=tuple(argv),
    )


def plan_from_args(args: argparse.Namespace) -> tuple[rundir.RunPlan, dict[str, dict[str, str]]]:
    """The run's plan and task table from the command line (bad combinations refused)."""
    config = config_from_args(args)
    return config.plan, {k: dict(v) for k, v in config.tasks.items()}


def cmd_run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    # The env workers start first: their imports (torch, SAPIEN, ManiSkill) run while this
    # process imports the env registry, reads the plan and loads the policy.
    workers = early_workers(args)
    try:
        config = config_from_args(args, argv)  # bad envs are refused before a policy is built
        return pipeline.run(config, workers=workers).code
    finally:
        close_workers(workers)  # the pool closed them already unless the run stopped early


def early_workers(args: argparse.Namespace) -> list:
    """The CPU run's worker processes, started now (none for the GPU or ray executors)."""
    if args.sim_backend != "cpu" or args.executor != "local":
        return []
    from vlthink.harness.executor import process_workers

    return process_workers(args.workers * args.in_flight)


def cmd_summary(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(
        prog="vlthink-eval summary",
        description="Print and write the summary of a run directory.",
        epilog=EXIT_CODES_HELP,
    )
    p.add_argument("run_dir", type=Path)
    p.add_argument("--baseline", type=Path, default=None)
    p.add_argument("--alternative", choices=_H1_CHOICES, default="greater")
    a = p.parse_args(argv)
    manifest, rows = rundir.load_run(a.run_dir)
    return report(a.run_dir, manifest, rows, None, a.baseline, a.alternative)[0]


def cmd_merge(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(
        prog="vlthink-eval merge", description="Join shard run directories into one run directory."
    )
    p.add_argument("out", type=Path)
    p.add_argument("shards", type=Path, nargs="+")
    a = p.parse_args(argv)
    manifest, rows = rundir.merge_shards(a.out, a.shards)
    return report(a.out, manifest, rows, None, None, "greater")[0]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"merge": cmd_merge, "summary": cmd_summary}
    try:
        if argv and argv[0] in commands:
            return commands[argv[0]](argv[1:])
        return cmd_run(build_parser().parse_args(argv), argv)
    except RunStopped as exc:
        print(f"vlthink-eval: stopped: {exc}", file=sys.stderr)
        return EXIT_INCOMPLETE
    except VLThinkError as exc:
        print(f"vlthink-eval: error: {exc}", file=sys.stderr)
        return EXIT_USER
    except KeyboardInterrupt:
        print(
            "vlthink-eval: interrupted; finished episodes are saved - rerun the same command "
            "to resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
