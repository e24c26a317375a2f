"""The report's answer-mode section (docs/answer-mode.md): per run and domain the numbers of
:mod:`vlthink.harness.answer` as the summary gives them (``table.attrs["answer"]``), read at the
final step, a chart of ``correct`` per domain beside chance, and, against a baseline, the
pair-level tests (pairs are the unit: a ``vlm-probe`` baseline compares a VLM with its VLA)."""

from __future__ import annotations

import math
from typing import Any

from vlthink.harness import answer
from vlthink.report import charts
from vlthink.report.charts import Bar, Series
from vlthink.report.html import esc, table, tag
from vlthink.report.media import MediaSink
from vlthink.report.numbers import figure
from vlthink.report.runs import RunSet

CHANCE = 0.5  # two boards
CAPTION = (
    "Bars: correct at the final step per domain; whiskers: 95% Wilson interval over episodes; "
    "dashed: chance (1/2 of answered). Answer mode is its own suite, never pooled with VL-Think."
)
HEADER = [
    "domain",
    "episodes (pairs)",
    "answered",
    "correct",
    "correct | answered",
    "consistent",
    "bias L−R",
]
PAIRED_HEADER = [
    "domain",
    "pairs",
    "pair score (run vs baseline)",
    "Wilcoxon p (pairs)",
    "McNemar p (consistency)",
]


def _ci(r: dict[str, Any], name: str, fmt: str = "{:.2f}") -> str:
    value = r.get(name)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return (
        f"{fmt.format(value)} [{fmt.format(r[f'{name}_ci_low'])}, "
        f"{fmt.format(r[f'{name}_ci_high'])}]"
    )


def _numbers(records: list[dict[str, Any]]) -> str:
    rows = [
        [
            r["domain"],
            f"{r['episodes']} ({r['pairs']})",
            _ci(r, "answered"),
            _ci(r, "correct"),
            _ci(r, "correct_given_answered"),
            _ci(r, "consistent"),
            _ci(r, "position_bias", "{:+.2f}"),
        ]
        for r in records
    ]
    return table(HEADER, rows)


def _paired(records: list[dict[str, Any]]) -> str:
    compared = [r for r in records if r.get("pairs_matched") is not None]
    if not compared:
        return ""
    rows = [
        [
            r["domain"],
            r["pairs_matched"],
            f"{r['pair_score']:.2f} vs {r['pair_score_base']:.2f}",
            answer.format_pair_p(r["pair_p"], r["pair_p_n"]),
            answer.format_pair_p(r["consistent_p"], r["consistent_p_n"]),
        ]
        for r in compared
    ]
    note = tag(
        "p",
        esc(
            f"Against {compared[0]['baseline']}, pairs as the unit: a pair's score is its share "
            "correct (0, ½, 1); n counts the pairs whose outcomes differ."
        ),
    )
    return table(PAIRED_HEADER, rows) + note


def answer_section(runset: RunSet, sink: MediaSink) -> str:
    """The section ("" when no run has answer-mode rows)."""
    runs = [(run, run.table.attrs.get("answer") or []) for run in runset.all_runs]
    runs = [(run, recs) for run, recs in runs if recs]
    if not runs:
        return ""
    domains = sorted({r["domain"] for _, recs in runs for r in recs})
    series = []
    for run, recs in runs:
        by = {r["domain"]: r for r in recs}
        bars = [
            Bar(by[d]["correct"], by[d]["correct_ci_low"], by[d]["correct_ci_high"])
            if d in by
            else Bar(math.nan)
            for d in domains
        ]
        series.append(Series(run.label, "baseline" if run.is_baseline else "measured", bars))
    chart = charts.grouped_bars(
        "answer mode: correct per domain",
        domains,
        series,
        ylabel="correct",
        chance=[CHANCE] * len(domains),
    )
    parts = [tag("h2", "Answer mode"), figure(sink, chart, "answer mode correct", CAPTION)]
    for run, recs in runs:
        parts += [tag("h3", esc(run.label)), _numbers(recs), _paired(recs)]
    return tag("section", "".join(parts), id=answer.SUITE)
