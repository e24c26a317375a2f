"""The report's "numbers as pictures" sections: success per env and group, positions, choices,
failure kinds and probe answers, drawn from the runs' summary tables and rows."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vlthink.harness import summary
from vlthink.report import charts, leaderboard, outcomes
from vlthink.report.charts import Bar, Series
from vlthink.report.html import esc, img, table, tag
from vlthink.report.media import MediaSink
from vlthink.report.runs import Run, RunSet

REPORTED = "reported:"
SUITE_ORDER = ("vl-think", "ood")  # the headline benchmark first
CHOICES = ("target", "distractor", "none")
ANSWERS = ("left", "center", "right", "none")


def _nan(x: Any) -> float:
    try:
        return math.nan if x is None else float(x)
    except (TypeError, ValueError):
        return math.nan


def p_note(r: pd.Series) -> str:
    """The paired p-values of a summary row, marked * below 0.05 (blank without a baseline)."""
    w, m = _nan(r.get("p_value")), _nan(r.get("mcnemar_p"))
    if (
        r.get("baseline") is None
        or (isinstance(r.get("baseline"), float))
        or (math.isnan(w) and math.isnan(m))
    ):
        return ""
    star = "*" if min(x for x in (w, m, 1.0) if not math.isnan(x)) < 0.05 else ""
    fmt = lambda x: "–" if math.isnan(x) else f"{x:.2g}"  # noqa: E731
    return f"W{fmt(w)}\nM{fmt(m)}{star}"  # two short lines fit above a narrow bar


def _bar(r: pd.Series | None, with_p: bool) -> Bar:
    if r is None:
        return Bar(math.nan)
    return Bar(
        _nan(r["success"]), _nan(r["ci_low"]), _nan(r["ci_high"]), p_note(r) if with_p else ""
    )


def run_series(runset: RunSet, level: str, key: str, names: list[str]) -> list[Series]:
    """One series per run (baseline first): the summary rows at ``level`` named by ``key``."""
    out = []
    for run in runset.all_runs:
        t = run.table[run.table["level"] == level]
        by = {str(r[key]): r for _, r in t.iterrows()}
        kind = "baseline" if run.is_baseline else "measured"
        out.append(Series(run.label, kind, [_bar(by.get(n), not run.is_baseline) for n in names]))
    return out


def reported_series(board: pd.DataFrame, envs: list[str]) -> list[Series]:
    """The paper's rows for these envs, as mean ± SD (the paper gives no interval)."""
    if board.empty:
        return []
    rep = board[board["source"].astype(str).str.startswith(REPORTED) & board["env"].isin(envs)]
    out = []
    for policy, rows in rep.groupby("policy", sort=True):
        by = {r["env"]: r for _, r in rows.iterrows()}
        bars = []
        for e in envs:
            r = by.get(e)
            mean = _nan(r["success_mean"]) if r is not None else math.nan
            sd = _nan(r["success_sd"]) if r is not None else math.nan
            bars.append(Bar(mean, mean - sd, mean + sd) if not math.isnan(sd) else Bar(mean))
        out.append(Series(str(policy), "reported", bars))
    return out


def read_reported(board_dir: Path | None, suite: str) -> pd.DataFrame:
    name = leaderboard.FILES.get(suite)
    if board_dir is None or name is None:
        return pd.DataFrame(columns=leaderboard.COLUMNS)
    return leaderboard.read_board(Path(board_dir) / name)


def series_attr(series: list[Series]) -> str:
    """What a chart shows, for the DOM (tests, scripts): 'label|kind' per series."""
    return ";".join(f"{s.label}|{s.kind}" for s in series)


def figure(sink: MediaSink, data: bytes, alt: str, caption: str, **attrs: object) -> str:
    src = sink.bytes(data, "image/png", ".png")
    return tag("figure", img(src, alt) + tag("figcaption", esc(caption)), cls="chart", **attrs)


CI_CAPTION = (
    "Bars: success rate; whiskers: 95% Wilson interval (pooled episodes). "
    "Hatched: the paper's reported numbers, whiskers ± SD over seeds."
)
CHANCE_CAPTION = " Dashed: chance (1 / boards)."
P_CAPTION = (
    " Above bars: paired one-sided p vs the baseline, W = Wilcoxon over (env, seed) "
    "cells, M = McNemar over matched episodes; * p < 0.05."
)


