"""``vlthink demos``: record a policy's attempts on the harness's executor into a dataset.

Attempt ``a`` of env ``E`` under ``--seed S`` is the harness episode
``EpisodeKey(E, a, DEMO_SEED_BASE + S)``: its scene is the harness's ``episode_seed`` of that
key, so the same command always makes the same attempts, and demonstration scenes never
coincide with the evaluation episodes of ``vlthink-eval --seed S`` (which use run seed ``S``).
``--episodes N`` counts episodes that end up in the dataset, split evenly over the envs (the
first ones get one more). Attempts run in batches: the first has as many attempts as episodes
are missing; each later one replaces the attempts that were not kept, until every env has its
quota or ``--max-attempts`` is reached.
"""

from __future__ import annotations

import datetime as dt
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlthink.assets.sets import DEFAULT_ASSETS
from vlthink.demos import formats, layout
from vlthink.demos.episode import stage
from vlthink.demos.processing import Processing
from vlthink.demos.store import RECORDING_FORMAT, DatasetError, DemoStore
from vlthink.harness.episodes import HARNESS_PROTOCOL, EpisodeKey
from vlthink.harness.executor import RunOptions, RunOutcome, make_executor
from vlthink.video import VideoSettings, short_error, video_info

DEMO_SEED_BASE = 1_000_000  # run seeds of demonstrations live apart from evaluation seeds

EXIT_OK, EXIT_USER, EXIT_INCOMPLETE, EXIT_ERRORED = 0, 2, 3, 4


@dataclass
class RecordConfig:
    envs: list[str]
    episodes: int
    seed: int
    out: Path
    policy_spec: str
    workers: int = 1
    processing: Processing = field(default_factory=Processing)
    video: VideoSettings = field(default_factory=VideoSettings)
    max_attempts: int | None = None  # per env; None: 2 x its quota + 20
    episode_timeout: float = 300.0
    progress: bool = True
    rerecord_from: int | None = None
    argv: list[str] = field(default_factory=list)
    format: str = formats.DEFAULT  # LeRobot codebase version written
    assets: str = DEFAULT_ASSETS  # the asset set the scenes are drawn with

    def quotas(self) -> dict[str, int]:
        q, r = divmod(self.episodes, len(self.envs))
        return {e: q + (i < r) for i, e in enumerate(self.envs)}

    def attempt_cap(self, quota: int) -> int:
        return self.max_attempts if self.max_attempts is not None else 2 * quota + 20

    def command(self, suite_specs: list[str]) -> str:
        p = self.processing
        parts = [
            "vlthink",
            "demos",
            "--suite",
            *suite_specs,
            "--episodes",
            str(self.episodes),
            "--seed",
            str(self.seed),
            "--policy",
            self.policy_spec,
            "--out",
            str(self.out),
            "--stop-after-success",
            str(p.stop_after_success if p.stop_after_success is not None else -1),
        ]
        parts += [] if p.drop_idle_actions else ["--keep-idle-actions"]
        parts += [] if p.successes_only else ["--all-attempts"]
        parts += [] if self.format == formats.DEFAULT else ["--format", self.format]
        parts += [] if self.assets == DEFAULT_ASSETS else ["--assets", self.assets]
        return shlex.join(parts)


def recording_facts(cfg: RecordConfig, policy: Any, suite_specs: list[str]) -> dict[str, Any]:
    """What a dataset records about its recording (part of it is its identity); a pack that is
    not installed or does not verify is refused here, before anything is recorded."""
    from vlthink.envs import PROTOCOL_VERSION
    from vlthink.harness.pipeline import asset_set
    from vlthink.provenance import environment_info

    config = {k: v for k, v in (getattr(policy, "config", None) or {}).items() if k != "source"}
    return {
        "format": RECORDING_FORMAT,
        "lerobot_version": cfg.format,
        "envs": list(cfg.envs),
        "episodes": cfg.episodes,
        "seed": cfg.seed,
        "key_seed": DEMO_SEED_BASE + cfg.seed,
        "policy": {"name": policy.name, "config": config},
        "processing": cfg.processing.to_json(),
        "video": cfg.video.to_json(),
        "fps": layout.FPS,
        "state": layout.STATE_CONVENTION,
        "video_info": video_info(cfg.video, layout.FPS, layout.IMAGE_SHAPE),
        "protocol_version": str(PROTOCOL_VERSION),
        "harness_protocol": HARNESS_PROTOCOL,
        **asset_set(cfg.assets),
        "command": cfg.command(suite_specs),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "provenance": environment_info(),
    }


