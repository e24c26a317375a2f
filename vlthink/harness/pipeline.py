"""The run pipeline behind every door: plan -> preflight -> open -> execute -> report.

``vlthink-eval`` (:mod:`vlthink.harness.cli`) parses argv into an
:class:`~vlthink.harness.config.EvalConfig`; ``vlthink.evaluate`` (:mod:`vlthink.harness.api`)
builds one from keywords; both call :func:`run`. What needs the policy is resolved here once
(:func:`prepare`): its traits (``PolicyTraits.of``, which pickles a policy that runs in the
workers), the observation mode, the run directory, the manifest (which records both). Nothing
is built or written before :func:`prepare` has passed.

Exit codes: 0 complete, 2 bad input (nothing run), 3 incomplete (rerun to resume), 4 complete
with errored episodes (``--retry-errors``), 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from vlthink.harness import results, rundir
from vlthink.harness.config import EvalConfig
from vlthink.harness.executor import (
    RunOptions,
    RunOutcome,
    check_in_flight,
    make_executor,
    needs_main,
    obs_mode_for,
)
from vlthink.harness.progress import Progress
from vlthink.harness.results import HarnessError
from vlthink.harness.stopping import Stopping, plan_for, print_decisions, run_in_blocks
from vlthink.harness.video import require_encoder
from vlthink.policies.base import PolicyTraits

EXIT_OK = 0  # complete, no episode errored
EXIT_USER = 2  # bad input: unknown env or policy, bad file, corrupt results; nothing was run
EXIT_INCOMPLETE = 3  # stopped or left episodes (policy failed, env cannot be built): rerun
EXIT_ERRORED = 4  # complete, but some episodes' rows carry an error: rerun with --retry-errors
EXIT_INTERRUPTED = 130

#: Policy settings that name a model on disk; a local path that is not there fails preflight.
MODEL_PATH_KEYS = ("checkpoint", "model_path")


class RunStopped(HarnessError):
    """Infrastructure, not input: the run cannot go on (exit code 3, nothing recorded)."""


@dataclass
class RunSetup:
    """An :class:`EvalConfig` with what needs the policy resolved, once."""

    config: EvalConfig
    policy: Any
    traits: PolicyTraits
    obs_mode: str  # the ManiSkill observation mode the envs are built with
    out: Path
    options: RunOptions
    manifest: rundir.Manifest

    @property
    def session(self) -> dict[str, Any]:
        """This session's entry in the manifest: how (not what) it ran."""
        c = self.config
        return {
            "argv": self.manifest.argv,
            "workers": c.workers,
            **({"in_flight": c.in_flight} if c.in_flight > 1 else {}),
            "executor": c.executor,
            "obs_mode": self.obs_mode,
            **(
                {"stop_when_decided": {"alpha": c.alpha, "block": c.block}}
                if c.stop_when_decided
                else {}
            ),
        }


@dataclass
class Finished:
    """What :func:`run` leaves: the exit code and the run directory's manifest and rows."""

    code: int
    out: Path
    manifest: dict[str, Any]
    rows: list[dict[str, Any]]
    table: Any = field(repr=False, default=None)  # the summary (a pandas DataFrame)
    workers_busy: float | None = None  # RunOutcome.workers_busy of this session


def load_policy(spec: str) -> Any:
    """The policy a --policy value names (a bad one: HarnessError naming it)."""
    from vlthink.policies.registry import PolicyConfigError
    from vlthink.policies.registry import load_policy as load

    try:
        return load(spec)
    except PolicyConfigError as exc:
        raise HarnessError(f"policy {spec!r}: {exc}") from None


def run(config: EvalConfig, policy: Any = None, workers: list | None = None) -> Finished:
    """The whole run (``policy``: an object, or None to load ``config.policy_spec``;
    ``workers``: env worker processes already started, or None to start them here)."""
    policy = load_policy(config.policy_spec) if policy is None else policy
    setup = prepare(config, policy)
    with rundir.open_run(setup.out, setup.manifest, setup.session, config.retry_errors) as opened:
        announce(opened)
        remote = None
        if config.executor == "ray":
            from vlthink.harness import ray_executor

            remote = ray_executor.runner(config.policy_spec, policy.name)
        stopping = stopping_for(setup) if config.stop_when_decided else None
        outcome = None
        try:
            if stopping is not None:
                play = partial(execute, opened, setup, workers)
                outcome = run_in_blocks(opened, stopping, play)
            else:
                outcome = execute(opened, setup, workers, remote=remote)
        finally:
            close_quietly(policy)
            busy = None if outcome is None else outcome.workers_busy
            rundir.end_session(
                opened,
                retries=policy_retries(policy),
                **({} if busy is None else {"workers_busy": round(busy, 3)}),
            )
    manifest = setup.manifest.to_json()
    code, table = report(
        setup.out,
        manifest,
        opened.rows,
        outcome,
        config.baseline,
        config.alternative,
        config.adjustment,
        stopping,
    )
    return Finished(code, setup.out, manifest, opened.rows, table, outcome.workers_busy)


