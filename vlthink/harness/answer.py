"""Answer-mode numbers (suite ``vl-think-answer``, docs/answer-mode.md), per domain.

Every rate is read at the episode's final step and comes with its 95% Wilson interval
(:func:`vlthink.harness.stats.wilson`, episodes or pairs pooled):

* ``answered``: the carrot rests on some board (``placed_on`` is ``target`` or ``distractor``);
* ``correct``: it rests on the target (``success_at_end``);
* ``correct_given_answered``: ``correct`` among the answered episodes;
* ``consistent``: of the pairs whose two orientations (episodes ``2k`` and ``2k + 1``) both
  have rows, the share correct in both; an instruction-blind policy scores 0 here whatever its
  ``correct``;
* ``position_bias``: ``correct`` when the target is left minus when it is right, with Newcombe's
  hybrid score interval (from the two Wilson intervals): +1 always left, -1 always right, 0 none.

Against a baseline run (``vlthink-eval summary RUN --baseline BASE``, or a run's ``--baseline``)
the unit is the pair: a pair's score is its share correct (0, 1/2 or 1), and per domain, over
the pairs whole in both runs, ``pair_p`` is the paired Wilcoxon signed-rank test of the pair
scores and ``consistent_p`` McNemar's exact test of the pairs' consistency (H1 as the run's
``--alternative``). The baseline may be a ``vlm-probe`` run on the same ids: its rows are its
answers on the first frame, so a VLM and its VLA are compared on identical scenes, pair by pair.

Rows that carry an error count as neither answered nor correct (as in the main summary).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from vlthink.harness import stats

SUITE = "vl-think-answer"
ANSWERS = ("target", "distractor")
RATES = ("answered", "correct", "correct_given_answered", "consistent")
COLUMNS = [
    "policy",
    "domain",
    "episodes",
    "pairs",
    "errors",
    *[f"{r}{s}" for r in RATES for s in ("", "_ci_low", "_ci_high")],
    "correct_left",
    "correct_right",
    "position_bias",
    "position_bias_ci_low",
    "position_bias_ci_high",
]
#: Added to a domain's record when the run is compared with a baseline (pairs as the unit).
PAIRED_COLUMNS = [
    "baseline",
    "pairs_matched",
    "pair_score",
    "pair_score_base",
    "pair_p",
    "pair_p_n",
    "consistent_p",
    "consistent_p_n",
]
PAIR_KEYS = ["env", "seed", "pair"]


def _rate(name: str, k: int, n: int) -> dict[str, float]:
    lo, hi = stats.wilson(k, n) if n else (math.nan, math.nan)
    return {name: k / n if n else math.nan, f"{name}_ci_low": lo, f"{name}_ci_high": hi}


def _bias(left: pd.Series, right: pd.Series) -> dict[str, float]:
    """Difference of two proportions with Newcombe's hybrid score interval."""
    if not len(left) or not len(right):
        return dict.fromkeys(("position_bias", "position_bias_ci_low", "position_bias_ci_high"))
    (k1, n1), (k2, n2) = (int(left.sum()), len(left)), (int(right.sum()), len(right))
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = stats.wilson(k1, n1), stats.wilson(k2, n2)
    return {
        "position_bias": p1 - p2,
        "position_bias_ci_low": p1 - p2 - math.hypot(p1 - l1, u2 - p2),
        "position_bias_ci_high": p1 - p2 + math.hypot(u1 - p1, p2 - l2),
    }


def _target_side(task: Any) -> str | None:
    return task.get("target_position") if isinstance(task, dict) else None


