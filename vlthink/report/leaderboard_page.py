"""``vlthink leaderboard render``: the published leaderboard CSVs as Markdown and as HTML."""

from __future__ import annotations

import datetime as dt
import html
import math
from pathlib import Path

import pandas as pd

from vlthink import store
from vlthink.assets.sets import DEFAULT_ASSETS
from vlthink.report import charts, leaderboard
from vlthink.report.charts import Bar, Series
from vlthink.report.html import esc, page, table, tag
from vlthink.report.media import MediaSink
from vlthink.report.numbers import REPORTED, _nan, figure
from vlthink.report.runs import ReportError


def _boards(board_dir: Path) -> dict[str, pd.DataFrame]:
    boards = {}
    for suite, name in leaderboard.FILES.items():
        path = Path(board_dir) / name
        if path.exists():
            board = leaderboard.read_board(path)
            board["_set"] = board["assets"].fillna("").astype(str)  # reported rows: none
            boards[suite] = board
    if not boards:
        raise ReportError(
            f"{board_dir} holds no leaderboard CSV ({', '.join(leaderboard.FILES.values())}). "
            "Fix: pass --dir the leaderboards/ folder, or publish runs first "
            "(vlthink leaderboard publish RUN_DIR...)."
        )
    return boards


def _columns(board: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(policy, source, asset set) triples: measured first, then the reported ones, each
    sorted; one policy measured on two asset sets is two columns, vlthink's art first."""
    pairs = board[["policy", "source", "_set"]].drop_duplicates().astype(str)
    pairs["_rep"] = pairs["source"].str.startswith(REPORTED)
    pairs["_other"] = pairs["_set"].map(_other_set)
    pairs = pairs.sort_values(["_rep", "policy", "_other", "_set", "source"])
    return list(zip(pairs["policy"], pairs["source"], pairs["_set"]))


def _other_set(assets: str) -> bool:
    """Drawn with an asset set other than vlthink's own art ("": a reported row, none)."""
    return assets not in ("", DEFAULT_ASSETS)


def _label(policy: str, source: str, assets: str) -> str:
    """A column's name: the policy, and its asset set where that is not vlthink's own art."""
    drawn = f" [{assets} assets]" if _other_set(assets) else ""
    return policy + drawn + (" (reported)" if source.startswith(REPORTED) else "")


def _cell(r: pd.Series | None, md: bool) -> str:
    if r is None or math.isnan(_nan(r["success_mean"])):
        return "–"
    mean, sd = _nan(r["success_mean"]), _nan(r["success_sd"])
    text = f"{mean:.2f}" + ("" if math.isnan(sd) else f" ± {sd:.2f}")
    n = _nan(r["episodes"])
    return text + ("" if math.isnan(n) else f" ({int(n)})")


def _one_env_groups(board: pd.DataFrame) -> bool:
    """Every group is one env (VL-Think's domains): the env column would repeat the group."""
    return bool((board.groupby("group")["env"].nunique() == 1).all())


def _grid(board: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    cols = _columns(board)
    one = _one_env_groups(board)
    header = ["group", *([] if one else ["env"])] + [_label(*c) for c in cols]
    rows = []
    for (group, env), sub in board.groupby(["group", "env"], sort=True):
        by = {
            (r["policy"], r["source"], r["_set"]): r
            for _, r in sub.astype({"policy": str}).iterrows()
        }
        name = [] if one else [str(env).replace("VLThink-", "").replace("-v0", "")]
        rows.append([str(group), *name, *[_cell(by.get(c), True) for c in cols]])
    return header, rows


NOTE = (
    "Cells: success mean ± SD over seeds (episodes). Measured rows: this package, "
    "`vlthink leaderboard publish`. Columns marked (reported) are the paper's numbers "
    "(arXiv 2510.25616 Table 1), copied, not measured here. A [original assets] column "
    "was measured on the paper's asset pack; the others on vlthink's own art."
)


#: Characters that Markdown (or HTML inside Markdown) would read as markup in a table cell.
MD_SPECIAL = "\\`*_[]|<>#!~"


def md_escape(text: str) -> str:
    """``text`` as literal Markdown table-cell text: HTML entities for ``&<>"'`` (a renderer
    with HTML enabled must not run a policy name), a backslash before Markdown's markup
    characters, and no line breaks."""
    text = html.escape(" ".join(str(text).split()), quote=True)
    return "".join("\\" + c if c in MD_SPECIAL else c for c in text)


def markdown(board_dir: Path) -> str:
    out = []
    for suite, board in _boards(board_dir).items():
        header, rows = _grid(board)
        header = [md_escape(h) for h in header]
        rows = [[md_escape(c) for c in r] for r in rows]
        out.append(f"### {md_escape(suite)}\n")
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + " --- |" * len(header))
        out += ["| " + " | ".join(r) + " |" for r in rows]
        out.append("")
    return "\n".join(out) + NOTE.replace("`", "") + "\n"


def _series(board: pd.DataFrame, envs: list[str]) -> list[Series]:
    out = []
    for policy, source, assets in _columns(board):
        sub = board[
            (board["policy"].astype(str) == policy)
            & (board["source"] == source)
            & (board["_set"] == assets)
        ]
        by = {r["env"]: r for _, r in sub.iterrows()}
        reported = source.startswith(REPORTED)
        bars = []
        for e in envs:
            r = by.get(e)
            if r is None:
                bars.append(Bar(math.nan))
                continue
            mean, sd = _nan(r["success_mean"]), _nan(r["success_sd"])
            lo, hi = (mean - sd, mean + sd) if reported else (_nan(r["ci_low"]), _nan(r["ci_high"]))
            bars.append(Bar(mean, lo, hi))
        name = _label(policy, "", assets)
        out.append(Series(name, "reported" if reported else "measured", bars))
    return out


CAPTION = (
    "Whiskers: 95% Wilson interval (measured), ± SD (reported, hatched). Dashed: "
    "chance (1 / boards)."
)


def _charts(suite: str, board: pd.DataFrame) -> list[tuple[str, list[str], list[str]]]:
    """(title, envs, their groups) per chart: one per group, or one for the whole board when
    every group is a single env (eight one-bar charts say less than one chart of eight)."""
    group_of = dict(zip(board["env"].astype(str), board["group"].astype(str)))
    if _one_env_groups(board):
        envs = sorted(group_of, key=lambda e: group_of[e])
        return [(f"{suite}: success per group", envs, [group_of[e] for e in envs])]
    out = []
    for group, sub in board.groupby("group", sort=True):
        envs = sorted(sub["env"].astype(str).unique())
        out.append((f"{suite} / {group}", envs, [str(group)] * len(envs)))
    return out


def html_page(board_dir: Path, out: Path) -> Path:
    sink = MediaSink(out)
    parts = []
    for suite, board in _boards(board_dir).items():
        figs = []
        for title, envs, groups in _charts(suite, board):
            data = charts.grouped_bars(
                title,
                envs,
                _series(board, envs),
                chance=[charts.chance_of(suite, g) for g in groups],
            )
            figs.append(
                figure(
                    sink,
                    data,
                    title,
                    CAPTION,
                    data_kind="group",
                    data_suite=suite,
                    data_group=",".join(sorted(set(groups))),
                )
            )
        header, rows = _grid(board)
        parts.append(
            tag("h2", esc(suite)) + tag("div", "".join(figs), cls="charts") + table(header, rows)
        )
    body = tag("p", esc(NOTE.replace("`", "")), cls="note") + "".join(parts)
    sub = f"{board_dir} · written {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC"
    return store.atomic_write(out, page("vlthink leaderboard", sub, body))
