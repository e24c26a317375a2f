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
* ``errors``: episodes that ended in an error (crash, timeout, policy error).  They count as
  failures in every rate - a run with errors is flagged, never silently shortened.
* With a baseline: ``p_value`` is the one-sided paired Wilcoxon signed-rank test over matched
  ``(env, seed)`` cells (per env: its seeds; per group/suite: all its cells), ``p_n`` the number
  of non-zero differences it rests on; ``mcnemar_p``/``mcnemar_n`` the exact McNemar test over
  matched episodes and their discordant count.  Pairing uses only episodes present in both runs
  and refuses runs whose protocol or scenes differ (see :func:`check_pairable`).
"""

from __future__ import annotations

import math
from typing import Any, Optional

import pandas as pd

from vlthink.harness import stats
from vlthink.harness.results import HarnessError

COLUMNS = [
    "level", "suite", "group", "env", "policy", "episodes", "seeds", "errors",
    "success", "success_sd", "ci_low", "ci_high", "success_end", "success_end_sd",
    "wrong_board", "baseline", "alternative", "p_value", "p_n", "p_method", "mcnemar_p",
    "mcnemar_n",
]
_H1 = {"greater": "this run > baseline", "less": "this run < baseline",
       "two-sided": "this run != baseline (two-sided)"}


class PairingError(HarnessError):
    pass


def rows_frame(rows: list[dict[str, Any]], manifest: dict[str, Any]) -> pd.DataFrame:
    """Rows as a DataFrame with suite/group columns from the manifest's task table."""
    tasks = manifest.get("tasks", {})
    if not rows:
        return pd.DataFrame(
            columns=["env", "episode", "seed", "success_once", "success_at_end", "placed_on",
                     "error", "suite", "group", "episode_seed", "instruction", "target"]
        )
    df = pd.DataFrame(rows)
    for col in ("placed_on", "error", "episode_seed", "instruction", "target"):
        if col not in df:
            df[col] = None
    df["success_once"] = df["success_once"].astype(bool)
    df["success_at_end"] = df["success_at_end"].astype(bool)
    df["suite"] = [tasks.get(e, {}).get("suite", "?") for e in df["env"]]
    df["group"] = [tasks.get(e, {}).get("group", "?") for e in df["env"]]
    return df


def _seed_rates(df: pd.DataFrame, col: str) -> pd.Series:
    """Per-seed rate for a set of rows: mean over envs of each (env, seed) cell's rate."""
    cells = df.groupby(["env", "seed"])[col].mean()
    return cells.groupby(level="seed").mean()