def success_section(runset: RunSet, sink: MediaSink, board_dir: Path | None) -> str:
    """Per suite: one overview chart over its groups, then one chart per group over its envs."""
    tasks = runset.tasks()
    parts = []
    base_cap = CI_CAPTION + (P_CAPTION if runset.baseline else "")
    present = {t["suite"] for t in tasks.values()}
    for suite in [*(s for s in SUITE_ORDER if s in present), *sorted(present - set(SUITE_ORDER))]:
        envs_by_group: dict[str, list[str]] = {}
        for env, t in sorted(tasks.items()):
            if t["suite"] == suite and any(env in r.envs() for r in runset.all_runs):
                envs_by_group.setdefault(t["group"], []).append(env)
        groups = sorted(envs_by_group)
        board = read_reported(board_dir, suite)
        has_chance = any(not math.isnan(charts.chance_of(suite, g)) for g in groups)
        cap = base_cap + (CHANCE_CAPTION if has_chance else "")
        over = charts.grouped_bars(
            f"{suite}: success per group (mean over envs)",
            groups,
            run_series(runset, "group", "group", groups),
            chance=[charts.chance_of(suite, g) for g in groups],
        )
        figs = [figure(sink, over, f"{suite} overview", cap, data_kind="suite", data_suite=suite)]
        for g in groups:
            envs = envs_by_group[g]
            series = run_series(runset, "env", "env", envs) + reported_series(board, envs)
            data = charts.grouped_bars(
                f"{suite} / {g}", envs, series, chance=[charts.chance_of(suite, g)] * len(envs)
            )
            figs.append(
                figure(
                    sink,
                    data,
                    f"{g} success",
                    f"{g}: {len(envs)} env(s). {cap}",
                    data_kind="group",
                    data_suite=suite,
                    data_group=g,
                    data_series=series_attr(series),
                )
            )
        parts.append(tag("h3", esc(suite)) + tag("div", "".join(figs), cls="charts"))
    return tag("h2", "Success with 95% intervals") + "".join(parts)


def _fmt(x: Any) -> str:
    x = _nan(x)
    return "" if math.isnan(x) else f"{x:.2f}"


def _mean_sd(mean: Any, sd: Any) -> str:
    """'0.50 ± 0.10'; the SD left out where it is undefined (one seed)."""
    m, d = _nan(mean), _nan(sd)
    return "" if math.isnan(m) else f"{m:.2f}" + ("" if math.isnan(d) else f" ± {d:.2f}")


def summary_tables(runset: RunSet) -> str:
    out = []
    for run in runset.all_runs:
        t = run.table
        rows = []
        for _, r in t.iterrows():
            name = {"env": r["env"], "group": f"[{r['group']}]", "suite": f"{r['suite']} (all)"}
            rows.append(
                [
                    name[r["level"]],
                    r["episodes"],
                    r["seeds"],
                    _mean_sd(r["success"], r["success_sd"]),
                    f"[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]",
                    _fmt(r["wrong_board"]),
                    " / ".join(_fmt(r[c]) or "-" for c in summary.BY_POSITION),
                    r["errors"] or "",
                    summary.format_p(r["p_value"], r["p_n"], r["p_method"]),
                    summary.format_p(r["mcnemar_p"], r["mcnemar_n"], "exact"),
                    summary.format_adjusted(r.get("p_adjusted"), r.get("mcnemar_p_adjusted")),
                    summary.format_diff(r.get("diff"), r.get("diff_low"), r.get("diff_high")),
                ]
            )
        header = [
            "",
            "n",
            "seeds",
            "success (mean ± SD)",
            "95% Wilson",
            "wrong board",
            "L / C / R",
            "errors",
            "Wilcoxon p (n)",
            "McNemar p (n)",
            "adj. p W / M",
            "Δ success [95%]",
        ]
        out.append(tag("h3", esc(run.label)) + table(header, rows))
    return tag("details", tag("summary", "Tables (as in summary.csv)") + "".join(out))


def _frame(run: Run) -> pd.DataFrame:
    return summary.rows_frame(run.rows, run.manifest)


def position_section(runset: RunSet, sink: MediaSink) -> str:
    """VL-Think: success by target position, and the target/distractor/nowhere choice matrix."""
    figs = [f for run in runset.all_runs for f in _position_figures(run, sink)]
    if not figs:
        return ""
    return tag("h2", "Position bias (VL-Think)") + tag("div", "".join(figs), cls="charts")


def _count(df: pd.DataFrame, **equal: str) -> int:
    """How many rows have every given column equal to its value."""
    mask = pd.Series(True, index=df.index)
    for col, value in equal.items():
        mask &= df[col] == value
    return int(mask.sum())


CHOICE_NOTE = (
    "All VL-Think envs pooled. An instruction-blind policy lands on the target about 1/3 of "
    "the time in every row; a position bias shows as one row far above the others."
)


