"""The report's "how much" section: per run, a forest plot of its paired success differences
against the baseline, per env (Newcombe interval) and per group/suite (bootstrap over seeds),
all read from the summary table (the report never re-derives a number the summary gives)."""

from __future__ import annotations

import math

import pandas as pd

from vlthink.report import charts
from vlthink.report.charts import Effect
from vlthink.report.html import esc, tag
from vlthink.report.media import MediaSink
from vlthink.report.numbers import SUITE_ORDER, figure
from vlthink.report.runs import Run, RunSet

CAPTION = (
    "Difference in success rate, this run minus the baseline, on matched episodes (same "
    "scenes). Squares: per env, Newcombe's hybrid score 95% interval for paired proportions. "
    "Diamonds: group / suite mean over envs, 95% percentile bootstrap over seeds (no line with "
    "one seed). Right: McNemar p adjusted for multiplicity within each level (envs: {family}). "
    "Dashed: no difference."
)


def _num(x: object) -> float:
    try:
        return math.nan if x is None else float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _effect(r: pd.Series, label: str, summary: bool) -> Effect:
    p = _num(r.get("mcnemar_p_adjusted"))
    note = "" if math.isnan(p) else (f"p={p:.3f}" if p >= 0.001 else f"p={p:.0e}")
    return Effect(
        label, _num(r.get("diff")), _num(r.get("diff_low")), _num(r.get("diff_high")), summary, note
    )


def _ordered(table: pd.DataFrame) -> list[Effect]:
    """Env lines under each group's diamond, groups under their suite's, suites in page order."""
    suites = [s for s in SUITE_ORDER if s in set(table["suite"])]
    suites += sorted(set(table["suite"]) - set(suites))
    out = []
    for suite in suites:
        st = table[table["suite"] == suite]
        out += [
            _effect(r, f"{suite} (all)", True) for _, r in st[st["level"] == "suite"].iterrows()
        ]
        for group in sorted(set(st.loc[st["level"] == "group", "group"])):
            envs = st[(st["level"] == "env") & (st["group"] == group)]
            if len(envs) > 1:  # a group of one env repeats that env's line
                row = st[(st["level"] == "group") & (st["group"] == group)].iloc[0]
                out.append(_effect(row, f"[{group}]", True))
            out += [_effect(r, str(r["env"]), False) for _, r in envs.iterrows()]
    return out


def _family(table: pd.DataFrame) -> str:
    fams = table.loc[table["level"] == "env", "adjust_family"].dropna()
    return str(fams.iloc[0]) if len(fams) else "not computed"


def _run_figure(run: Run, base: Run, sink: MediaSink) -> str:
    table = run.table
    if "diff" not in table or table["diff"].isna().all():
        return ""
    effects = _ordered(table)
    data = charts.forest(f"{run.label} − {base.label}", effects)
    caption = CAPTION.format(family=_family(table))
    return figure(sink, data, f"{run.label} differences", caption, data_kind="effects")


def effects_section(runset: RunSet, sink: MediaSink) -> str:
    """One forest plot per run compared with the baseline ('' without a baseline)."""
    if runset.baseline is None:
        return ""
    figs = [_run_figure(run, runset.baseline, sink) for run in runset.runs]
    figs = [f for f in figs if f]
    if not figs:
        return ""
    title = f"How much better or worse than {esc(runset.baseline.label)}"
    return tag("h2", title) + tag("div", "".join(figs), cls="charts")