def domain_block(df: pd.DataFrame) -> dict[str, Any]:
    """The answer-mode numbers of one domain's rows (columns of :func:`rows_frame` rows)."""
    ok = df["error"].isna()
    correct = df["success_at_end"].astype(bool) & ok
    answered = df["placed_on"].isin(ANSWERS) & ok
    per_pair = correct.groupby([df["env"], df["seed"], df["episode"] // 2]).agg(["all", "size"])
    whole = per_pair[per_pair["size"] == 2]
    side = df["task"].map(_target_side) if "task" in df else pd.Series([None] * len(df))
    out: dict[str, Any] = {
        "episodes": len(df),
        "pairs": len(whole),
        "errors": int((~ok).sum()),
        **_rate("answered", int(answered.sum()), len(df)),
        **_rate("correct", int(correct.sum()), len(df)),
        **_rate("correct_given_answered", int(correct[answered].sum()), int(answered.sum())),
        **_rate("consistent", int(whole["all"].sum()), len(whole)),
        "correct_left": correct[side == "left"].mean() if (side == "left").any() else math.nan,
        "correct_right": correct[side == "right"].mean() if (side == "right").any() else math.nan,
    }
    return out | _bias(correct[side == "left"], correct[side == "right"])


def pair_scores(df: pd.DataFrame) -> pd.DataFrame:
    """One row per whole pair (both orientations have rows) of answer-mode rows: its domain
    (``group``), ``score`` (share of its two episodes correct) and ``consistent`` (both)."""
    correct = (df["success_at_end"].astype(bool) & df["error"].isna()).astype(float)
    keyed = df.assign(pair=df["episode"] // 2, correct=correct)
    pairs = keyed.groupby(PAIR_KEYS).agg(
        group=("group", "first"), score=("correct", "mean"), size=("correct", "size")
    )
    whole = pairs[pairs["size"] == 2].drop(columns="size")
    return whole.assign(consistent=whole["score"] == 1.0).reset_index()


def paired_block(run: pd.DataFrame, base: pd.DataFrame, alternative: str) -> dict[str, Any]:
    """The pair-level tests of one domain: ``run`` and ``base`` are :func:`pair_scores` rows."""
    m = run.merge(base, on=PAIR_KEYS, suffixes=("", "_base"))
    w = stats.wilcoxon_paired(m["score"].tolist(), m["score_base"].tolist(), alternative)
    mc = stats.mcnemar_exact(m["consistent"].tolist(), m["consistent_base"].tolist(), alternative)
    return {
        "pairs_matched": len(m),
        "pair_score": m["score"].mean() if len(m) else math.nan,
        "pair_score_base": m["score_base"].mean() if len(m) else math.nan,
        "pair_p": w.p,
        "pair_p_n": w.n,
        "consistent_p": mc.p,
        "consistent_p_n": mc.n,
    }


def answer_table(df: pd.DataFrame, policy: str = "?") -> pd.DataFrame:
    """One row per answer-mode domain of a run's rows (empty when the run has none)."""
    sub = _answer_rows(df)
    recs = [
        {"policy": policy, "domain": group, **domain_block(gdf)}
        for group, gdf in sub.groupby("group", sort=True)
    ]
    return pd.DataFrame(recs, columns=COLUMNS)


def answer_records(
    df: pd.DataFrame,
    policy: str = "?",
    base: pd.DataFrame | None = None,
    baseline: str = "?",
    alternative: str = "greater",
) -> list[dict[str, Any]]:
    """:func:`answer_table` as plain records: what the summary table carries in its ``attrs``
    (pandas compares attrs when it concatenates frames, which a DataFrame there cannot bear);
    with the baseline's rows ``base``, each domain's pair-level tests against it."""
    records = answer_table(df, policy).to_dict("records")
    if base is None or not records:
        return records
    mine, theirs = pair_scores(_answer_rows(df)), pair_scores(_answer_rows(base))
    for rec in records:
        at = mine["group"] == rec["domain"]
        rec.update(baseline=baseline)
        rec.update(paired_block(mine[at], theirs[theirs["group"] == rec["domain"]], alternative))
    return records


def _answer_rows(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["suite"] == SUITE] if "suite" in df else df.iloc[:0]


def _ci(r: pd.Series, name: str, fmt: str = "{:.2f}") -> str:
    if pd.isna(r[name]):
        return "—"
    lo, hi = r[f"{name}_ci_low"], r[f"{name}_ci_high"]
    return f"{fmt.format(r[name])} [{fmt.format(lo)}, {fmt.format(hi)}]"


def format_answers(records: list[dict[str, Any]] | None) -> str:
    """The answer-mode section of the printed summary ("" when the run has no answer mode)."""
    if not records:
        return ""
    table = pd.DataFrame(records, columns=COLUMNS + PAIRED_COLUMNS)
    lines = [
        {
            "domain": r["domain"],
            "n (pairs)": f"{r['episodes']} ({r['pairs']})",
            "answered": _ci(r, "answered"),
            "correct": _ci(r, "correct"),
            "correct|answered": _ci(r, "correct_given_answered"),
            "consistent": _ci(r, "consistent"),
            "bias L-R": _ci(r, "position_bias", "{:+.2f}"),
        }
        for _, r in table.iterrows()
    ]
    return (
        "\n\nanswer mode (read at the final step; [95% interval]):\n"
        + pd.DataFrame(lines).to_string(index=False, justify="left")
        + "\nnote: consistent = correct in both orientations of a pair; bias L-R = correct "
        "when the target is left minus when it is right (Newcombe interval)."
        + _format_paired(table)
    )


def format_pair_p(p: Any, n: Any) -> str:
    """A pair-level p-value and how many pairs differ ("—" without a test)."""
    return f"— (n={int(n)})" if p is None or pd.isna(p) else f"{p:.3g} (n={int(n)})"


def _format_paired(table: pd.DataFrame) -> str:
    """The pair-level tests against a baseline ("" without one)."""
    compared = table[table["pairs_matched"].notna()]
    if compared.empty:
        return ""
    lines = [
        {
            "domain": r["domain"],
            "pairs": int(r["pairs_matched"]),
            "pair score (run vs base)": f"{r['pair_score']:.2f} vs {r['pair_score_base']:.2f}",
            "Wilcoxon p": format_pair_p(r["pair_p"], r["pair_p_n"]),
            "McNemar consistent p": format_pair_p(r["consistent_p"], r["consistent_p_n"]),
        }
        for _, r in compared.iterrows()
    ]
    return (
        f"\n\nanswer mode against {compared['baseline'].iloc[0]}, pairs as the unit:\n"
        + pd.DataFrame(lines).to_string(index=False, justify="left")
        + "\nnote: a pair's score is its share correct (0, 1/2, 1); n = pairs that differ."
    )
