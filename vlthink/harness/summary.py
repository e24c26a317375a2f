"""Tables of a run: per env, per group (VL-Think domain / OOD axis) and per suite.

Definitions (every number in the table is one of these):

* A *cell* is ``(env, seed)``: ``--episodes`` episodes of one env under one run seed.
* ``success`` is the rate of ``success_once`` (the task was satisfied at some step);
  ``success_end`` the rate of ``success_at_end`` (satisfied at the last step).  Both are given
  as the paper's **mean ± SD over seeds**: the mean and sample SD (ddof=1) of the per-cell rates.
  With one seed the SD column is blank (undefined), not 0.
* For a group or suite, the per-seed rate is the unweighted mean over its envs of that seed's
  cell rates (every env counts once, as in the paper's per-axis means); mean ± SD are then over
  seeds.
* ``ci_low``/``ci_high``: the 95% Wilson interval of all episodes pooled (k successes of n).
* ``wrong_board`` (VL-Think only): the rate of episodes that ended with the object on the
  distractor board (``placed_on == "distractor"``).
* ``success_left`` / ``success_center`` / ``success_right`` (VL-Think): success among episodes
  whose target is at that position. An instruction-blind policy shows a position bias here.
* Probe runs (``kind`` = ``probe``: the policy answers on the first frame, no actions):
  ``said_yes`` the rate of "yes" to the present target; ``position_accuracy`` the rate of the
  right position among those yes answers; ``absent_correct`` the rate of "no" to the concept
  that is absent from the scene (true negatives); ``success`` the paper's (yes and the right
  position). ``success_end`` and ``wrong_board`` mean nothing for a probe and are left blank. A
  probe that says yes to an absent concept more than half the time is flagged.
* ``errors``: episodes whose rows carry an error (the env raised or hung in that episode; a
  failure that is not the episode's doing is never a row). They count as failures in every
  rate - a run with errors is flagged, never silently shortened.
* With a baseline: ``p_value`` is the one-sided paired Wilcoxon signed-rank test over matched
  ``(env, seed)`` cells (per env: its seeds; per group/suite: all its cells), ``p_n`` the number
  of non-zero differences it rests on; ``mcnemar_p``/``mcnemar_n`` the exact McNemar test over
  matched episodes and their discordant count.  Pairing uses only episodes present in both runs
  and refuses runs whose protocol or scenes differ (see :func:`check_pairable`).
* Appended with a baseline (older CSVs simply lack them): ``p_adjusted`` / ``mcnemar_p_adjusted``
  the Wilcoxon and McNemar p-values adjusted for multiplicity (Holm by default, Benjamini-Hochberg
  with ``adjustment="bh"``) within one family = the rows of one level of this comparison (all env
  rows; all group rows; all suite rows), named in ``adjust_family``; ``diff`` the paired success
  difference (this run minus the baseline) with its 95% interval ``diff_low``/``diff_high`` and
  ``diff_method``: per env Newcombe's hybrid score interval over matched episodes, per group and
  suite a bootstrap over seeds of the per-seed mean difference (see docs/statistics.md).
* Last: ``assets`` / ``assets_hash``, the asset set the run's scenes were drawn with and its
  verified contents hash (:func:`vlthink.harness.rundir.asset_set_of`). Runs on different sets
  (or different packs of one set) are never paired (:func:`check_same_assets`).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from vlthink import store
from vlthink.harness import answer, rundir, stats
from vlthink.harness.results import HarnessError

POSITIONS = ("left", "center", "right")
BY_POSITION = [f"success_{p}" for p in POSITIONS]
PROBE_COLUMNS = ["said_yes", "position_accuracy", "absent_correct"]
#: What a leaderboard row carries of a baseline comparison beyond p_value / p_n (appended there).
COMPARISON_COLUMNS = [
    "mcnemar_p",
    "mcnemar_n",
    # appended after the columns above so older readers and files keep their layout
    "p_adjusted",
    "mcnemar_p_adjusted",
    "adjust_family",
    "diff",
    "diff_low",
    "diff_high",
    "diff_method",
]
#: The asset set a run was drawn with (vlthink.harness.rundir.asset_set_of), last of every row.
ASSET_COLUMNS = ["assets", "assets_hash"]
COLUMNS = [
    "level",
    "suite",
    "group",
    "env",
    "policy",
    "kind",
    "episodes",
    "seeds",
    "errors",
    "success",
    "success_sd",
    "ci_low",
    "ci_high",
    "success_end",
    "success_end_sd",
    "wrong_board",
    *BY_POSITION,
    *PROBE_COLUMNS,
    "baseline",
    "alternative",
    "p_value",
    "p_n",
    "p_method",
    *COMPARISON_COLUMNS,
    *ASSET_COLUMNS,
]
COMPARISON_NUMERIC = [c for c in COMPARISON_COLUMNS if not c.endswith(("_family", "_method"))]
LEVELS = ("env", "group", "suite")
ABSENT_FLAG = 0.5  # a probe right about absent concepts less often than this says yes to anything
_H1 = {
    "greater": "this run > baseline",
    "less": "this run < baseline",
    "two-sided": "this run != baseline (two-sided)",
}


class PairingError(HarnessError):
    pass


def rows_frame(rows: list[dict[str, Any]], manifest: dict[str, Any]) -> pd.DataFrame:
    """Rows as a DataFrame with suite/group columns from the manifest's task table."""
    tasks = manifest.get("tasks", {})
    if not rows:
        return pd.DataFrame(
            columns=[
                "env",
                "episode",
                "seed",
                "success_once",
                "success_at_end",
                "placed_on",
                "error",
                "suite",
                "group",
                "episode_seed",
                "instruction",
                "target",
            ]
        )
    df = pd.DataFrame(rows)
    for col in ("placed_on", "error", "episode_seed", "instruction", "target"):
        if col not in df:
            df[col] = None
    df["success_once"] = df["success_once"].astype(bool)
    df["success_at_end"] = df["success_at_end"].astype(bool)
    df["target_position"] = [
        t.get("target_position") if isinstance(t, dict) else None
        for t in df.get("task", pd.Series([None] * len(df)))
    ]
    for col in ("said_yes", "position", "absent_correct", "probe"):
        if col not in df:
            df[col] = None
    df["suite"] = [tasks.get(e, {}).get("suite", "?") for e in df["env"]]
    df["group"] = [tasks.get(e, {}).get("group", "?") for e in df["env"]]
    return df