@dataclass
class Tally:
    """What happened to attempts in this run (the ledger has the whole history)."""

    write_errors: list[str] = field(default_factory=list)
    # attempts lost to the machine (a worker killed, an env that hung): not reproducible from
    # the seed, so not resolved either way; the next run of the command tries them again
    lost: list[str] = field(default_factory=list)
    outcome: RunOutcome | None = None
    capped: list[str] = field(default_factory=list)  # envs that hit --max-attempts


def plan_batch(store: DemoStore, cfg: RecordConfig, tally: Tally) -> list[EpisodeKey]:
    """The fewest attempts that fill every quota if they all succeed, in commit order."""
    keys, seed = [], DEMO_SEED_BASE + cfg.seed
    for env_id, quota in cfg.quotas().items():
        expected, a = store.kept_count(env_id), store.ledger_count(env_id)
        while expected < quota:
            if a >= cfg.attempt_cap(quota):
                tally.capped.append(env_id)
                break
            staged = store.staged.get((env_id, a))
            if staged is None:
                keys.append(EpisodeKey(env_id, a, seed))
            expected += 1 if staged is None or staged.kept else 0
            a += 1
    return keys


#: Failure kinds that say nothing reproducible about an attempt (see executor.DISPOSITION:
#: env_reset / env_step follow from the seed and resolve the attempt as not kept).
NOT_THE_ATTEMPTS_DOING = ("timeout", "worker_died")


class CommitFailed(Exception):
    """A commit could not be written (disk full): the run stops; the next open repairs."""


class Recorder:
    """Runs batches on the executor; stages each finished attempt and commits in order."""

    def __init__(self, cfg: RecordConfig, policy: Any, store: DemoStore, bar: Any):
        self.cfg, self.policy, self.store, self.bar = cfg, policy, store, bar
        self.tally = Tally()

    def on_finish(self, ep: Any, row: dict) -> None:
        if ep.failure is not None and ep.failure.kind in NOT_THE_ATTEMPTS_DOING:
            self.tally.lost.append(f"{ep.key.label()}: {ep.failure.kind}: {ep.failure.detail}")
            return
        try:
            staged = stage(ep, row, self.store.staging_dir(), self.cfg.processing, self.cfg.video)
        except OSError as exc:  # disk full, quota: this attempt only; it runs again next time
            self.tally.write_errors.append(short_error(exc))
            row["demo_write_error"] = short_error(exc)
            return
        row["demo"] = staged.row["demo"]
        self.store.add(staged)

    def emit(self, row: dict) -> None:
        try:
            added = self.store.commit_ready(self.cfg.quotas())
        except OSError as exc:  # the dataset's own files: stop here, the next open repairs
            self.tally.write_errors.append(short_error(exc))
            raise CommitFailed(str(exc)) from exc
        self.bar.update(added)
        attempts = len(self.store.ledger) + len(self.store.staged)
        failed = sum(1 for r in self.store.ledger if not r["demo"]["kept"])
        self.bar.set_postfix_str(f"attempts {attempts}, not kept {failed}", refresh=False)

    def run(self) -> Tally:
        try:  # attempts staged by an earlier run whose turn has come
            self.bar.update(self.store.commit_ready(self.cfg.quotas()))
        except OSError as exc:
            self.tally.write_errors.append(short_error(exc))
            return self.tally
        while True:
            keys = plan_batch(self.store, self.cfg, self.tally)
            if not keys:
                break
            errors_before = len(self.tally.write_errors) + len(self.tally.lost)
            opts = RunOptions(
                workers=min(self.cfg.workers, len(keys)),
                obs_mode="rgb",
                assets=self.cfg.assets,
                keep_trace=True,
                on_finish=self.on_finish,
                episode_timeout=self.cfg.episode_timeout,
            )
            try:
                self.tally.outcome = make_executor(self.policy, opts, self.emit).run(keys)
                self.store.commit_ready(self.cfg.quotas())
            except (CommitFailed, OSError) as exc:
                if not isinstance(exc, CommitFailed):
                    self.tally.write_errors.append(short_error(exc))
                break
            if (
                self.tally.outcome.stopped
                or self.tally.outcome.left
                or len(self.tally.write_errors) + len(self.tally.lost) > errors_before
            ):
                break  # not the attempts' doing: leave them for the next run of the command
        return self.tally


