"""A sequential paired comparison that stops once it is decided.

vlthink plays the same scenes for a run and its baseline, so each matched episode is a pair of
outcomes. Pairs where both succeed or both fail say nothing about which policy is better; the
*discordant* ones (only this run succeeded: ``+``; only the baseline: ``-``) do. Under the null
hypothesis "equal success rates" every discordant pair is ``+`` or ``-`` with probability 1/2,
independently of the others and of which episodes are discordant (McNemar's argument).

The test is a mixture sequential probability ratio test on that fair coin: with ``P`` plus and
``M`` minus pairs so far, the e-value

    E = ∫ q^P (1 - q)^M dBeta(q; a, a) / (1/2)^(P + M) = 2^(P+M) B(a + P, a + M) / B(a, a)

is a nonnegative martingale with mean 1 under the null, so by Ville's inequality
``P(E ever >= 1/alpha) <= alpha``: the error rate holds however often it is looked at, and looking
only at block ends (fewer looks) keeps it. ``E`` grows when the coin leans either way, so one test
covers both directions (better / worse) at total level ``alpha``. Futility: ``log E`` is convex in
the number of further pairs of one sign, so if neither "all remaining episodes discordant for this
run" nor "all for the baseline" could reach ``1/alpha``, nothing within the planned maximum can,
and the comparison stops as "no difference detectable".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import betaln

BETTER, WORSE, NO_DIFFERENCE, UNDECIDED = "better", "worse", "no difference", "undecided"
# The integer codes of decide_many, and what each means.
CODES = {1: BETTER, -1: WORSE, 0: NO_DIFFERENCE, 2: UNDECIDED}


@dataclass(frozen=True)
class SequentialPlan:
    """``alpha``: the error rate of declaring a difference when there is none; ``max_episodes``:
    the planned matched episodes per comparison; ``block``: episodes between looks; ``prior``:
    ``a`` of the Beta(a, a) mixture over the discordant coin (larger: more patient, better at
    small differences, slower at large ones)."""

    alpha: float = 0.05
    max_episodes: int = 128
    block: int = 16
    prior: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha}")
        if self.max_episodes < 1 or self.block < 1:
            raise ValueError(
                f"max_episodes and block must be >= 1, got {self.max_episodes}, {self.block}"
            )
        if self.prior <= 0:
            raise ValueError(f"prior must be > 0, got {self.prior}")

    def looks(self) -> list[int]:
        """Matched episodes seen at each look: every ``block``, and the planned maximum."""
        out = list(range(self.block, self.max_episodes + 1, self.block))
        return out if out and out[-1] == self.max_episodes else [*out, self.max_episodes]


@dataclass(frozen=True)
class Decision:
    state: str  # better / worse / no difference / undecided (more episodes needed)
    n_used: int  # matched episodes the decision rests on (the rest need not be played)
    reason: str
    plus: int  # discordant episodes only this run solved
    minus: int  # discordant episodes only the baseline solved
    e_value: float
    p_anytime: float  # min(1, 1 / the largest e-value seen): valid at any stopping time


def log_e_value(plus, minus, prior: float = 1.0):
    """log of the Beta(a, a)-mixture e-value for ``plus``/``minus`` discordant pairs."""
    plus = np.asarray(plus, dtype=float)
    minus = np.asarray(minus, dtype=float)
    return betaln(prior + plus, prior + minus) - betaln(prior, prior) + (plus + minus) * math.log(2)


def decide_many(
    plan: SequentialPlan, run: np.ndarray, base: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised :func:`decide` over rows of matched outcomes (shape ``sims × episodes``).

    Returns per row: the state code (see CODES), episodes used, plus, minus and the largest
    log e-value seen up to the decision.
    """
    run = np.atleast_2d(np.asarray(run, dtype=bool))[:, : plan.max_episodes]
    base = np.atleast_2d(np.asarray(base, dtype=bool))[:, : plan.max_episodes]
    if run.shape != base.shape:
        raise ValueError(f"matched samples differ in shape: {run.shape} vs {base.shape}")
    sims, n = run.shape
    looks = np.array([t for t in plan.looks() if t <= n], dtype=int)
    state = np.full(sims, 2)
    used = np.full(sims, n)
    if looks.size == 0:
        zero = np.zeros(sims, dtype=int)
        return state, used, zero, zero, np.zeros(sims)
    plus = np.cumsum(run & ~base, axis=1)[:, looks - 1]
    minus = np.cumsum(~run & base, axis=1)[:, looks - 1]
    log_e = log_e_value(plus, minus, plan.prior)
    bar = math.log(1 / plan.alpha)
    left = plan.max_episodes - looks  # episodes still to play after each look
    reach = np.maximum(
        log_e_value(plus + left, minus, plan.prior), log_e_value(plus, minus + left, plan.prior)
    )
    crossed = log_e >= bar
    stop = crossed | (reach < bar) | (looks == plan.max_episodes)
    any_stop = stop.any(axis=1)
    first = np.argmax(stop, axis=1)
    rows = np.arange(sims)
    hit = any_stop & crossed[rows, first]
    sign = np.where(plus[rows, first] > minus[rows, first], 1, -1)
    state = np.where(hit, sign, np.where(any_stop, 0, 2))
    at = np.where(any_stop, first, looks.size - 1)
    used = np.where(any_stop, looks[at], n)
    best = np.maximum.accumulate(log_e, axis=1)[rows, at]
    return state, used, plus[rows, at], minus[rows, at], best


def decide(
    plan: SequentialPlan, run_successes: Sequence[bool], base_successes: Sequence[bool]
) -> Decision:
    """The decision after the matched episodes given so far, in the order they were played.

    ``run_successes[i]`` and ``base_successes[i]`` are the outcomes of the same episode (same
    env, episode index and seed, hence the same scene). Only the first ``max_episodes`` count.
    """
    if len(run_successes) != len(base_successes):
        raise ValueError(
            f"matched samples differ in length: {len(run_successes)} vs {len(base_successes)}"
        )
    codes, used, plus, minus, best = decide_many(
        plan, np.asarray(run_successes, dtype=bool), np.asarray(base_successes, dtype=bool)
    )
    state, n_used, p, m = CODES[int(codes[0])], int(used[0]), int(plus[0]), int(minus[0])
    e = math.exp(float(log_e_value(p, m, plan.prior)))
    p_any = min(1.0, math.exp(-float(best[0])))
    return Decision(state, n_used, _reason(plan, state, n_used, p, m, e), p, m, e, p_any)


def _reason(plan: SequentialPlan, state: str, n_used: int, plus: int, minus: int, e: float) -> str:
    pairs = f"{plus} discordant for this run, {minus} for the baseline, after {n_used} episodes"
    bar = f"1/alpha = {1 / plan.alpha:g}"
    if state in (BETTER, WORSE):
        return f"decided {state}: e-value {e:.3g} >= {bar} ({pairs})"
    if state == UNDECIDED:
        return f"undecided: e-value {e:.3g} < {bar} ({pairs}); play the next block"
    if n_used >= plan.max_episodes:
        return f"no difference detected within {plan.max_episodes} episodes ({pairs})"
    left = plan.max_episodes - n_used
    return (
        f"no difference detectable: even {left} more episodes all discordant one way could not "
        f"reach {bar} ({pairs})"
    )


__all__ = [
    "SequentialPlan",
    "Decision",
    "decide",
    "decide_many",
    "log_e_value",
    "BETTER",
    "WORSE",
    "NO_DIFFERENCE",
    "UNDECIDED",
]
