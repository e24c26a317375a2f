"""The report's charts, drawn with matplotlib (Agg, no display) and returned as PNG bytes.

Each function draws one figure from plain values, so the page code decides what goes in and
the leaderboard page reuses the same bars.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")  # headless: never open a window, whatever MPLBACKEND says
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from vlthink.report.outcomes import COLORS  # noqa: E402

# One look per kind of series: ours solid, the baseline grey, the paper's numbers hatched.
STYLE = {
    "measured": {"alpha": 0.9, "hatch": None},
    "baseline": {"alpha": 0.9, "hatch": None, "color": "#9e9e9e"},
    "reported": {"alpha": 0.45, "hatch": "///"},
}
PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
]
POSITIONS = ("left", "center", "right")
POSITION_COLORS = ("#4c72b0", "#dd8452", "#55a868")
# The chance level of an instruction-blind policy that always lands on some board: 1 / boards.
CHANCE = {("vl-think", "Parity"): 1 / 2, ("vl-think", None): 1 / 3}


def chance_of(suite: str, group: str) -> float:
    return CHANCE.get((suite, group), CHANCE.get((suite, None), math.nan))


@dataclass
class Bar:
    mean: float
    lo: float = math.nan  # interval bounds (absolute); nan: no interval
    hi: float = math.nan
    note: str = ""  # written above the bar (p-values against the baseline)


@dataclass
class Series:
    label: str
    kind: str  # measured / baseline / reported
    bars: list[Bar] = field(default_factory=list)


def png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _finite(x: float) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def _draw_series(ax, i: int, s: Series, xs: np.ndarray, width: float, color: str) -> None:
    style = STYLE[s.kind]
    means = [b.mean if _finite(b.mean) else 0.0 for b in s.bars]
    ax.bar(
        xs,
        means,
        width,
        color=style.get("color", color),
        alpha=style["alpha"],
        hatch=style["hatch"],
        edgecolor=color if style["hatch"] else "none",
        label=s.label + (" — reported, ± SD" if s.kind == "reported" else ""),
    )
    for x, b in zip(xs, s.bars):
        if not _finite(b.mean):
            ax.text(x, 0.01, "n/a", ha="center", va="bottom", fontsize=6, rotation=90)
            continue
        if _finite(b.lo) and _finite(b.hi):
            ax.errorbar(
                x,
                b.mean,
                yerr=[[max(b.mean - b.lo, 0)], [max(b.hi - b.mean, 0)]],
                fmt="none",
                ecolor="black",
                elinewidth=1,
                capsize=2,
            )
        if b.note:
            top = b.hi if _finite(b.hi) else b.mean
            ax.text(
                x,
                min(top, 1.0) + 0.02,
                b.note,
                ha="center",
                va="bottom",
                fontsize=6.5,
                linespacing=1.0,
            )


def grouped_bars(
    title: str,
    xlabels: Sequence[str],
    series: Sequence[Series],
    ylabel: str = "success rate",
    width_per_x: float = 1.2,
    caption: str | None = None,
    chance: Sequence[float] | None = None,
) -> bytes:
    """Bars per x label, one per series side by side, with their intervals and notes;
    ``chance`` (per x) is drawn as a dashed line across that x's bars."""
    n = max(len(series), 1)
    fig_w = max(2.8, 0.9 + width_per_x * len(xlabels) * max(1.0, n / 3))
    fig, ax = plt.subplots(figsize=(fig_w, 3.4))
    width = 0.8 / n
    base = np.arange(len(xlabels), dtype=float)
    measured = 0
    for i, s in enumerate(series):
        color = PALETTE[measured % len(PALETTE)]
        measured += s.kind != "baseline"
        _draw_series(ax, i, s, base - 0.4 + width * (i + 0.5), width, color)
    for x, c in zip(base, chance or []):
        if _finite(c):
            ax.hlines(
                c,
                x - 0.45,
                x + 0.45,
                colors="#444",
                linestyles="dashed",
                linewidth=1,
                label="chance" if x == base[0] else None,
            )
    ax.set_xticks(
        base,
        [x.replace("VLThink-", "").replace("-v0", "") for x in xlabels],
        rotation=30 if len(xlabels) > 3 else 0,
        ha="right" if len(xlabels) > 3 else "center",
        fontsize=8,
    )
    ax.set_ylim(0, 1.25)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(
        fontsize=7,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.25 if len(xlabels) > 3 else -0.12),
        ncol=1 if len(xlabels) == 1 else min(n + bool(chance), 3),  # one bar group: narrow
        frameon=False,
    )
    if caption:
        fig.text(0.01, 0.99, caption, fontsize=6.5, va="top", color="#555")
    return png(fig)


