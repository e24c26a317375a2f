"""Adjusted p-values and paired differences in the summary table, its CSV and its printout."""

import io

import pandas as pd
import pytest

from vlthink.harness import stats, summary
from vlthink.harness.episodes import HARNESS_PROTOCOL

# The columns of summary.csv before adjusted p-values and differences were appended.
OLD_COLUMNS = [
    "level", "suite", "group", "env", "policy", "kind", "episodes", "seeds", "errors",
    "success", "success_sd", "ci_low", "ci_high", "success_end", "success_end_sd",
    "wrong_board", "success_left", "success_center", "success_right", "said_yes",
    "position_accuracy", "absent_correct", "baseline", "alternative", "p_value", "p_n",
    "p_method", "mcnemar_p", "mcnemar_n",
]  # fmt: skip


def _manifest(policy, envs):
    return {
        "protocol_version": "vlthink-1",
        "harness_protocol": HARNESS_PROTOCOL,
        "policy": {"name": policy},
        "plan": {"sim_backend": "cpu"},
        "tasks": {e: {"suite": "vl-think", "group": "Traffic"} for e in envs},
    }


def _rows(outcomes):
    """outcomes: {(env, seed): [success per episode]} -> rows in the harness's format."""
    return [
        {"env": env, "episode": i, "seed": seed, "success_once": ok, "success_at_end": ok}
        for (env, seed), oks in outcomes.items()
        for i, ok in enumerate(oks)
    ]


# Env A: 6 episodes only the run solved (3 per seed), none only the baseline.
# Env B: 2 only the run (seed 0), 1 only the baseline (seed 1). 8 episodes per cell.
RUN = {
    ("A-v0", 0): [1, 1, 1, 1, 0, 0, 0, 0],
    ("A-v0", 1): [1, 1, 1, 1, 0, 0, 0, 0],
    ("B-v0", 0): [1, 1, 1, 0, 0, 0, 0, 0],
    ("B-v0", 1): [1, 0, 0, 0, 0, 0, 0, 0],
}
BASE = {
    ("A-v0", 0): [1, 0, 0, 0, 0, 0, 0, 0],
    ("A-v0", 1): [1, 0, 0, 0, 0, 0, 0, 0],
    ("B-v0", 0): [1, 0, 0, 0, 0, 0, 0, 0],
    ("B-v0", 1): [1, 1, 0, 0, 0, 0, 0, 0],
}


def _compare(adjustment="holm"):
    envs = ["A-v0", "B-v0"]
    run = {k: [bool(x) for x in v] for k, v in RUN.items()}
    base = {k: [bool(x) for x in v] for k, v in BASE.items()}
    return summary.summarize(
        _manifest("new", envs),
        _rows(run),
        (_manifest("old", envs), _rows(base)),
        adjustment=adjustment,
    )


def test_new_columns_are_appended_after_the_old_ones():
    assert summary.COLUMNS[: len(OLD_COLUMNS)] == OLD_COLUMNS
    assert {"p_adjusted", "mcnemar_p_adjusted", "diff", "diff_low", "diff_high"} <= set(
        summary.COLUMNS[len(OLD_COLUMNS) :]
    )


def test_baseline_comparison_has_holm_adjusted_p_and_paired_differences():
    t = _compare()
    env = t[t["level"] == "env"].set_index("env")
    # McNemar, one-sided: A: b=6, c=0 -> 2^-6 = 0.015625; B: b=2, c=1 -> P(X>=2 | Bin(3,1/2)) = 0.5
    assert env.loc["A-v0", "mcnemar_p"] == pytest.approx(2**-6)
    assert env.loc["B-v0", "mcnemar_p"] == pytest.approx(0.5)
    # Holm over the two env rows: 2 x 0.015625 = 0.03125; then max(0.03125, 1 x 0.5) = 0.5
    assert env.loc["A-v0", "mcnemar_p_adjusted"] == pytest.approx(0.03125)
    assert env.loc["B-v0", "mcnemar_p_adjusted"] == pytest.approx(0.5)
    assert "Holm over the 2 env row(s)" in env.loc["A-v0", "adjust_family"]
    # Paired difference of env A: (6 - 0) / 16 with Newcombe's interval of the table
    # a = 2 both, b = 6 run only, c = 0 baseline only, d = 8 neither
    assert env.loc["A-v0", "diff"] == pytest.approx(6 / 16)
    ref = stats.newcombe_paired(2, 6, 0, 8)
    assert (env.loc["A-v0", "diff_low"], env.loc["A-v0", "diff_high"]) == (ref.low, ref.high)
    assert env.loc["A-v0", "diff_low"] > 0  # six to none: the interval excludes 0
    assert env.loc["B-v0", "diff_low"] < 0 < env.loc["B-v0", "diff_high"]


def test_group_difference_is_a_bootstrap_over_seeds_of_the_env_mean():
    t = _compare()
    group = t[t["level"] == "group"].iloc[0]
    # seed 0: A +3/8, B +2/8 -> mean 5/16; seed 1: A +3/8, B -1/8 -> mean 2/16
    assert group["diff"] == pytest.approx((5 / 16 + 2 / 16) / 2)
    # two seeds: a resample is (d0, d0), (d0, d1), (d1, d0) or (d1, d1); each extreme has
    # probability 1/4 > 2.5%, so the percentile interval is exactly [d1, d0]
    assert group["diff_low"] == pytest.approx(2 / 16) and group["diff_high"] == pytest.approx(
        5 / 16
    )
    assert group["diff_method"] == stats.BOOTSTRAP


def test_benjamini_hochberg_on_request_and_the_family_is_named():
    t = _compare("bh")
    env = t[t["level"] == "env"].set_index("env")
    # BH: sorted 0.015625, 0.5 -> 2/1 x 0.015625 = 0.03125, 2/2 x 0.5 = 0.5
    assert env.loc["A-v0", "mcnemar_p_adjusted"] == pytest.approx(0.03125)
    text = summary.format_table(t)
    assert "Benjamini-Hochberg over the 2 env row(s)" in text
    assert "+0.38 [+" in text  # env A's difference with its interval
    with pytest.raises(ValueError, match="adjustment"):
        _compare("sidak")


def test_csv_round_trip_and_an_old_summary_csv_still_prints():
    t = _compare()
    buf = io.StringIO()
    summary.write_csv(t, buf)
    back = pd.read_csv(io.StringIO(buf.getvalue()))
    assert list(back.columns) == summary.COLUMNS
    # a summary.csv written before the appended columns existed reads and prints
    old = back[OLD_COLUMNS]
    text = summary.format_table(old)
    assert "A-v0" in text and "adjusted p: not computed" in text
    assert "0.016 (6, exact)" in text  # the raw McNemar p of env A is still shown


def test_a_run_without_baseline_leaves_the_new_columns_blank():
    t = summary.summarize(_manifest("new", ["A-v0"]), _rows({("A-v0", 0): [True, False]}))
    assert t[["p_adjusted", "diff", "diff_low"]].isna().all().all()
    assert "Δ success" not in summary.format_table(t)
