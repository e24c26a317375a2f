"""``vlthink-eval``: run a policy on a suite, resume, summarize, pair against a baseline, merge.

    vlthink-eval --policy openvla-align --suite vl-think [--episodes 128] [--seed 0 1 2]
                 [--workers K] [--out DIR] [--baseline RUN_DIR] [--record-video]
                 [--sim-backend cpu|gpu] [--num-envs N] [--shard I/N] [--executor local|ray]
    vlthink-eval summary RUN_DIR [--baseline RUN_DIR]
    vlthink-eval merge OUT SHARD_DIR [SHARD_DIR ...]

``--suite`` takes ``vl-think``, ``ood``, ``all`` or env ids (several may be given).  The default
``--out`` is ``runs/<policy>/<suite>-seed<seeds>``, so rerunning the same command resumes the same
run: finished episodes are skipped, a truncated last line is repaired.  A run directory belongs to
one configuration (policy + settings, envs, episodes, seeds, backend, protocol); a command that
differs is refused rather than mixed into it.

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

from vlthink.errors import VLThinkError
from vlthink.harness import episodes, results, rundir
from vlthink.harness.executor import RunOptions, RunOutcome, make_executor
from vlthink.harness.results import HarnessError
from vlthink.harness.video import require_encoder
from vlthink.harness.worker import close_workers

#: Exit codes (also in ``--help`` and the README).
EXIT_OK = 0  # complete, no episode errored
EXIT_USER = 2  # bad input: unknown env or policy, bad file, corrupt results; nothing was run
EXIT_INCOMPLETE = 3  # stopped or left episodes (policy failed, env cannot be built): rerun
EXIT_ERRORED = 4  # complete, but some episodes' rows carry an error: rerun with --retry-errors
EXIT_INTERRUPTED = 130
EXIT_CODES_HELP = (
    "exit codes: 0 complete, no errored episode; 2 bad input (nothing run); 3 incomplete "
    "(stopped, or episodes left because the policy or the env could not run: rerun the same "
    "command to resume); 4 complete with errored episodes (rerun with --retry-errors); "
    "130 interrupted."
)


# --------------------------------------------------------------------------------------------
# tasks


def resolve_envs(specs: Sequence[str]) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Suite names / env ids -> env ids (in order, no repeats) and their suite/group table."""
    from vlthink.envs import ids  # not the registry: this process may never make an env

    try:
        env_ids = ids.resolve_suites(specs)
    except ids.UnknownEnvError as exc:
        raise HarnessError(f"{exc}. Fix: pass --suite with one of those") from None
    return env_ids, {i: dict(zip(("suite", "group"), ids.GROUPS[i])) for i in env_ids}


# --------------------------------------------------------------------------------------------
# progress


class Progress:
    """A total bar plus one bar per env showing episodes done and the running success rate."""

    def __init__(
        self, env_ids: list[str], planned: dict[str, int], done_rows: list[dict], enabled: bool
    ):
        from tqdm.auto import tqdm

        self.enabled = enabled
        self.bars: dict[str, Any] = {}
        self.k: dict[str, int] = {e: 0 for e in env_ids}
        self.n: dict[str, int] = {e: 0 for e in env_ids}
        for r in done_rows:
            if r["env"] in self.n:
                self.n[r["env"]] += 1
                self.k[r["env"]] += bool(r.get("success_once"))
        total = sum(planned.values())
        self.total = tqdm(
            total=total,
            initial=sum(self.n.values()),
            desc="all episodes",
            position=0,
            disable=not enabled,
            dynamic_ncols=True,
            leave=True,
        )
        width = max((len(e) for e in env_ids), default=10)
        for j, e in enumerate(env_ids, start=1):
            self.bars[e] = tqdm(
                total=planned.get(e, 0),
                initial=self.n[e],
                desc=e.ljust(width),
                position=j,
                disable=not enabled,
                dynamic_ncols=True,
                leave=True,
            )
            self._post(e)

    def _post(self, env: str) -> None:
        n = self.n[env]
        rate = f"{self.k[env] / n:.2f}" if n else "-"
        self.bars[env].set_postfix_str(f"success {rate}", refresh=False)

    def update(self, row: dict) -> None:
        e = row["env"]
        self.n[e] += 1
        self.k[e] += bool(row.get("success_once"))
        if self.enabled:
            self._post(e)
            self.bars[e].update(1)
            self.total.update(1)

    def close(self) -> None:
        for b in self.bars.values():
            b.close()
        self.total.close()


# --------------------------------------------------------------------------------------------
# commands