def close_quietly(policy: Any) -> None:
    """Close the policy (its server connections, its model); a failing close loses nothing."""
    try:
        policy.close()
    except Exception:
        pass


def policy_retries(policy: Any) -> int:
    """Calls the policy's server adapters sent again after a transient fault, this session."""
    return int((getattr(policy, "stats", None) or {}).get("retries", 0))


def stopping_for(setup: RunSetup) -> Stopping:
    """The block loop of ``--stop-when-decided``, against the run's baseline."""
    c = setup.config
    return Stopping(plan_for(setup.manifest, c.alpha, c.block), Path(c.baseline))


def prepare(config: EvalConfig, policy: Any) -> RunSetup:
    """Resolve what needs the policy and check everything a run needs before anything is built
    or written: traits, observation mode, the asset set, model files, a pairable baseline, the
    encoder, the robot asset."""
    traits = policy_traits(policy)
    out = Path(config.out) if config.out is not None else None
    out = out or config.default_out(policy.name)
    opts = RunOptions(
        workers=config.workers,
        in_flight=config.in_flight,
        sim_backend=config.sim_backend,
        num_envs=config.num_envs,
        episode_timeout=config.episode_timeout,
        record_video=config.record_video,
        video_dir=out / "videos",
        video_of=config.video_of,
        video_first=config.video_first,
        max_policy_failures=config.max_policy_failures,
        stop_after=config.stop_after,
        obs_mode=None if config.obs_mode == "auto" else config.obs_mode,
        assets=config.assets,
        traits=traits,
    )
    opts.obs_mode = obs_mode_for(policy, opts)  # resolved: the executors take it as it is
    check_in_flight(policy, opts)
    manifest = new_manifest(config, policy, traits, asset_set(config.assets))
    if config.baseline is not None:  # refuse before hours of work
        from vlthink.harness import summary  # pandas: paid only where a table is made

        summary.check_pairable(
            manifest.to_json(), results.read_manifest(config.baseline), str(config.baseline)
        )
    check_model_files(policy)
    check_main_importable(policy, traits)
    if opts.record_video:
        require_encoder()
    preflight(config.plan)
    return RunSetup(config, policy, traits, opts.obs_mode, out, opts, manifest)


def policy_traits(policy: Any) -> PolicyTraits:
    """The policy's declared traits, read once for the run (a declaration it cannot honour is
    bad input)."""
    try:
        return PolicyTraits.of(policy)
    except TypeError as exc:
        raise HarnessError(
            f"{exc}. Fix: implement it, or declare what the policy does "
            "(see vlthink.policies.base.PolicyBase)"
        ) from None


def check_model_files(policy: Any) -> None:
    """A policy whose settings name a model folder on this machine that is not there cannot
    load: refuse now, not after the envs are built (a hub id such as ``org/model`` is left to
    the policy)."""
    config = getattr(policy, "config", None) or {}
    for key in MODEL_PATH_KEYS:
        value = config.get(key)
        if isinstance(value, str) and _local_path(value) and not Path(value).expanduser().exists():
            raise HarnessError(
                f"policy {getattr(policy, 'name', '?')!r}: {key} {value!r} does not exist. "
                f"Fix: point `{key}` in the policy file at the model folder"
            )


def check_main_importable(policy: Any, traits: PolicyTraits) -> None:
    """A policy that runs in the workers travels pickled, by its class's import path; a class
    defined in code read from stdin (or ``-c``) has none a worker could import."""
    main = sys.modules.get("__main__")
    if needs_main(policy, traits) and not os.path.isfile(getattr(main, "__file__", None) or ""):
        raise HarnessError(
            f"policy {getattr(policy, 'name', '?')!r} runs in the workers, and its class is "
            "defined in code read from stdin, which a worker process cannot import. Fix: save "
            'the code as a script (with the call under `if __name__ == "__main__":`), or '
            "define the class in a module"
        )


def _local_path(value: str) -> bool:
    """Does ``value`` name a path here rather than a hub id (``org/model``)?"""
    return value.startswith(("/", ".", "~")) or value.count("/") >= 2 or "\\" in value


def asset_set(name: str) -> dict[str, str]:
    """The run's asset set as its manifest records it (name, verified contents hash); a pack
    that is not installed or does not verify is bad input, refused before anything runs."""
    from vlthink.assets.original import PackError, asset_set_id

    try:
        return asset_set_id(name)
    except PackError as exc:
        raise HarnessError(f"--assets {name}: {exc}") from None