def _seed_rates(df: pd.DataFrame, col: str) -> pd.Series:
    """Per-seed rate for a set of rows: mean over envs of each (env, seed) cell's rate."""
    cells = df.groupby(["env", "seed"])[col].mean()
    return cells.groupby(level="seed").mean()


def policy_kind(manifest: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """``probe`` or ``action``: from the manifest, or (runs made before it said) from the rows."""
    kind = (manifest.get("policy") or {}).get("kind")
    if kind:
        return str(kind)
    return "probe" if rows and all(r.get("probe") for r in rows) else "action"


def _rate(values: pd.Series) -> float:
    """The rate of True among the values that are not None (nan when there are none)."""
    known = values.dropna()
    return float(known.astype(bool).mean()) if len(known) else math.nan


def _block(df: pd.DataFrame, kind: str) -> dict[str, Any]:
    n = int(len(df))
    k = int(df["success_once"].sum())
    mean, sd = stats.mean_sd(_seed_rates(df, "success_once").tolist())
    lo, hi = stats.wilson(k, n)
    out = {
        "kind": kind,
        "episodes": n,
        "seeds": int(df["seed"].nunique()),
        "errors": int(df["error"].notna().sum()),
        "success": mean,
        "success_sd": sd,
        "ci_low": lo,
        "ci_high": hi,
        "success_end": math.nan,
        "success_end_sd": math.nan,
        "wrong_board": math.nan,
    }
    for pos, col in zip(POSITIONS, BY_POSITION):
        at = df[df["target_position"] == pos]
        out[col] = float(at["success_once"].mean()) if len(at) else math.nan
    if kind == "probe":
        said = df["said_yes"].fillna(False).astype(bool)
        right = [p == t for p, t in zip(df["position"], df["target_position"])]
        out["said_yes"] = float(said.mean()) if n else math.nan
        out["position_accuracy"] = (
            float(pd.Series(right)[said.values].mean()) if said.any() else math.nan
        )
        out["absent_correct"] = _rate(df["absent_correct"])
        return out
    out["success_end"], out["success_end_sd"] = stats.mean_sd(
        _seed_rates(df, "success_at_end").tolist()
    )
    if (df["suite"] == "vl-think").all():
        out["wrong_board"] = float((df["placed_on"] == "distractor").mean())
    return out


def check_pairable(
    manifest: dict[str, Any], base_manifest: dict[str, Any], base_dir: str = "the baseline"
) -> None:
    """Refuse to pair runs made under different protocols or simulators."""
    for field, label in (
        ("protocol_version", "scene protocol (vlthink.envs.PROTOCOL_VERSION)"),
        ("harness_protocol", "harness protocol (episode seeding)"),
    ):
        a, b = manifest.get(field), base_manifest.get(field)
        if a != b:
            raise PairingError(
                f"cannot pair with {base_dir}: its {label} is {b!r}, this run's is {a!r}; their "
                "scenes differ, so no episode is comparable. Fix: rerun the baseline policy with "
                "this package version (same --seed) and pass that run as --baseline."
            )
    check_same_assets(manifest, base_manifest, base_dir)
    a = manifest.get("plan", {}).get("sim_backend")
    b = base_manifest.get("plan", {}).get("sim_backend")
    if a != b:
        raise PairingError(
            f"cannot pair with {base_dir}: it ran on the {b!r} simulator backend, this run on "
            f"{a!r}; physics differ between backends. Fix: rerun one of them with "
            f"--sim-backend {a}."
        )


def check_same_assets(
    manifest: dict[str, Any], base_manifest: dict[str, Any], base_dir: str = "the baseline"
) -> None:
    """Refuse to pair runs whose scenes were drawn with different asset sets (or packs)."""
    a, b = rundir.asset_set_of(manifest), rundir.asset_set_of(base_manifest)
    if a == b:
        return
    what = "asset set" if a["assets"] != b["assets"] else f"{a['assets']} asset pack"
    raise PairingError(
        f"cannot pair with {base_dir}: it ran on the {rundir.asset_label(b)} {what}, this run "
        f"on {rundir.asset_label(a)}; the scenes look different, so no episode is comparable. Fix: "
        f"rerun the baseline policy with --assets {a['assets']} (same --seed) and pass that run "
        "as --baseline."
    )


def _matched(df: pd.DataFrame, base: pd.DataFrame, base_dir: str) -> pd.DataFrame:
    """Join episodes present in both runs; refuse if a matched episode's scene differs."""
    keys = ["env", "episode", "seed"]
    cols = keys + ["success_once", "episode_seed", "instruction", "target"]
    m = df[cols + ["suite", "group"]].merge(base[cols], on=keys, suffixes=("", "_base"))
    if m.empty:
        raise PairingError(
            f"cannot pair with {base_dir}: no episode (env, episode, seed) is in both runs. "
            "Fix: run the baseline on the same envs with the same --seed."
        )
    for col in ("episode_seed", "instruction", "target"):
        a, b = m[col], m[col + "_base"]
        bad = a.notna() & b.notna() & (a != b)
        if bad.any():
            r = m[bad].iloc[0]
            raise PairingError(
                f"cannot pair with {base_dir}: episode {r['env']}#{r['episode']}@seed{r['seed']} "
                f"has {col} {r[col]!r} here but {r[col + '_base']!r} in the baseline, so the "
                "scenes differ although the protocol version matches. Fix: rerun the baseline "
                "with this package version."
            )
    return m


def _difference(m: pd.DataFrame, level: str) -> dict[str, Any]:
    """Per env: Newcombe over matched episodes; above: a bootstrap over seeds of the mean
    over envs of each (env, seed) cell's difference (every env counts once, as in ``success``)."""
    if level == "env":
        d = stats.paired_difference(m["success_once"].tolist(), m["success_once_base"].tolist())
    else:
        cells = m.groupby(["env", "seed"])[["success_once", "success_once_base"]].mean()
        per_cell = cells["success_once"] - cells["success_once_base"]
        d = stats.cluster_bootstrap(per_cell.groupby(level="seed").mean().tolist())
    return {"diff": d.diff, "diff_low": d.low, "diff_high": d.high, "diff_method": d.method}


def _adjust(table: pd.DataFrame, adjustment: str) -> None:
    """Adjusted p-values in place; one family per level (all env rows, all group rows, ...)."""
    for level in LEVELS:
        at = table["level"] == level
        if not at.any():
            continue
        for raw, adj in (("p_value", "p_adjusted"), ("mcnemar_p", "mcnemar_p_adjusted")):
            table.loc[at, adj] = stats.adjust(table.loc[at, raw].tolist(), adjustment)
        tested = int(table.loc[at, "mcnemar_p"].notna().sum())
        label = stats.ADJUST_LABEL[adjustment]
        table.loc[at, "adjust_family"] = (
            f"{label} over the {tested} {level} row(s) with a test"
            if tested
            else f"{label}: no {level} row has a test"
        )


def _paired_tests(m: pd.DataFrame, alternative: str) -> dict[str, Any]:
    cells = m.groupby(["env", "seed"])[["success_once", "success_once_base"]].mean()
    w = stats.wilcoxon_paired(
        cells["success_once"].tolist(), cells["success_once_base"].tolist(), alternative
    )
    mc = stats.mcnemar_exact(
        m["success_once"].tolist(), m["success_once_base"].tolist(), alternative
    )
    return {
        "p_value": w.p,
        "p_n": w.n,
        "p_method": w.method,
        "mcnemar_p": mc.p,
        "mcnemar_n": mc.n,
    }


def summarize(
    manifest: dict[str, Any],
    rows: list[dict[str, Any]],
    baseline: tuple[dict[str, Any], list[dict[str, Any]]] | None = None,
    baseline_dir: str = "the baseline",
    alternative: str = "greater",
    adjustment: str = "holm",
) -> pd.DataFrame:
    """The summary table (one row per env, group and suite) as a DataFrame of COLUMNS.

    ``adjustment``: ``"holm"`` (family-wise error) or ``"bh"`` (false discovery rate) for the
    adjusted p-values of a baseline comparison."""
    if adjustment not in stats.ADJUSTMENTS:
        raise ValueError(f"adjustment must be one of {stats.ADJUSTMENTS}, got {adjustment!r}")
    df = rows_frame(rows, manifest)
    policy = manifest.get("policy", {}).get("name", "?")
    kind = policy_kind(manifest, rows)
    drawn_with = rundir.asset_set_of(manifest)
    matched = base_df = None
    base_name = None
    if baseline is not None:
        bman, brows = baseline
        check_pairable(manifest, bman, baseline_dir)
        base_name = bman.get("policy", {}).get("name", "?")
        base_df = rows_frame(brows, bman)
        matched = _matched(df, base_df, baseline_dir)
    out: list[dict[str, Any]] = []
    if df.empty:
        return pd.DataFrame(columns=COLUMNS)

    def add(level: str, sub: pd.DataFrame, suite: str, group: str, env: str, msel) -> None:
        rec = {"level": level, "suite": suite, "group": group, "env": env, "policy": policy}
        rec.update(drawn_with)
        rec.update(_block(sub, kind))
        if matched is not None:
            msub = matched[msel(matched)]
            rec["baseline"] = base_name
            rec["alternative"] = alternative
            if len(msub):
                rec.update(_paired_tests(msub, alternative))
                rec.update(_difference(msub, level))
        out.append(rec)

    for suite, sdf in df.groupby("suite", sort=True):
        for group, gdf in sdf.groupby("group", sort=True):
            for env, edf in gdf.groupby("env", sort=True):
                add("env", edf, suite, group, env, lambda m, e=env: m["env"] == e)
            add(
                "group",
                gdf,
                suite,
                group,
                "",
                lambda m, s=suite, g=group: (m["suite"] == s) & (m["group"] == g),
            )
        add("suite", sdf, suite, "", "", lambda m, s=suite: m["suite"] == s)
    table = pd.DataFrame(out)
    for col in COLUMNS:
        if col not in table:
            table[col] = None
    if matched is not None:
        _adjust(table, adjustment)
    table = table[COLUMNS].copy()
    # answer mode's own section, pairs as the unit against a baseline
    table.attrs["answer"] = answer.answer_records(df, policy, base_df, base_name, alternative)
    return table


def _f(x: Any, fmt: str = "{:.2f}") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return fmt.format(x)


def _pm(mean: Any, sd: Any) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return ""
    return f"{mean:.2f} ± {sd:.2f}" if sd is not None and not _isnan(sd) else f"{mean:.2f}"


def _isnan(x: Any) -> bool:
    try:
        return x is None or math.isnan(float(x))
    except (TypeError, ValueError):
        return False


def format_p(p: Any, n: Any, method: Any = None) -> str:
    """A p-value as read in a table: 3 decimals, scientific below 0.001, with n and exact/approx."""
    if _isnan(p):
        return f"— ({int(n)})" if not _isnan(n) else ""
    text = f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"
    tag = "approx" if isinstance(method, str) and "approx" in method else "exact"
    return f"{text} ({int(n)}, {tag})"


def _row_cells(
    r: pd.Series, probe: bool, show_wb: bool, show_pos: bool, has_base: bool
) -> dict[str, str]:
    name = {"env": r["env"], "group": f"[{r['group']}]", "suite": f"== {r['suite']} =="}[r["level"]]
    rec = {
        "": name,
        "n": f"{r['episodes']}",
        "seeds": f"{r['seeds']}",
        "success (mean ± SD)": _pm(r["success"], r["success_sd"]),
        "95% Wilson": f"[{_f(r['ci_low'])}, {_f(r['ci_high'])}]",
    }
    if probe:
        rec["said yes"] = _f(r["said_yes"])
        rec["position ok"] = _f(r["position_accuracy"])
        absent = r["absent_correct"]
        flag = " !" if not _isnan(absent) and absent < ABSENT_FLAG else ""
        rec["absent no"] = _f(absent) + flag
    else:
        rec["at end"] = _pm(r["success_end"], r["success_end_sd"])
        if show_wb:
            rec["wrong board"] = _f(r["wrong_board"])
    if show_pos:
        rec["L / C / R"] = " / ".join(_f(r[c]) or "-" for c in BY_POSITION)
    rec["errors"] = str(r["errors"]) if r["errors"] else ""
    if has_base:
        rec["Wilcoxon p (n)"] = format_p(r["p_value"], r["p_n"], r["p_method"])
        rec["McNemar p (n)"] = format_p(r["mcnemar_p"], r["mcnemar_n"], "exact")
        rec["adj. p W / M"] = format_adjusted(r.get("p_adjusted"), r.get("mcnemar_p_adjusted"))
        rec["Δ success [95%]"] = format_diff(r.get("diff"), r.get("diff_low"), r.get("diff_high"))
    return rec


def _short_p(p: Any) -> str:
    if _isnan(p):
        return "—"
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def format_adjusted(wilcoxon: Any, mcnemar: Any) -> str:
    """The two adjusted p-values of a row, 'W / M' ('—' where that test was not possible)."""
    if _isnan(wilcoxon) and _isnan(mcnemar):
        return ""
    return f"{_short_p(wilcoxon)} / {_short_p(mcnemar)}"


def format_diff(diff: Any, low: Any, high: Any) -> str:
    """A signed difference with its interval: '+0.12 [+0.03, +0.21]' (no interval: just Δ)."""
    if _isnan(diff):
        return ""
    text = f"{diff:+.2f}"
    return text if _isnan(low) or _isnan(high) else f"{text} [{low:+.2f}, {high:+.2f}]"


def format_table(table: pd.DataFrame) -> str:
    """The table as people read it (paper format: mean ± SD, Wilson CI, p with its n)."""
    if table.empty:
        return "(no finished episodes)"
    # a table read back from an older summary.csv lacks the appended columns: show them blank
    table = table.reindex(columns=list(dict.fromkeys([*table.columns, *COLUMNS])))
    has_base = table["baseline"].notna().any()
    probe = (table["kind"] == "probe").all()
    show_wb = table["wrong_board"].notna().any()
    show_pos = table[BY_POSITION].notna().any().any()
    envs_per_group = table[table["level"] == "env"].groupby(["suite", "group"]).size()
    lines = []
    for _, r in table.iterrows():
        if r["level"] == "group" and envs_per_group.get((r["suite"], r["group"]), 0) <= 1:
            continue  # a group of one env repeats that env's line (kept in the CSV)
        lines.append(_row_cells(r, probe, show_wb, show_pos, has_base))
    frame = pd.DataFrame(lines)
    title = f"policy: {table['policy'].iloc[0]}" + (" (probe)" if probe else "")
    if has_base:
        title += f"   baseline: {table['baseline'].dropna().iloc[0]}"
    text = title + "\n" + frame.to_string(index=False, justify="left")
    text += "".join("\nnote: " + n for n in _notes(table, probe, show_pos, has_base))
    return text + answer.format_answers(table.attrs.get("answer"))


def _notes(table: pd.DataFrame, probe: bool, show_pos: bool, has_base: bool) -> list[str]:
    notes = []
    drawn = table[ASSET_COLUMNS].dropna().to_dict("records") if "assets" in table else []
    if drawn and drawn[0]["assets"] != rundir.DEFAULT_ASSETS:
        label = rundir.asset_label(drawn[0])
        notes.append(f"drawn with the asset set {label}, not vlthink's own art.")
    if (table["seeds"] < 2).any():
        notes.append("SD is blank where a row has one seed (SD over seeds is undefined).")
    if probe:
        notes.append(
            "probe: success = said yes and named the target's position; said yes = "
            "rate of yes to the present target; position ok = right position among "
            "those yes; absent no = rate of no to a concept absent from the scene."
        )
        low = table[(table["level"] == "env") & (table["absent_correct"] < ABSENT_FLAG)]
        if len(low):
            notes.append(
                f"! this probe says yes to absent concepts more often than not "
                f"({', '.join(low['env'])}): its yes answers carry little information."
            )
    if show_pos:
        notes.append(
            "L / C / R: success when the target is on the left / centre / right; "
            "a policy that ignores the instruction shows a position bias here."
        )
    if has_base:
        base = table["baseline"].dropna().iloc[0]
        alt = table["alternative"].dropna().iloc[0]
        notes.append(
            f"p: paired Wilcoxon signed-rank vs {base} over (env, seed) cells, H1: "
            f"{_H1.get(alt, alt)}; n = non-zero differences (min. attainable p = 2^-n); exact "
            "(enumeration) or approx (normal). McNemar: exact binomial over matched episodes; "
            "n = discordant episodes. — = no test possible (all ties)."
        )
        notes.append(_family_note(table))
        notes.append(
            "Δ success: this run minus the baseline on matched episodes; per env Newcombe's "
            "hybrid score interval for paired proportions, per group/suite a percentile "
            "bootstrap over seeds (blank interval with one seed)."
        )
        few = table[(table["level"] != "env") & table["diff_low"].notna() & (table["seeds"] < 8)]
        if len(few):
            notes.append(
                f"with {int(few['seeds'].min())} seed(s) a seed bootstrap sees only that many "
                "values: its interval is too narrow; read it as rough below 8 seeds (the paper's)."
            )
    if table["errors"].sum():
        notes.append(
            "errors: episodes whose env raised or hung; counted as failures "
            "(rerun with --retry-errors)."
        )
    return notes


def _family_note(table: pd.DataFrame) -> str:
    """Which p-values were adjusted together (one family per level of the table)."""
    fams = table.dropna(subset=["adjust_family"]).drop_duplicates("level")
    if fams.empty:
        return "adjusted p: not computed (a table written before adjusted p-values)."
    parts = "; ".join(str(f) for f in fams["adjust_family"])
    return (
        "adj. p W / M: the Wilcoxon / McNemar p adjusted for multiplicity, each test on its "
        f"own, one family per level of this comparison: {parts}."
    )


def write_csv(table: pd.DataFrame, path) -> None:
    """The summary as CSV: to a file path (replaced atomically) or an open text buffer."""
    if hasattr(path, "write"):
        table.to_csv(path, index=False, float_format="%.6g")
        return
    with store.atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")


__all__ = [
    "summarize",
    "format_table",
    "format_p",
    "format_adjusted",
    "format_diff",
    "write_csv",
    "check_pairable",
    "check_same_assets",
    "PairingError",
    "policy_kind",
]
