"""The sequential paired comparison: its decisions on clear cases and its exact error rate."""

import itertools

import numpy as np
import pytest

from vlthink.harness import sequential
from vlthink.harness.sequential import SequentialPlan, decide, decide_many


def test_a_clear_difference_is_decided_early_in_the_right_direction():
    plan = SequentialPlan(alpha=0.05, max_episodes=128, block=16)
    d = decide(plan, [True] * 128, [False] * 128)
    assert d.state == sequential.BETTER and d.n_used < 128 and d.n_used % 16 == 0
    assert d.plus == d.n_used and d.minus == 0 and abs(d.plus - d.minus) >= d.bound
    worse = decide(plan, [False] * 128, [True] * 128)
    assert worse.state == sequential.WORSE and worse.n_used == d.n_used


def test_identical_sequences_never_declare_a_difference():
    plan = SequentialPlan(alpha=0.05, max_episodes=64, block=8)
    rng = np.random.default_rng(5)
    for _ in range(20):
        same = (rng.random(64) < rng.uniform(0.1, 0.9)).tolist()
        d = decide(plan, same, same)
        assert d.state == sequential.NO_DIFFERENCE and d.plus == d.minus == 0


def test_futility_stops_when_no_remaining_outcome_could_reach_a_bound():
    # 24 of 32 episodes played, 12 discordant each way: even the last 8 all for this run give
    # 20 vs 12 (exact two-sided p ~ 0.22), so no bound can be crossed: stop at 24, not 32.
    plan = SequentialPlan(alpha=0.05, max_episodes=32, block=8)
    run = [True, False] * 12 + [True] * 8
    base = [False, True] * 12 + [False] * 8
    d = decide(plan, run, base)
    assert d.state == sequential.NO_DIFFERENCE and d.n_used == 24
    assert "detectable" in d.reason and (d.plus, d.minus) == (12, 12)
    # given only what was played so far, the same comparison stops at the same look
    assert decide(plan, run[:24], base[:24]) == d
    # and with 16 played (8 each way) a bound is still reachable: play on
    assert decide(plan, run[:16], base[:16]).state == sequential.UNDECIDED


def test_too_few_episodes_for_a_look_is_undecided_not_a_decision():
    plan = SequentialPlan(max_episodes=128, block=16)
    d = decide(plan, [True] * 10, [False] * 10)
    assert d.state == sequential.UNDECIDED and d.n_used == 10
    d = decide(plan, [True] * 20, [False, True] * 10)  # one look (16), no bound reached
    assert d.state == sequential.UNDECIDED


def test_bad_plans_and_mismatched_samples_are_refused():
    with pytest.raises(ValueError, match="alpha"):
        SequentialPlan(alpha=1.5)
    with pytest.raises(ValueError, match="spending"):
        SequentialPlan(spending="linear-ish")
    with pytest.raises(ValueError, match="length"):
        decide(SequentialPlan(), [True] * 3, [True] * 4)


@pytest.mark.parametrize("spending", sorted(sequential.SPENDING))
@pytest.mark.parametrize("discordant_every", [1, 2])
def test_exact_error_rate_is_at_most_alpha_over_every_sign_pattern(spending, discordant_every):
    # Under the null every discordant pair is + or - with probability 1/2: enumerate all sign
    # patterns (each equally likely) and count how many the procedure calls a difference.
    plan = SequentialPlan(alpha=0.1, max_episodes=10, block=2, spending=spending)
    positions = list(range(0, 10, discordant_every))
    rejected = 0
    patterns = list(itertools.product([True, False], repeat=len(positions)))
    run = np.zeros((len(patterns), 10), dtype=bool)
    base = np.zeros_like(run)
    for i, signs in enumerate(patterns):
        for pos, plus in zip(positions, signs):
            run[i, pos], base[i, pos] = plus, not plus
    codes, *_ = decide_many(plan, run, base)
    rejected = int(np.sum(np.abs(codes) == 1))
    assert rejected / len(patterns) <= plan.alpha
    assert rejected > 0  # the test is not trivially silent: the extreme patterns are declared


def _rows(env, outcomes, seeds=(0, 1)):
    per = len(outcomes) // len(seeds)
    return [
        {"env": env, "seed": s, "episode": i, "success_once": outcomes[k * per + i]}
        for k, s in enumerate(seeds)
        for i in range(per)
    ]


def test_rows_are_matched_per_env_in_play_order_and_decided():
    plan = SequentialPlan(alpha=0.05, max_episodes=64, block=8)
    run = _rows("A-v0", [True] * 64) + _rows("B-v0", [True, False] * 32)
    base = _rows("A-v0", [False] * 64) + _rows("B-v0", [True, False] * 32)
    # rows arrive in any order (workers finish out of turn); an unmatched episode is left out
    run = run[::-1] + [{"env": "A-v0", "seed": 9, "episode": 0, "success_once": True}]
    decisions = sequential.decide_rows(plan, run, base)
    assert decisions["A-v0"].state == sequential.BETTER
    assert decisions["B-v0"].state == sequential.NO_DIFFERENCE
    run_ok, base_ok = sequential.matched_outcomes(run, base)["A-v0"]
    assert len(run_ok) == len(base_ok) == 64


def test_decisions_table_says_where_and_why_each_env_stopped_and_what_it_saved():
    plan = SequentialPlan(alpha=0.05, max_episodes=64, block=8)
    run = _rows("A-v0", [True] * 64) + _rows("B-v0", [True] * 10)
    base = _rows("A-v0", [False] * 64) + _rows("B-v0", [False] * 10)
    table = sequential.decisions_table(plan, sequential.decide_rows(plan, run, base))
    a, b = table
    assert a["env"] == "A-v0" and a["decision"] == sequential.BETTER
    assert a["episodes_saved"] == 64 - a["episodes_used"] > 0 and "decided better" in a["reason"]
    # B has 10 matched episodes so far: one look, not decided, nothing saved yet
    assert b["decision"] == sequential.UNDECIDED and b["episodes_saved"] == 0