def _positive(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v


_H1_CHOICES = ("greater", "less", "two-sided")
DEFAULT_EPISODES = 128
DEFAULT_SEEDS = (0,)  # one seed by default; the paper's size is --protocol paper
#: --protocol name -> (episodes per cell, seeds) it stands for.
PROTOCOL_PRESETS = {"paper": (rundir.PAPER_EPISODES, rundir.PAPER_SEEDS)}

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
            type=int,
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


def load_policy(spec: str):
    from vlthink.policies.registry import PolicyConfigError
    from vlthink.policies.registry import load_policy as load

    try:
        return load(spec)
    except PolicyConfigError as exc:
        raise HarnessError(f"policy {spec!r}: {exc}") from None


def plan_from_args(args: argparse.Namespace) -> tuple[rundir.RunPlan, dict[str, dict[str, str]]]:
    """The run's plan and task table from the command line (bad combinations refused)."""
    if args.sim_backend == "cpu" and args.num_envs != 1:
        raise HarnessError("--num-envs needs --sim-backend gpu; on the CPU use --workers")
    if args.sim_backend == "gpu" and args.workers != 1:
        raise HarnessError(
            "--workers is for the CPU backend; with --sim-backend gpu use --num-envs"
        )
    try:
        shard = episodes.parse_shard(args.shard) if args.shard else None
    except ValueError as exc:
        raise HarnessError(str(exc)) from None
    env_ids, tasks = resolve_envs(args.suite)
    episodes_per_cell, seeds = run_size(args)
    plan = rundir.RunPlan(
        tuple(env_ids),
        episodes_per_cell,
        seeds,
        args.sim_backend,
        args.num_envs if args.sim_backend == "gpu" else 1,
        shard,
    )
    return plan, tasks


def run_size(args: argparse.Namespace) -> tuple[int, tuple[int, ...]]:
    """(episodes per cell, seeds) from --episodes / --seed / --protocol (a preset fixes both)."""
    preset = getattr(args, "protocol", None)
    if preset is None:
        episodes_ = args.episodes if args.episodes is not None else DEFAULT_EPISODES
        return episodes_, tuple(args.seed if args.seed is not None else DEFAULT_SEEDS)
    n, seeds = PROTOCOL_PRESETS[preset]
    given = [
        f"{flag} {value}"
        for flag, value, wanted in (
            ("--episodes", args.episodes, n),
            ("--seed", " ".join(map(str, args.seed or [])), " ".join(map(str, seeds))),
        )
        if value not in (None, "", wanted)
    ]
    if given:
        raise HarnessError(
            f"--protocol {preset} means {n} episodes x seeds {' '.join(map(str, seeds))}; "
            f"it cannot be combined with {' and '.join(given)}. Fix: drop one of them."
        )
    return n, seeds


def new_manifest(
    plan: rundir.RunPlan,
    tasks: dict,
    policy: Any,
    policy_spec: str,
    suite_specs: Sequence[str],
    argv: Sequence[str],
) -> rundir.Manifest:
    from vlthink.envs import PROTOCOL_VERSION
    from vlthink.policies.base import PolicyTraits
    from vlthink.provenance import environment_info

    return rundir.Manifest(
        plan=plan,
        tasks=tasks,
        policy={
            "name": policy.name,
            "spec": policy_spec,
            "kind": PolicyTraits.of(policy).kind,
            "config": dict(getattr(policy, "config", None) or {}),
        },
        command=plan.command(policy_spec, suite_specs),
        argv=["vlthink-eval", *argv],
        protocol_version=str(PROTOCOL_VERSION),
        provenance=environment_info(),
    )


def preflight(plan: rundir.RunPlan) -> None:
    """What every env of the plan needs, checked once (the robot download is tried once per run,
    not once per episode); a failure stops the run before anything is written."""
    from vlthink.scene.robot_asset import RobotAssetError, ensure_robot_asset

    try:
        ensure_robot_asset()
    except RobotAssetError as exc:
        raise RunStopped(f"cannot build {plan.envs[0]} (env_build): {exc}") from None


def check_policy(policy: Any, opts: RunOptions) -> None:
    """The policy's declared traits are honoured and fit the options (before any work)."""
    from vlthink.harness.executor import obs_mode_for

    try:
        obs_mode_for(policy, opts)
    except TypeError as exc:
        raise HarnessError(
            f"{exc}. Fix: implement it, or declare what the policy does "
            "(see vlthink.policies.base.PolicyBase)"
        ) from None


class RunStopped(HarnessError):
    """Infrastructure, not input: the run cannot go on (exit code 3, nothing recorded)."""


def run_options(args: argparse.Namespace, out: Path) -> RunOptions:
    return RunOptions(
        workers=args.workers,
        sim_backend=args.sim_backend,
        num_envs=args.num_envs,
        episode_timeout=args.episode_timeout,
        record_video=args.record_video,
        video_dir=out / "videos",
        video_of=args.video_of,
        video_first=args.video_first,
        max_policy_failures=args.max_policy_failures,
        stop_after=args.stop_after,
        obs_mode=None if args.obs_mode == "auto" else args.obs_mode,
    )


def execute(
    run: rundir.OpenRun,
    policy: Any,
    opts: RunOptions,
    progress: bool,
    remote: Any | None = None,
    workers: list | None = None,
) -> RunOutcome:
    """Run what is left of ``run`` and append each finished episode's row as it comes
    (``workers``: env worker processes already started, or None to start them here)."""
    todo = run.todo()
    bars = Progress(
        list(run.manifest.plan.envs), run.manifest.plan.per_env(), run.rows, enabled=progress
    )
    try:
        with results.RowWriter(run.rows_path) as writer:

            def emit(row: dict) -> None:
                writer.write(row)
                run.rows.append(row)
                bars.update(row)

            if not todo:
                return RunOutcome()
            if remote is not None:
                return remote(todo, opts, emit)
            extra = {"workers": workers} if workers else {}  # none for the GPU backend
            return make_executor(policy, opts, emit, **extra).run(todo)
    finally:
        bars.close()
        try:
            policy.close()
        except Exception:
            pass


def cmd_run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    # The env workers start first: their imports (torch, SAPIEN, ManiSkill) run while this
    # process imports the env registry, reads the plan and loads the policy.
    workers = early_workers(args)
    try:
        plan, tasks = plan_from_args(args)  # bad envs are refused before a policy is built
        return run_policy(args, argv, load_policy(args.policy), plan, tasks, workers)
    finally:
        close_workers(workers)  # the pool closed them already unless the run stopped early


def early_workers(args: argparse.Namespace) -> list:
    """The CPU run's worker processes, started now (none for the GPU or ray executors)."""
    if args.sim_backend != "cpu" or args.executor != "local":
        return []
    from vlthink.harness.executor import process_workers

    return process_workers(args.workers)


def run_policy(
    args: argparse.Namespace,
    argv: Sequence[str],
    policy: Any,
    plan: rundir.RunPlan,
    tasks: dict,
    workers: list | None = None,
) -> int:
    """The whole run of ``policy`` as ``args`` describe it; returns the exit code."""
    manifest = new_manifest(plan, tasks, policy, args.policy, args.suite, argv)
    if args.baseline is not None:  # refuse before hours of work
        from vlthink.harness import summary  # pandas: paid only where a table is made

        summary.check_pairable(
            manifest.to_json(), results.read_manifest(args.baseline), str(args.baseline)
        )
    out = args.out or plan.default_out(policy.name, args.suite)
    opts = run_options(args, out)
    check_policy(policy, opts)
    if opts.record_video:
        require_encoder()
    preflight(plan)
    session = {"argv": manifest.argv, "workers": args.workers, "executor": args.executor}
    with rundir.open_run(out, manifest, session, args.retry_errors) as run:
        for note in run.notes:
            print(f"vlthink-eval: {note}", file=sys.stderr)
        left = len(run.todo())
        if run.rows:
            print(
                f"vlthink-eval: resuming {out}: {len(plan.keys()) - left} of "
                f"{len(plan.keys())} episodes already finished, {left} to run",
                file=sys.stderr,
            )
        remote = None
        if args.executor == "ray":
            from vlthink.harness import ray_executor

            remote = ray_executor.runner(args.policy, policy.name)
        outcome = execute(run, policy, opts, not args.no_progress, remote, workers)
    return report(out, manifest.to_json(), run.rows, outcome, args.baseline, args.alternative)


def run_state(
    manifest: dict, rows: list[dict], outcome: RunOutcome | None = None
) -> tuple[int, str]:
    """(exit code, the closing line's state) of a run."""
    finished, planned = rundir.completeness(manifest, rows)
    errored = sum(1 for r in rows if r.get("error"))
    if finished < planned:
        why = ""
        if outcome is not None and outcome.stopped:
            why = f" because the run stopped: {outcome.stopped}"
        elif outcome is not None and outcome.left:
            kind = max(outcome.left, key=outcome.left.get)
            why = f" because the {kind.replace('_', ' ')} failed: {outcome.last_error[kind]}"
        return EXIT_INCOMPLETE, (
            f"incomplete: {planned - finished} of {planned} episodes not "
            f"run{why}; rerun the same command to resume"
        )
    if errored:
        return EXIT_ERRORED, (
            f"complete; {errored} episode(s) errored (their rows say why); "
            "rerun the same command with --retry-errors to run them again"
        )
    return EXIT_OK, "complete"


def report(
    out: Path,
    manifest: dict,
    rows: list,
    outcome: RunOutcome | None,
    baseline_dir: Path | None,
    alternative: str,
) -> int:
    from vlthink.harness import summary  # pandas: not in the workers' start-up

    baseline = rundir.load_run(baseline_dir) if baseline_dir is not None else None
    table = summary.summarize(manifest, rows, baseline, str(baseline_dir), alternative)
    summary.write_csv(table, Path(out) / results.SUMMARY_FILE)
    print(summary.format_table(table))
    note = rundir.size_note(manifest)
    if note:
        print("note: " + note)
    code, state = run_state(manifest, rows, outcome)
    # the closing line: on stderr when the run needs attention, so that scripts see it there
    print(
        f"\nrun {out}: {state}; table written to {Path(out) / results.SUMMARY_FILE}",
        file=sys.stderr if code else sys.stdout,
    )
    return code


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
    return report(a.run_dir, manifest, rows, None, a.baseline, a.alternative)


def cmd_merge(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(
        prog="vlthink-eval merge", description="Join shard run directories into one run directory."
    )
    p.add_argument("out", type=Path)
    p.add_argument("shards", type=Path, nargs="+")
    a = p.parse_args(argv)
    manifest, rows = rundir.merge_shards(a.out, a.shards)
    return report(a.out, manifest, rows, None, None, "greater")


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