def outcome_line(cfg: RecordConfig, store: DemoStore, tally: Tally) -> tuple[int, str]:
    """(exit code, the closing line)."""
    n, want = store.n_episodes, cfg.episodes
    ledger = store.ledger
    errored = sum(1 for r in ledger if r.get("error"))
    unkept = sum(1 for r in ledger if not r["demo"]["kept"])
    head = (
        f"dataset {cfg.out}: {n} of {want} episodes, {store.done.frames} frames; "
        f"{len(ledger)} attempts, {unkept} not kept ({errored} errored)"
    )
    out = tally.outcome
    if n < want:
        if tally.write_errors:
            why = (
                f"{len(tally.write_errors)} episode(s) could not be written "
                f"({tally.write_errors[-1]}). Fix: free disk space and rerun the same command"
            )
        elif tally.lost:
            why = (
                f"{len(tally.lost)} attempt(s) were lost to the machine, not to their seed "
                f"(last: {tally.lost[-1][:160]}); rerun the same command to try them again"
            )
        elif out is not None and out.stopped:
            why = f"the run stopped: {out.stopped}; rerun the same command to resume"
        elif out is not None and out.left:
            kind = max(out.left, key=out.left.get)
            why = (
                f"the {kind.replace('_', ' ')} failed: {out.last_error[kind]}; rerun the "
                "same command to resume"
            )
        elif tally.capped:
            env_id = tally.capped[0]
            why = (
                f"{env_id} reached --max-attempts {cfg.attempt_cap(cfg.quotas()[env_id])} "
                "before its quota of kept episodes. Fix: raise --max-attempts, or check that "
                "the policy succeeds (vlthink-eval)"
            )
        else:
            why = "rerun the same command to resume"
        return EXIT_INCOMPLETE, f"{head}. Incomplete: {why}."
    if errored:
        return EXIT_ERRORED, (
            f"{head}. Complete; {errored} attempt(s) raised in the env (the "
            f"ledger {layout.LEDGER_FILE} says why) and were replaced."
        )
    return EXIT_OK, f"{head}. Complete."


def record(cfg: RecordConfig, policy: Any, suite_specs: list[str]) -> int:
    """The whole ``vlthink demos`` command once its input was checked; returns the exit code."""
    from tqdm.auto import tqdm

    from vlthink.harness import results
    from vlthink.harness.pipeline import preflight
    from vlthink.harness.rundir import RunPlan

    facts = recording_facts(cfg, policy, suite_specs)
    preflight(RunPlan(tuple(cfg.envs), 1, (cfg.seed,)))
    with results.run_lock(cfg.out):
        formats.check_version(cfg.out, cfg.format)
        store = formats.STORES[cfg.format](cfg.out, facts)
        try:
            notes = store.open(cfg.rerecord_from)
        except OSError as exc:
            raise DatasetError(
                f"cannot write to {cfg.out} ({short_error(exc)}). Fix: free disk "
                "space and rerun the same command; recorded episodes are kept."
            ) from None
        for note in notes:
            print(f"vlthink demos: {note}", file=sys.stderr)
        if store.n_episodes:
            print(
                f"vlthink demos: resuming {cfg.out}: {store.n_episodes} of {cfg.episodes} "
                f"episodes recorded, {len(store.staged)} attempt(s) staged",
                file=sys.stderr,
            )
        bar = tqdm(
            total=cfg.episodes,
            initial=store.n_episodes,
            desc="episodes",
            disable=not cfg.progress,
            dynamic_ncols=True,
        )
        try:
            tally = Recorder(cfg, policy, store, bar).run()
        finally:
            bar.close()
            try:
                policy.close()
            except Exception:
                pass
        code, line = outcome_line(cfg, store, tally)
    print(line, file=sys.stderr if code else sys.stdout)
    return code
