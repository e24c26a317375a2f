"""A sequential paired comparison that stops once it is decided.

vlthink plays the same scenes for a run and its baseline, so each matched episode is a pair of
outcomes. Pairs where both succeed or both fail say nothing about which policy is better; the
*discordant* ones (only this run succeeded: ``+``; only the baseline: ``-``) do. Under the null
hypothesis "equal success rates" each discordant pair is ``+`` or ``-`` with probability 1/2,
independently of the others and of which episodes are discordant (McNemar's argument): the
difference ``S = plus - minus`` after ``m`` discordant pairs is a fair coin's walk.

The test is McNemar's exact test made group-sequential. Episodes are played in blocks; after
look ``j`` (``n_j`` episodes, ``m_j`` of them discordant) the test may spend a cumulative error
``alpha(t_j)`` with ``t_j = n_j / max_episodes`` (Lan-DeMets spending; O'Brien-Fleming's shape by
default, which spends almost nothing early, so the last look is nearly the fixed test). Given the
discordant counts ``m_1 .. m_j`` seen so far (they carry no information on the direction under
the null), the exact distribution of the walk is carried forward by convolution, paths that
already crossed a bound removed, and the bound ``b_j`` is the smallest with
``P(|S_{m_j}| >= b_j and no earlier crossing) <= alpha(t_j) - (error already spent)``. A
difference is declared when ``|S| >= b_j`` (direction: the sign of ``S``). Conditionally on every
pattern of discordant counts, and so unconditionally, ``P(declare a difference) <= alpha``.

Futility: the comparison stops as "no difference detectable" when even every remaining episode
discordant in one direction (for either direction) would not cross a bound within the planned
maximum. Stopping for futility only ever removes rejections, so it keeps the error rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from statistics import NormalDist

import numpy as np
from scipy import stats as st

BETTER, WORSE, NO_DIFFERENCE, UNDECIDED = "better", "worse", "no difference", "undecided"
# The integer codes of decide_many, and what each means.
CODES = {1: BETTER, -1: WORSE, 0: NO_DIFFERENCE, 2: UNDECIDED}


def _obrien_fleming(alpha: float, t: float) -> float:
    # 2 (1 - Phi(z_{1 - alpha/2} / sqrt(t))), with the normal tail from erfc (exact far out)
    z = NormalDist().inv_cdf(1 - alpha / 2)
    return math.erfc(z / math.sqrt(t) / math.sqrt(2)) if t > 0 else 0.0


def _pocock(alpha: float, t: float) -> float:
    return alpha * math.log(1 + (math.e - 1) * t)


#: name -> cumulative error allowed by information fraction t (both reach alpha at t = 1).
SPENDING = {"obrien-fleming": _obrien_fleming, "pocock": _pocock}


@dataclass(frozen=True)
class SequentialPlan:
    """``alpha``: the two-sided error rate of declaring a difference when there is none;
    ``max_episodes``: the planned matched episodes per comparison; ``block``: episodes between
    looks; ``spending``: how the error is spread over looks (a key of SPENDING)."""

    alpha: float = 0.05
    max_episodes: int = 128
    block: int = 16
    spending: str = "obrien-fleming"

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha}")
        if self.max_episodes < 1 or self.block < 1:
            raise ValueError(
                f"max_episodes and block must be >= 1, got {self.max_episodes}, {self.block}"
            )
        if self.spending not in SPENDING:
            raise ValueError(f"spending must be one of {sorted(SPENDING)}, got {self.spending!r}")

    def looks(self) -> list[int]:
        """Matched episodes seen at each look: every ``block``, and the planned maximum."""
        out = list(range(self.block, self.max_episodes + 1, self.block))
        return out if out and out[-1] == self.max_episodes else [*out, self.max_episodes]

    def spend(self, episodes: int) -> float:
        """The cumulative error this plan may have spent after ``episodes`` matched episodes."""
        return min(
            self.alpha, SPENDING[self.spending](self.alpha, min(1.0, episodes / self.max_episodes))
        )


@dataclass(frozen=True)
class Decision:
    state: str  # better / worse / no difference / undecided (more episodes needed)
    n_used: int  # matched episodes the decision rests on (the rest need not be played)
    reason: str
    plus: int  # discordant episodes only this run solved
    minus: int  # discordant episodes only the baseline solved
    bound: int  # |plus - minus| needed at that look (a number above plus + minus: none possible)
    spent: float  # the error spent by the bounds up to that look (<= alpha)


@lru_cache(maxsize=1024)
def _fair_steps(d: int) -> np.ndarray:
    """P(k plus among d new discordant pairs), k = 0..d, for a fair coin."""
    return st.binom.pmf(np.arange(d + 1), d, 0.5)


@dataclass
class _Walk:
    """The null distribution of the plus count over the looks so far, crossed paths removed."""

    plan: SequentialPlan
    alive: np.ndarray = field(default_factory=lambda: np.ones(1))
    m: int = 0
    spent: float = 0.0

    def copy(self) -> _Walk:
        return _Walk(self.plan, self.alive.copy(), self.m, self.spent)

    def look(self, episodes: int, m: int) -> int:
        """Advance to ``m`` discordant pairs at ``episodes``; return the bound on |S| there."""
        if m > self.m:
            self.alive = np.convolve(self.alive, _fair_steps(m - self.m))
            self.m = m
        s = np.abs(2 * np.arange(m + 1) - m)
        mass = np.bincount(s, weights=self.alive, minlength=m + 2)
        tail = np.cumsum(mass[::-1])[::-1]  # tail[b] = P(|S| >= b, alive)
        # rounding may leave the spent error a hair above the allowance: never a negative budget
        budget = max(self.plan.spend(episodes) - self.spent, 0.0)
        bound = int(np.argmax(tail <= budget))  # tail[m + 1] == 0, so one always qualifies
        self.spent += float(tail[bound])
        self.alive[s >= bound] = 0.0
        return bound


def _reachable(walk: _Walk, at: int, s: int, looks: list[int]) -> bool:
    """Could some bound still be crossed if every remaining episode were discordant one way?"""
    for sign in (1, -1):
        w = walk.copy()
        for later in looks:
            extra = later - at
            if s * sign + extra >= w.look(later, walk.m + extra):
                return True
    return False


def _decide_one(plan: SequentialPlan, plus: np.ndarray, minus: np.ndarray, looks: list[int]):
    """(code, look index, bound, spent) for one comparison's counts at each look."""
    walk = _Walk(plan)
    bound = 1
    for j, at in enumerate(looks):
        s, m = int(plus[j] - minus[j]), int(plus[j] + minus[j])
        bound = walk.look(at, m)
        if abs(s) >= bound:
            return (1 if s > 0 else -1), j, bound, walk.spent
        if at >= plan.max_episodes or not _reachable(
            walk, at, s, [t for t in plan.looks() if t > at]
        ):
            return 0, j, bound, walk.spent
    return 2, len(looks) - 1, bound, walk.spent