def position_chart(
    title: str,
    envs: Sequence[str],
    rates: dict[str, Sequence[float]],
    counts: dict[str, Sequence[int]],
) -> bytes:
    """Success by target position per env: rates[pos][i] of counts[pos][i] episodes."""
    fig, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(envs) + 1.5), 3.0))
    base = np.arange(len(envs), dtype=float)
    for j, (pos, color) in enumerate(zip(POSITIONS, POSITION_COLORS)):
        vals = [v if _finite(v) else 0.0 for v in rates[pos]]
        ax.bar(base + (j - 1) * 0.27, vals, 0.27, color=color, label=f"target {pos}")
        for x, v, k in zip(base + (j - 1) * 0.27, rates[pos], counts[pos]):
            ax.text(x, (v if _finite(v) else 0) + 0.02, f"n{k}", ha="center", fontsize=5.5)
    ax.set_xticks(
        base,
        [e.replace("VLThink-", "").replace("-v0", "") for e in envs],
        rotation=30,
        ha="right",
        fontsize=8,
    )
    ax.set_ylim(0, 1.15)
    ax.set_ylabel("success rate")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.3), frameon=False)
    return png(fig)


def matrix(
    title: str,
    counts: np.ndarray,
    rows: Sequence[str],
    cols: Sequence[str],
    xlabel: str,
    ylabel: str,
) -> bytes:
    """A count matrix as a heatmap of row shares, each cell labelled 'count (share)'."""
    totals = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, totals, out=np.zeros_like(counts, dtype=float), where=totals > 0)
    fig, ax = plt.subplots(figsize=(1.1 * len(cols) + 1.6, 0.55 * len(rows) + 1.3))
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i in range(len(rows)):
        for j in range(len(cols)):
            ax.text(
                j,
                i,
                f"{int(counts[i, j])}\n({share[i, j]:.0%})",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if share[i, j] > 0.6 else "black",
            )
    ax.set_xticks(range(len(cols)), cols, fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.05, label="share of row")
    return png(fig)


def outcome_bars(
    title: str, labels: Sequence[str], shares: dict[str, Sequence[float]], totals: Sequence[int]
) -> bytes:
    """Stacked horizontal bars: the share of each outcome per label (run × env)."""
    fig, ax = plt.subplots(figsize=(7.0, 0.32 * len(labels) + 1.4))
    left = np.zeros(len(labels))
    ys = np.arange(len(labels))
    for name, vals in shares.items():
        vals = np.asarray(vals, dtype=float)
        ax.barh(ys, vals, left=left, color=COLORS[name], label=name, height=0.7)
        left += vals
    ax.set_yticks(ys, [f"{lab}  (n={n})" for lab, n in zip(labels, totals)], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of episodes")
    ax.set_title(title, fontsize=10)
    ax.legend(
        fontsize=7,
        ncol=len(shares),
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12 - 0.6 / max(len(labels), 1)),
        frameon=False,
    )
    return png(fig)


@dataclass
class Effect:
    """One line of a forest plot: a difference (this run minus the baseline) and its interval."""

    label: str
    diff: float
    lo: float = math.nan
    hi: float = math.nan
    summary: bool = False  # a group/suite line (drawn as a diamond) rather than an env
    note: str = ""  # written at the right margin (the adjusted p)


def forest(title: str, effects: Sequence[Effect], caption: str | None = None) -> bytes:
    """Differences with their 95% intervals, one line each, around a vertical line at 0."""
    fig, ax = plt.subplots(figsize=(6.4, 0.28 * len(effects) + 1.3))
    ys = np.arange(len(effects))
    for y, e in zip(ys, effects):
        if not _finite(e.diff):
            ax.text(0, y, "no matched episodes", ha="center", va="center", fontsize=6.5)
            continue
        color = "#1f77b4" if not e.summary else "#d62728"
        if _finite(e.lo) and _finite(e.hi):
            ax.hlines(y, e.lo, e.hi, colors=color, linewidth=1.4 if e.summary else 1.0)
        ax.plot(e.diff, y, "D" if e.summary else "s", color=color, markersize=5 if e.summary else 4)
        if e.note:
            ax.text(1.02, y, e.note, transform=ax.get_yaxis_transform(), va="center", fontsize=6.5)
    ax.axvline(0, color="#444", linewidth=0.8, linestyle="dashed")
    ax.set_yticks(ys, [e.label.replace("VLThink-", "").replace("-v0", "") for e in effects])
    ax.tick_params(axis="y", labelsize=7)
    for tick, e in zip(ax.get_yticklabels(), effects):
        tick.set_fontweight("bold" if e.summary else "normal")
    ax.invert_yaxis()
    ax.set_xlim(-1.0, 1.0)
    ax.set_xlabel("success difference (this run − baseline), 95% interval", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    if caption:
        fig.text(0.01, 0.995, caption, fontsize=6.5, va="top", color="#555")
    return png(fig)