def _block(df: pd.DataFrame) -> dict[str, Any]:
    n = int(len(df))
    k = int(df["success_once"].sum())
    mean, sd = stats.mean_sd(_seed_rates(df, "success_once").tolist())
    end_mean, end_sd = stats.mean_sd(_seed_rates(df, "success_at_end").tolist())
    lo, hi = stats.wilson(k, n)
    out = {
        "episodes": n,
        "seeds": int(df["seed"].nunique()),
        "errors": int(df["error"].notna().sum()),
        "success": mean,
        "success_sd": sd,
        "ci_low": lo,
        "ci_high": hi,
        "success_end": end_mean,
        "success_end_sd": end_sd,
        "wrong_board": math.nan,
    }
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
    a = manifest.get("plan", {}).get("sim_backend")
    b = base_manifest.get("plan", {}).get("sim_backend")
    if a != b:
        raise PairingError(
            f"cannot pair with {base_dir}: it ran on the {b!r} simulator backend, this run on "
            f"{a!r}; physics differ between backends. Fix: rerun one of them with --sim-backend {a}."
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


def _paired_tests(m: pd.DataFrame, alternative: str) -> dict[str, Any]:
    cells = m.groupby(["env", "seed"])[["success_once", "success_once_base"]].mean()
    w = stats.wilcoxon_paired(
        cells["success_once"].tolist(), cells["success_once_base"].tolist(), alternative
    )
    mc = stats.mcnemar_exact(
        m["success_once"].tolist(), m["success_once_base"].tolist(), alternative
    )
    return {
        "p_value": w.p, "p_n": w.n, "p_method": w.method,
        "mcnemar_p": mc.p, "mcnemar_n": mc.n,
    }


def summarize(
    manifest: dict[str, Any],
    rows: list[dict[str, Any]],
    baseline: Optional[tuple[dict[str, Any], list[dict[str, Any]]]] = None,
    baseline_dir: str = "the baseline",
    alternative: str = "greater",
) -> pd.DataFrame:
    """The summary table (one row per env, group and suite) as a DataFrame of COLUMNS."""
    df = rows_frame(rows, manifest)
    policy = manifest.get("policy", {}).get("name", "?")
    matched = None
    base_name = None
    if baseline is not None:
        bman, brows = baseline
        check_pairable(manifest, bman, baseline_dir)
        base_name = bman.get("policy", {}).get("name", "?")
        matched = _matched(df, rows_frame(brows, bman), baseline_dir)
    out: list[dict[str, Any]] = []
    if df.empty:
        return pd.DataFrame(columns=COLUMNS)

    def add(level: str, sub: pd.DataFrame, suite: str, group: str, env: str, msel) -> None:
        rec = {"level": level, "suite": suite, "group": group, "env": env, "policy": policy}
        rec.update(_block(sub))
        if matched is not None:
            msub = matched[msel(matched)]
            rec["baseline"] = base_name
            rec["alternative"] = alternative
            if len(msub):
                rec.update(_paired_tests(msub, alternative))
        out.append(rec)

    for suite, sdf in df.groupby("suite", sort=True):
        for group, gdf in sdf.groupby("group", sort=True):
            for env, edf in gdf.groupby("env", sort=True):
                add("env", edf, suite, group, env, lambda m, e=env: m["env"] == e)
            add("group", gdf, suite, group, "", lambda m, s=suite, g=group:
                (m["suite"] == s) & (m["group"] == g))
        add("suite", sdf, suite, "", "", lambda m, s=suite: m["suite"] == s)
    table = pd.DataFrame(out)
    for col in COLUMNS:
        if col not in table:
            table[col] = None
    return table[COLUMNS]


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


def format_table(table: pd.DataFrame) -> str:
    """The table as people read it (paper format: mean ± SD, Wilson CI, p with its n)."""
    if table.empty:
        return "(no finished episodes)"
    has_base = table["baseline"].notna().any()
    show_wb = table["wrong_board"].notna().any()
    lines = []
    envs_per_group = table[table["level"] == "env"].groupby(["suite", "group"]).size()
    for _, r in table.iterrows():
        if r["level"] == "group" and envs_per_group.get((r["suite"], r["group"]), 0) <= 1:
            continue  # a group of one env repeats that env's line (kept in the CSV)
        name = {"env": r["env"], "group": f"[{r['group']}]", "suite": f"== {r['suite']} =="}[
            r["level"]
        ]
        rec = {
            "": name,
            "n": f"{r['episodes']}",
            "seeds": f"{r['seeds']}",
            "success (mean ± SD)": _pm(r["success"], r["success_sd"]),
            "95% Wilson": f"[{_f(r['ci_low'])}, {_f(r['ci_high'])}]",
            "at end": _pm(r["success_end"], r["success_end_sd"]),
        }
        if show_wb:
            rec["wrong board"] = _f(r["wrong_board"])
        rec["errors"] = str(r["errors"]) if r["errors"] else ""
        if has_base:
            rec["Wilcoxon p (n)"] = (
                f"{r['p_value']:.3f} ({int(r['p_n'])})" if not _isnan(r["p_value"])
                else (f"— ({int(r['p_n'])})" if not _isnan(r["p_n"]) else "")
            )
            rec["McNemar p (n)"] = (
                f"{r['mcnemar_p']:.3f} ({int(r['mcnemar_n'])})" if not _isnan(r["mcnemar_p"])
                else (f"— ({int(r['mcnemar_n'])})" if not _isnan(r["mcnemar_n"]) else "")
            )
        lines.append(rec)
    frame = pd.DataFrame(lines)
    title = f"policy: {table['policy'].iloc[0]}"
    if has_base:
        title += f"   baseline: {table['baseline'].dropna().iloc[0]}"
    text = title + "\n" + frame.to_string(index=False, justify="left")
    notes = []
    if (table["seeds"] < 2).any():
        notes.append("SD is blank where a row has one seed (SD over seeds is undefined).")
    if has_base:
        base = table["baseline"].dropna().iloc[0]
        alt = table["alternative"].dropna().iloc[0]
        notes.append(
            f"p: paired Wilcoxon signed-rank vs {base} over (env, seed) cells, H1: "
            f"{_H1.get(alt, alt)}; "
            "n = non-zero differences (min. attainable p = 2^-n). McNemar: exact, matched "
            "episodes; n = discordant episodes. — = no test possible (all ties)."
        )
    if table["errors"].sum():
        notes.append("errors: episodes that crashed/timed out; counted as failures.")
    return text + ("\n" + "\n".join("note: " + n for n in notes) if notes else "")


def write_csv(table: pd.DataFrame, path) -> None:
    table.to_csv(path, index=False, float_format="%.6g")


def expected_keys(manifest: dict[str, Any]):
    """Every episode the manifest's plan asks for (respecting a shard)."""
    from vlthink.harness.episodes import plan_episodes, select_shard

    plan = manifest["plan"]
    keys = plan_episodes(plan["envs"], int(plan["episodes"]), [int(s) for s in plan["seeds"]])
    shard = plan.get("shard")
    if shard:
        keys = select_shard(keys, int(shard[0]), int(shard[1]))
    return keys


def completeness(manifest: dict[str, Any], rows: list[dict[str, Any]]) -> tuple[int, int]:
    """(finished, planned) episodes."""
    from vlthink.harness.results import row_key

    planned = set(expected_keys(manifest))
    done = {row_key(r) for r in rows} & planned
    return len(done), len(planned)


__all__ = [
    "summarize", "format_table", "write_csv", "check_pairable", "PairingError", "completeness",
    "expected_keys",
]
