"""``--stop-when-decided``: play a run in blocks against its baseline and stop each env once the
sequential paired test (:mod:`vlthink.harness.sequential`) has decided it.

Every env's episodes are played in the test's order (seed, then episode index: fixed by the
protocol, never by an outcome) one block at a time. After each block the run's rows are matched
with the baseline's (same env, episode and seed: the same scene) and each env is decided
*better*, *worse*, *no difference* (futility, or the planned maximum reached) or left
*undecided* for the next block. The episodes an env did not need are not played and are not
rows: the run directory stays the same run, and the same command without the flag completes the
cells (resume). The baseline may still be running: it is read again at every look, and an env
whose baseline has not reached the look yet waits for the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vlthink.harness import rundir
from vlthink.harness.episodes import EpisodeKey
from vlthink.harness.executor import RunOutcome
from vlthink.harness.results import HarnessError
from vlthink.harness.sequential import (
    UNDECIDED,
    Decision,
    SequentialPlan,
    decide_rows,
    decisions_table,
)
from vlthink.store import atomic_write

DECISIONS_FILE = "sequential.csv"


def plan_for(manifest: rundir.Manifest, alpha: float, block: int) -> SequentialPlan:
    """The sequential plan of a run: its planned episodes per env are the test's maximum."""
    per_env = manifest.plan.per_env()
    if len(set(per_env.values())) != 1:
        raise HarnessError(
            "--stop-when-decided needs the same planned episodes in every env. "
            "Fix: run the envs as separate commands"
        )
    try:
        return SequentialPlan(alpha=alpha, max_episodes=next(iter(per_env.values())), block=block)
    except ValueError as exc:
        raise HarnessError(f"--stop-when-decided: {exc}") from None


@dataclass
class Stopping:
    """The block loop's state: what is decided so far, and the baseline it is decided against."""

    plan: SequentialPlan
    baseline: Path
    decisions: dict[str, Decision] = field(default_factory=dict)

    def decided(self, env_id: str) -> bool:
        d = self.decisions.get(env_id)
        return d is not None and d.state != UNDECIDED

    def look(self, rows: list[dict]) -> None:
        """Decide every env on the matched episodes played so far."""
        _, base_rows = rundir.load_run(self.baseline)
        self.decisions = decide_rows(self.plan, rows, base_rows)

    def table(self) -> list[dict]:
        return decisions_table(self.plan, self.decisions)

    def saved(self) -> int:
        return sum(r["episodes_saved"] for r in self.table())


def run_in_blocks(
    opened: rundir.OpenRun,
    stopping: Stopping,
    execute: Callable[[list[EpisodeKey]], RunOutcome],
) -> RunOutcome:
    """Play ``opened`` block by block until every env is decided or played out."""
    outcome, busy_s, scene_s = RunOutcome(), 0.0, 0.0
    rank = _rank(opened.manifest.plan)
    for look in stopping.plan.looks():
        stopping.look(opened.rows)
        keys = [k for k in opened.todo() if rank(k) < look and not stopping.decided(k.env_id)]
        if keys:
            outcome = execute(keys)
            busy_s, scene_s = busy_s + outcome.busy_s, scene_s + outcome.scene_s
            if outcome.stopped or outcome.left:
                break
    stopping.look(opened.rows)
    outcome.busy_s, outcome.scene_s = busy_s, scene_s  # the workers' use over every block
    return outcome


def _rank(plan: rundir.RunPlan) -> Callable[[EpisodeKey], int]:
    """A key's place in its env's test order: seeds ascending, then episodes (as
    :func:`~vlthink.harness.sequential.matched_outcomes` orders them)."""
    seed_index = {s: i for i, s in enumerate(sorted(plan.seeds))}
    return lambda key: seed_index[key.seed] * plan.episodes + key.episode


def print_decisions(stopping: Stopping, out: Path) -> None:
    """Per env, where and why it stopped and the episodes saved; also written as a CSV."""
    import pandas as pd

    table = pd.DataFrame(stopping.table())
    if table.empty:
        return
    atomic_write(Path(out) / DECISIONS_FILE, table.to_csv(index=False))
    print(
        f"\nsequential comparison (alpha {stopping.plan.alpha}, looks every "
        f"{stopping.plan.block} episodes, at most {stopping.plan.max_episodes}):"
    )
    for r in stopping.table():
        print(
            f"  {r['env']}: {r['decision']} after {r['episodes_used']} episodes "
            f"({r['episodes_saved']} saved): {r['reason']}"
        )
    print(f"  {stopping.saved()} episodes saved in all")