def decide_many(plan: SequentialPlan, run: np.ndarray, base: np.ndarray):
    """:func:`decide` over rows of matched outcomes (shape ``comparisons × episodes``).

    Returns arrays per row: state code (see CODES), episodes used, plus, minus.
    """
    run = np.atleast_2d(np.asarray(run, dtype=bool))[:, : plan.max_episodes]
    base = np.atleast_2d(np.asarray(base, dtype=bool))[:, : plan.max_episodes]
    if run.shape != base.shape:
        raise ValueError(f"matched samples differ in shape: {run.shape} vs {base.shape}")
    sims, n = run.shape
    looks = [t for t in plan.looks() if t <= n]
    code = np.full(sims, 2)
    used = np.full(sims, n)
    plus = np.zeros(sims, dtype=int)
    minus = np.zeros(sims, dtype=int)
    if not looks:
        return code, used, plus, minus
    idx = np.asarray(looks) - 1
    plus_at = np.cumsum(run & ~base, axis=1)[:, idx]
    minus_at = np.cumsum(~run & base, axis=1)[:, idx]
    for i in range(sims):
        c, j, _, _ = _decide_one(plan, plus_at[i], minus_at[i], looks)
        code[i], plus[i], minus[i] = c, plus_at[i, j], minus_at[i, j]
        used[i] = looks[j] if c != 2 else n
    return code, used, plus, minus