def _position_figures(run: Run, sink: MediaSink) -> list[str]:
    df = _frame(run)
    df = df[(df["suite"] == "vl-think") & df["target_position"].isin(charts.POSITIONS)]
    if df.empty or run.kind == "probe":
        return []
    envs = sorted(df["env"].unique())
    cells = {
        p: [df[(df["env"] == e) & (df["target_position"] == p)] for e in envs]
        for p in charts.POSITIONS
    }
    rates = {p: [c["success_once"].mean() for c in cs] for p, cs in cells.items()}
    counts = {p: [len(c) for c in cs] for p, cs in cells.items()}
    chart = charts.position_chart(f"{run.label}: success by target position", envs, rates, counts)
    m = np.array(
        [[_count(df, target_position=p, placed_on=c) for c in CHOICES] for p in charts.POSITIONS]
    )
    matrix = charts.matrix(
        f"{run.label}: where the object ended",
        m,
        charts.POSITIONS,
        ["target", "distractor", "nowhere"],
        "object ended on",
        "target position",
    )
    return [
        figure(
            sink, chart, "position", "n = episodes with the target there.", data_kind="position"
        ),
        figure(sink, matrix, "choice matrix", CHOICE_NOTE, data_kind="choice"),
    ]


def failure_section(runset: RunSet, sink: MediaSink) -> str:
    """Share of each outcome per run and env: why episodes failed."""
    labels, totals, shares_rows, all_rows = [], [], [], []
    for run in runset.all_runs:
        probe = run.kind == "probe"
        for env in run.envs():
            rows = [r for r in run.rows if r["env"] == env]
            names = [outcomes.outcome(r, probe) for r in rows]
            labels.append(f"{run.label} · {env.replace('VLThink-', '').replace('-v0', '')}")
            totals.append(len(rows))
            shares_rows.append(pd.Series(names).value_counts(normalize=True).to_dict())
            all_rows += rows
    probe_only = all(r.kind == "probe" for r in runset.all_runs)
    names = outcomes.names(probe_only, all_rows)
    shares = {n: [s.get(n, 0.0) for s in shares_rows] for n in names}
    # an outcome no episode had only clutters the legend (the grasp split is named in the note)
    shares = {n: v for n, v in shares.items() if any(v) or n == "success"}
    note = (
        "Failures split by whether the object was grasped and dropped (rows record it)."
        if outcomes.has_grasp_info(all_rows)
        else "These rows do not record grasps (runs made before the harness did), so failures "
        "are split only into wrong board / nowhere."
    )
    fig = figure(
        sink,
        charts.outcome_bars("Outcome of each episode", labels, shares, totals),
        "outcomes",
        note,
        data_kind="outcomes",
    )
    return tag("h2", "Why it failed") + tag("div", fig, cls="charts")


def probe_section(runset: RunSet, sink: MediaSink) -> str:
    """Probe runs: yes/no to present and absent concepts, and the position confusion."""
    figs = [f for run in runset.all_runs if run.kind == "probe" for f in _probe_figures(run, sink)]
    if not figs:
        return ""
    return tag("h2", "Probe answers") + tag("div", "".join(figs), cls="charts")


def _probe_figures(run: Run, sink: MediaSink) -> list[str]:
    df = _frame(run)
    yes = df["said_yes"].fillna(False).astype(bool)
    absent = df["absent_correct"].dropna().astype(bool)
    yn = np.array([[int(yes.sum()), int((~yes).sum())], [int((~absent).sum()), int(absent.sum())]])
    said = df[yes].assign(position=df[yes]["position"].fillna("none"))
    pos = np.array(
        [[_count(said, target_position=t, position=a) for a in ANSWERS] for t in charts.POSITIONS]
    )
    envs = run.envs()
    t = run.table[run.table["level"] == "env"].set_index("env")
    series = [
        Series(lab, "measured", [Bar(_nan(t.loc[e, col])) for e in envs])
        for col, lab in (
            ("said_yes", "yes to present target"),
            ("absent_correct", "no to absent concept"),
        )
    ]
    return [
        figure(
            sink,
            charts.matrix(
                f"{run.label}: yes / no",
                yn,
                ["target present", "concept absent"],
                ["yes", "no"],
                "answer",
                "asked about",
            ),
            "yes/no",
            "Right answers: yes to the present target, no to the absent concept.",
            data_kind="probe-yesno",
        ),
        figure(
            sink,
            charts.matrix(
                f"{run.label}: position (yes answers)",
                pos,
                charts.POSITIONS,
                ANSWERS,
                "position named",
                "target position",
            ),
            "position confusion",
            "Among yes answers; none = no single position named.",
            data_kind="probe-position",
        ),
        figure(
            sink,
            charts.grouped_bars(f"{run.label}: answers per env", envs, series, ylabel="rate"),
            "probe rates",
            "A probe below 0.5 on 'no to absent concept' says yes to anything.",
            data_kind="probe-rates",
        ),
    ]
