"""Simulate the sequential paired comparison (vlthink.harness.sequential) against the fixed test.

    python3 bench/sim_sequential.py [--sims 10000] [--max 128] [--block 16] [--alpha 0.05]

Each simulated comparison plays ``--max`` matched episodes of one env; run and baseline succeed
independently with their rates (no shared scene difficulty: the most discordant pairs, so the
hardest case for the error rate). The sequential test looks every ``--block`` episodes; the fixed
test is the two-sided exact McNemar test on all ``--max`` episodes at the same alpha.

``--shared R``: on a share R of episodes both runs face the same scene difficulty (positively
correlated outcomes, as on shared scenes); 0 by default.

Null: ``--sims`` comparisons spread evenly over equal rates 0.1, 0.2, ..., 0.9: the rate of
declared differences must be <= alpha within Monte-Carlo error (``2 * sqrt(alpha(1-alpha)/n)``).
Alternatives: per pair of rates, power (difference declared in the right direction), mean
episodes used, and the fixed test's power.

``--step``: also run STEP (Snyder et al. 2025; TRI's package ``sequentialized-barnard-tests``,
installed separately) on the same simulated outcomes read as two independent samples (its
design), one-sided H1 "run > baseline" at alpha 0.05 with its precomputed n_max = 200 policy,
beside this test at two-sided 2 x alpha (so "better" alone has level alpha), 200 episodes.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from scipy import stats as st

from vlthink.harness.sequential import SequentialPlan, decide_many

NULL_RATES = [round(0.1 * i, 1) for i in range(1, 10)]
ALTERNATIVES = [(0.5, 0.7), (0.3, 0.4), (0.7, 0.5), (0.5, 0.6), (0.1, 0.3)]


def outcomes(rng, sims: int, n: int, p_run: float, p_base: float, shared: float = 0.0):
    """Matched outcomes: a scene's difficulty u ~ U(0, 1); this run succeeds when u < p_run, the
    baseline when u' < p_base, where u' = u on a --shared share of episodes (same hard scenes)
    and independent otherwise. The marginal rates stay p_run and p_base."""
    u = rng.random((sims, n))
    v = np.where(rng.random((sims, n)) < shared, u, rng.random((sims, n)))
    return u < p_run, v < p_base


def mcnemar_fixed(run: np.ndarray, base: np.ndarray, alpha: float) -> np.ndarray:
    """Per row: +1 / -1 where the two-sided exact McNemar test rejects (by direction), else 0."""
    b = (run & ~base).sum(axis=1)
    c = (~run & base).sum(axis=1)
    m = b + c
    low = st.binom.cdf(np.minimum(b, c), m, 0.5)
    p = np.where(m > 0, np.minimum(1.0, 2 * low), 1.0)
    return np.where(p <= alpha, np.sign(b - c), 0)


def null_table(rng, plan: SequentialPlan, sims: int, shared: float) -> list[str]:
    per = sims // len(NULL_RATES)
    lines = ["| rate (both) | comparisons | false positives | rate | mean episodes |"]
    lines.append("|---|---|---|---|---|")
    total_fp = total = 0
    for p in NULL_RATES:
        run, base = outcomes(rng, per, plan.max_episodes, p, p, shared)
        state, used, *_ = decide_many(plan, run, base)
        fp = int(np.sum(np.abs(state) == 1))
        total_fp += fp
        total += per
        lines.append(f"| {p:.1f} | {per} | {fp} | {fp / per:.4f} | {used.mean():.1f} |")
    se = math.sqrt(plan.alpha * (1 - plan.alpha) / total)
    lines.append(
        f"| all | {total} | {total_fp} | **{total_fp / total:.4f}** "
        f"(alpha {plan.alpha}, MC s.e. {se:.4f}) | |"
    )
    return lines


def alt_table(rng, plan: SequentialPlan, sims: int, shared: float) -> list[str]:
    lines = [
        "| run vs baseline | power (sequential) | mean episodes (of "
        f"{plan.max_episodes}) | saved | wrong direction | power (fixed McNemar, "
        f"{plan.max_episodes}) |",
        "|---|---|---|---|---|---|",
    ]
    for p_run, p_base in ALTERNATIVES:
        run, base = outcomes(rng, sims, plan.max_episodes, p_run, p_base, shared)
        state, used, *_ = decide_many(plan, run, base)
        right = 1 if p_run > p_base else -1
        power = np.mean(state == right)
        wrong = np.mean(state == -right)
        fixed = np.mean(mcnemar_fixed(run, base, plan.alpha) == right)
        saved = 1 - used.mean() / plan.max_episodes
        lines.append(
            f"| {p_run} vs {p_base} | {power:.3f} | {used.mean():.1f} | {saved:.0%} | "
            f"{wrong:.4f} | {fixed:.3f} |"
        )
    return lines


STEP_CASES = [(0.5, 0.5), (0.2, 0.2), (0.7, 0.5), (0.4, 0.3), (0.3, 0.1)]


def step_table(rng, alpha: float, block: int, sims: int, shared: float) -> list[str]:
    """STEP and this test on the same outcomes; the run is sample 1, the baseline sample 0."""
    from sequentialized_barnard_tests.base import Decision, Hypothesis
    from sequentialized_barnard_tests.step import StepTest

    n = 200
    step = StepTest(Hypothesis.P0LessThanP1, n, alpha)
    ours_plan = SequentialPlan(2 * alpha, n, block)
    lines = [
        f"| run vs baseline | STEP: declares better | STEP: mean trials (of {n}) | "
        f"this test: declares better | this test: mean episodes (of {n}) |",
        "|---|---|---|---|---|",
    ]
    for p_run, p_base in STEP_CASES:
        run, base = outcomes(rng, sims, n, p_run, p_base, shared)
        better, used = 0, 0
        for i in range(sims):
            step.reset()
            for t in range(n):
                res = step.step(int(base[i, t]), int(run[i, t]))
                if res.decision != Decision.FailToDecide:
                    break
            better += res.decision == Decision.AcceptAlternative
            used += t + 1
        state, ours_used, *_ = decide_many(ours_plan, run, base)
        lines.append(
            f"| {p_run} vs {p_base} | {better / sims:.3f} | {used / sims:.1f} | "
            f"{np.mean(state == 1):.3f} | {ours_used.mean():.1f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", type=int, default=10_000)
    ap.add_argument("--max", type=int, default=128)
    ap.add_argument("--block", type=int, default=16)
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--spending", default="obrien-fleming")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shared", type=float, default=0.0, help="share of shared difficulty")
    ap.add_argument("--step", type=int, default=0, help="comparisons per STEP row (0: skip)")
    args = ap.parse_args(argv)
    plan = SequentialPlan(args.alpha, args.max, args.block, args.spending)
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    print(
        f"plan: {plan}; {args.sims} comparisons per row; seed {args.seed}; shared {args.shared}\n"
    )
    print("\n".join(null_table(rng, plan, args.sims, args.shared)) + "\n")
    print("\n".join(alt_table(rng, plan, args.sims, args.shared)))
    if args.step:
        print("\n" + "\n".join(step_table(rng, args.alpha, args.block, args.step, args.shared)))
    print(f"\n({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