def decide(
    plan: SequentialPlan, run_successes: Sequence[bool], base_successes: Sequence[bool]
) -> Decision:
    """The decision after the matched episodes given so far, in the order they were played.

    ``run_successes[i]`` and ``base_successes[i]`` are the outcomes of the same episode (same
    env, episode index and seed, hence the same scene). Only the first ``max_episodes`` count;
    the test looks after every ``block`` of them and at ``max_episodes``.
    """
    if len(run_successes) != len(base_successes):
        raise ValueError(
            f"matched samples differ in length: {len(run_successes)} vs {len(base_successes)}"
        )
    run = np.asarray(run_successes, dtype=bool)[: plan.max_episodes]
    base = np.asarray(base_successes, dtype=bool)[: plan.max_episodes]
    looks = [t for t in plan.looks() if t <= run.size]
    if not looks:
        p, m = int(np.sum(run & ~base)), int(np.sum(~run & base))
        why = f"undecided: {run.size} episodes, first look after {plan.looks()[0]}"
        return Decision(UNDECIDED, run.size, why, p, m, run.size + 1, 0.0)
    idx = np.asarray(looks) - 1
    plus_at, minus_at = np.cumsum(run & ~base)[idx], np.cumsum(~run & base)[idx]
    code, j, bound, spent = _decide_one(plan, plus_at, minus_at, looks)
    state = CODES[code]
    n_used = looks[j] if code != 2 else int(run.size)
    p, m = int(plus_at[j]), int(minus_at[j])
    return Decision(state, n_used, _reason(plan, state, n_used, p, m, bound), p, m, bound, spent)


def matched_outcomes(
    rows: Sequence[dict], base_rows: Sequence[dict]
) -> dict[str, tuple[list[bool], list[bool]]]:
    """Per env, the outcomes of episodes present in both runs, in play order (seed, episode).

    The order is fixed by the protocol, never by an outcome, which the test's validity needs.
    """
    base = {(r["env"], r["seed"], r["episode"]): bool(r["success_once"]) for r in base_rows}
    out: dict[str, tuple[list[bool], list[bool]]] = {}
    for r in sorted(rows, key=lambda r: (r["env"], r["seed"], r["episode"])):
        key = (r["env"], r["seed"], r["episode"])
        if key in base:
            run_ok, base_ok = out.setdefault(r["env"], ([], []))
            run_ok.append(bool(r["success_once"]))
            base_ok.append(base[key])
    return out


def decide_rows(
    plan: SequentialPlan, rows: Sequence[dict], base_rows: Sequence[dict]
) -> dict[str, Decision]:
    """:func:`decide` per env over the matched episodes of two runs' rows."""
    return {
        env: decide(plan, run_ok, base_ok)
        for env, (run_ok, base_ok) in matched_outcomes(rows, base_rows).items()
    }


def decisions_table(plan: SequentialPlan, decisions: dict[str, Decision]) -> list[dict]:
    """Per env, where and why it stopped and the episodes it saved (rows for a summary/CSV)."""
    return [
        {
            "env": env,
            "decision": d.state,
            "episodes_used": d.n_used,
            "episodes_saved": plan.max_episodes - d.n_used if d.state != UNDECIDED else 0,
            "discordant_run": d.plus,
            "discordant_baseline": d.minus,
            "reason": d.reason,
        }
        for env, d in sorted(decisions.items())
    ]


def _reason(plan: SequentialPlan, state: str, n_used: int, plus: int, minus: int, bound: int):
    pairs = f"{plus} discordant for this run, {minus} for the baseline, after {n_used} episodes"
    need = f"|plus - minus| >= {bound}" if bound <= plus + minus else "no bound reachable yet"
    if state in (BETTER, WORSE):
        return f"decided {state}: {need} at this look ({pairs})"
    if state == UNDECIDED:
        return f"undecided ({need}; {pairs}): play the next block"
    if n_used >= plan.max_episodes:
        return f"no difference detected within the planned {plan.max_episodes} episodes ({pairs})"
    return (
        f"no difference detectable: even {plan.max_episodes - n_used} more episodes all "
        f"discordant one way would cross no bound ({pairs})"
    )


__all__ = [
    "SequentialPlan",
    "Decision",
    "decide",
    "decide_many",
    "decide_rows",
    "decisions_table",
    "matched_outcomes",
    "SPENDING",
    "BETTER",
    "WORSE",
    "NO_DIFFERENCE",
    "UNDECIDED",
]