def new_manifest(
    config: EvalConfig, policy: Any, traits: PolicyTraits, assets: dict[str, str]
) -> rundir.Manifest:
    from vlthink.envs import PROTOCOL_VERSION
    from vlthink.provenance import environment_info

    return rundir.Manifest(
        plan=config.plan,
        tasks={k: dict(v) for k, v in config.tasks.items()},
        policy={
            "name": policy.name,
            "spec": config.policy_spec,
            "kind": traits.kind,
            "traits": asdict(traits),
            "config": dict(getattr(policy, "config", None) or {}),
        },
        command=config.command(),
        argv=["vlthink-eval", *config.argv],
        protocol_version=str(PROTOCOL_VERSION),
        **assets,
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


def announce(opened: rundir.OpenRun) -> None:
    """The notes of opening a run directory, and how far a resumed run already is."""
    for note in opened.notes:
        print(f"vlthink-eval: {note}", file=sys.stderr)
    if opened.rows:
        finished, planned = rundir.completeness(opened.manifest, opened.rows)
        print(
            f"vlthink-eval: resuming {opened.path}: {finished} of {planned} episodes already "
            f"finished, {planned - finished} to run",
            file=sys.stderr,
        )


def execute(
    opened: rundir.OpenRun,
    setup: RunSetup,
    workers: list | None = None,
    keys: list | None = None,
    remote: Any | None = None,
) -> RunOutcome:
    """Run what is left of ``opened`` (or only ``keys`` of it) and append each finished
    episode's row as it comes."""
    plan = opened.manifest.plan
    bars = Progress(list(plan.envs), plan.per_env(), opened.rows, enabled=setup.config.progress)
    policy = setup.policy
    try:
        with results.RowWriter(opened.rows_path) as writer:

            def emit(row: dict) -> None:
                writer.write(row)
                opened.rows.append(row)
                bars.update(row)

            finished, planned = rundir.completeness(opened.manifest, opened.rows)
            if finished == planned:
                return RunOutcome()
            todo = opened.todo() if keys is None else iter(keys)
            if remote is not None:
                return remote(list(todo), setup.options, emit)
            # a pool closes its workers when done; the next block's pool starts them again
            extra = {"workers": workers} if workers else {}  # none for the GPU backend
            return make_executor(policy, setup.options, emit, **extra).run(todo)
    finally:
        bars.close()


def run_state(
    manifest: dict, rows: list[dict], outcome: RunOutcome | None = None, stopping=None
) -> tuple[int, str]:
    """(exit code, the closing line's state) of a run (``stopping``: the envs a sequential
    comparison decided count as done)."""
    finished, planned = rundir.completeness(manifest, rows)
    errored = sum(1 for r in rows if r.get("error"))
    quiet = outcome is None or not (outcome.stopped or outcome.left)
    if stopping is not None and finished < planned and quiet:
        if all(stopping.decided(e) for e in manifest["plan"]["envs"]):
            return EXIT_OK, (
                f"decided: {stopping.saved()} of {planned} episodes not needed by the "
                "sequential comparison; the same command without --stop-when-decided plays them"
            )
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


#: Below this share of the time with work, the env workers mostly waited for the policy.
BUSY_ENOUGH = 0.9


def busy_note(busy: float, manifest: dict, failed: bool = False) -> str:
    """One line: how much of this session's time the env workers had work, and what to try
    when they waited for the policy (``failed``: episodes were left or the run stopped, so the
    waiting includes failed calls and their retries, which more in flight would not help)."""
    line = f"env workers busy {busy:.0%} of this session's time"
    if busy >= BUSY_ENOUGH:
        return line + " (the policy kept up with the scenes)"
    if failed:
        return line + "; the waits include the failed calls that left episodes for the rerun"
    line += "; the rest they waited for the policy"
    traits = manifest.get("policy", {}).get("traits", {})
    in_flight = (manifest.get("sessions") or [{}])[-1].get("in_flight", 1)
    if traits.get("per_slot_reset") and not traits.get("runs_in_worker") and in_flight < 3:
        line += (
            f": try --in-flight {in_flight + 1} "
            "(one episode simulates while the policy answers another)"
        )
    return line


def report(
    out: Path,
    manifest: dict,
    rows: list,
    outcome: RunOutcome | None,
    baseline_dir: Path | None,
    alternative: str,
    adjustment: str = "holm",
    stopping: Stopping | None = None,
) -> tuple[int, Any]:
    """Print and write the summary and the closing line; (exit code, the summary table)."""
    from vlthink.harness import summary  # pandas: not in the workers' start-up

    baseline = rundir.load_run(baseline_dir) if baseline_dir is not None else None
    table = summary.summarize(manifest, rows, baseline, str(baseline_dir), alternative, adjustment)
    summary.write_csv(table, Path(out) / results.SUMMARY_FILE)
    print(summary.format_table(table))
    note = rundir.size_note(manifest)
    if note:
        print("note: " + note)
    if stopping is not None:
        print_decisions(stopping, out)
    if outcome is not None and outcome.workers_busy is not None:
        failed = bool(outcome.stopped or outcome.left)
        print(busy_note(outcome.workers_busy, manifest, failed))
    code, state = run_state(manifest, rows, outcome, stopping)
    # the closing line: on stderr when the run needs attention, so that scripts see it there
    print(
        f"\nrun {out}: {state}; table written to {Path(out) / results.SUMMARY_FILE}",
        file=sys.stderr if code else sys.stdout,
    )
    return code, table
