"""Leaderboards: ``leaderboards/vl-think.csv`` and ``leaderboards/ood.csv``.

One row per ``(policy, env, source)``.  ``source`` is ``measured`` for rows this harness computed
from a run directory, or ``reported: <citation>`` for numbers copied from a paper (kept verbatim,
never recomputed or overwritten by :func:`publish`; see ``leaderboards/import_reported.py``).

Columns: suite, group, env, policy, source, episodes, seeds, success_mean, success_sd, ci_low,
ci_high, success_end_mean, wrong_board, baseline, p_value, p_n, protocol_version,
package_version, date, command, then kind (action / probe), success_left / success_center /
success_right, and for probes said_yes, position_accuracy, absent_correct, then paper_size and,
against a baseline, the multiplicity-adjusted p-values and the paired success difference with its
interval (``COMPARISON_COLUMNS`` of the summary), then the asset set the run was drawn with
and its verified contents hash (``assets``, ``assets_hash``; a measured row of a board written
before rows named their set reads as ``vlthink``).  Their definitions
are those of :mod:`vlthink.harness.summary`
(mean ± SD over seeds, pooled 95% Wilson interval, one-sided paired Wilcoxon over (env, seed)
cells against ``baseline``).

:func:`publish` refuses, with the reason and the fix:

* a run that is incomplete (fewer finished episodes than its plan) or is a single shard,
* a run with errored episodes (crash/timeout/policy error: its rate would be biased low),
* runs of different protocol versions, or a run whose protocol differs from the measured rows
  already on the board,
* two runs giving the same policy on the same env and asset set, and a baseline that cannot be
  paired (one of another asset set included: a p-value is only computed within one set),
* a run that would replace a measured row with one of fewer episodes or seeds, or of another
  protocol version or asset pack, unless ``--replace`` is given (then each old row and its new one are
  printed).

The command line (``vlthink leaderboard publish RUN...``) is :mod:`vlthink.report.cli`'s.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from vlthink import store
from vlthink.assets.sets import DEFAULT_ASSETS
from vlthink.harness import results, rundir, summary
from vlthink.harness.results import HarnessError

MEASURED = "measured"
NEW_RATES = [*summary.BY_POSITION, *summary.PROBE_COLUMNS]
FIRST_RATES = ["success_mean", "success_sd", "ci_low", "ci_high", "success_end_mean", "wrong_board"]
RATES = [*FIRST_RATES, *NEW_RATES]
# Columns added after the first release go last, so that older boards keep their layout.
COLUMNS = [
    "suite",
    "group",
    "env",
    "policy",
    "source",
    "episodes",
    "seeds",
    *FIRST_RATES,
    "baseline",
    "p_value",
    "p_n",
    "protocol_version",
    "package_version",
    "date",
    "command",
    "kind",
    *NEW_RATES,
    "paper_size",
    *summary.COMPARISON_COLUMNS,
    *summary.ASSET_COLUMNS,
]
FILES = {"vl-think": "vl-think.csv", "ood": "ood.csv"}


class LeaderboardError(HarnessError):
    pass


def default_dir() -> Path:
    from vlthink.paths import REPO_DIR

    return REPO_DIR / "leaderboards"


def check_run(run_dir: Path, manifest: dict, rows: list) -> None:
    """Refuse (LeaderboardError, one line with the fix) a shard, an incomplete run, or one with
    errored episodes: none of them is a row anyone should cite."""
    plan = manifest.get("plan", {})
    if plan.get("shard"):
        i, n = plan["shard"]
        raise LeaderboardError(
            f"{run_dir} is shard {i + 1}/{n} of a run, not a whole run. Fix: join the shards "
            "with `vlthink-eval merge OUT SHARD_DIR...` and publish OUT."
        )
    finished, planned = rundir.completeness(manifest, rows)
    if finished < planned:
        raise LeaderboardError(
            f"{run_dir} is incomplete: {finished} of {planned} planned episodes finished. Fix: "
            f"rerun its command to finish it: {manifest.get('command', '?')}"
        )
    errors = sum(1 for r in rows if r.get("error"))
    if errors:
        raise LeaderboardError(
            f"{run_dir} has {errors} episode(s) that ended in an error (counted as failures, "
            "they would bias the rate). Fix: rerun its command with --retry-errors: "
            f"{manifest.get('command', '?')} --retry-errors"
        )


def _val(x: Any) -> Any:
    if x is None:
        return None
    if isinstance(x, float) and math.isnan(x):
        return None
    return x


def rows_for_run(
    run_dir: Path,
    baseline: Path | None = None,
    date: str | None = None,
) -> list[dict[str, Any]]:
    """Leaderboard rows (one per env) of one complete run directory."""
    manifest, rows = rundir.load_run(run_dir)
    check_run(run_dir, manifest, rows)
    base = rundir.load_run(baseline) if baseline is not None else None
    if base is not None:
        check_run(baseline, *base)
    table = summary.summarize(manifest, rows, base, str(baseline) if baseline else "the baseline")
    envs = table[table["level"] == "env"]
    date = date or _dt.date.today().isoformat()
    out = []
    for _, r in envs.iterrows():
        out.append(
            {
                "suite": r["suite"],
                "group": r["group"],
                "env": r["env"],
                "policy": r["policy"],
                "source": MEASURED,
                "kind": r["kind"],
                "episodes": int(r["episodes"]),
                "seeds": int(r["seeds"]),
                "success_mean": _val(r["success"]),
                "success_sd": _val(r["success_sd"]),
                "ci_low": _val(r["ci_low"]),
                "ci_high": _val(r["ci_high"]),
                "success_end_mean": _val(r["success_end"]),
                "wrong_board": _val(r["wrong_board"]),
                **{c: _val(r[c]) for c in summary.BY_POSITION + summary.PROBE_COLUMNS},
                "baseline": _val(r["baseline"]),
                "p_value": _val(r["p_value"]),
                "p_n": _val(r["p_n"]),
                "protocol_version": manifest.get("protocol_version"),
                "package_version": manifest.get("versions", {}).get("vlthink"),
                "date": date,
                "command": manifest.get("command"),
                "paper_size": rundir.RunPlan.from_json(manifest["plan"]).paper_size,
                **{c: _val(r.get(c)) for c in summary.COMPARISON_COLUMNS},
                **rundir.asset_set_of(manifest),
            }
        )
    return out


def read_board(path: Path) -> pd.DataFrame:
    if not Path(path).exists():
        return pd.DataFrame(columns=COLUMNS)
    try:
        df = pd.read_csv(path, dtype={"source": str, "policy": str, "env": str})
    except Exception as exc:
        raise LeaderboardError(
            f"{path}: not a readable CSV ({exc}). Fix: restore it from git."
        ) from None
    missing = [c for c in ("suite", "env", "policy", "source") if c not in df]
    if missing:
        raise LeaderboardError(f"{path}: lacks column(s) {', '.join(missing)}. Fix: restore it.")
    for c in COLUMNS:
        if c not in df:
            df[c] = None
    measured = df["source"] == MEASURED
    unset = measured & df["assets"].isna()  # published before rows named their asset set
    df["assets"] = df["assets"].astype(object)
    df.loc[unset, "assets"] = DEFAULT_ASSETS
    return df


def publish(
    run_dirs: Sequence[Path | str],
    out_dir: Path | str | None = None,
    baseline: Path | str | None = None,
    date: str | None = None,
    replace: bool = False,
    log: Any = print,
) -> list[Path]:
    """Write or update the leaderboard CSVs from complete run directories; returns files written.

    A measured row is never replaced by one of fewer episodes or seeds or another protocol
    version unless ``replace``; then ``log`` is given the old row and the new."""
    if not run_dirs:
        raise LeaderboardError("publish needs at least one run directory")
    out_dir = Path(out_dir) if out_dir is not None else default_dir()
    run_dirs = [Path(d) for d in run_dirs]
    baseline = Path(baseline) if baseline is not None else None
    protocols = {}
    for d in run_dirs:
        m = results.read_manifest(d)
        protocols[d] = (m.get("protocol_version"), m.get("harness_protocol"))
    if len(set(protocols.values())) > 1:
        listing = "; ".join(f"{d}: {p[0]} / {p[1]}" for d, p in protocols.items())
        raise LeaderboardError(
            f"these runs mix protocols ({listing}). Fix: publish runs of one protocol version "
            "together; rerun the older ones with this package version."
        )
    protocol = next(iter(protocols.values()))[0]
    new: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], Path] = {}
    for d in run_dirs:
        for row in rows_for_run(d, baseline, date):
            key = (row["policy"], row["env"], row["assets"])
            if key in seen:
                raise LeaderboardError(
                    f"policy {key[0]!r} on {key[1]} ({key[2]} assets) is in both {seen[key]} "
                    f"and {d}. Fix: publish one of them (or merge them if they are shards of one "
                    "run)."
                )
            seen[key] = d
            new.append(row)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for suite, fname in FILES.items():
        rows = [r for r in new if r["suite"] == suite]
        if rows:
            _update_board(out_dir / fname, rows, protocol, replace, log)
            written.append(out_dir / fname)
    return written


#: What a measured row must not lose when a new run replaces it (without ``--replace``):
#: (column, why a smaller or different value is refused).
KEPT_SIZE = (("seeds", "fewer seeds"), ("episodes", "fewer episodes"))


def _describe(r: Any) -> str:
    rate = r.get("success_mean")
    rate = f"{rate:.4f}" if isinstance(rate, float) and not math.isnan(rate) else rate
    return (
        f"{r.get('episodes')} episodes x {r.get('seeds')} seeds, protocol "
        f"{r.get('protocol_version')}, {r.get('assets')} assets {str(r.get('assets_hash'))[:12]}, "
        f"success {rate} ({r.get('date')})"
    )


def _why_not_replace(old: Any, new: dict[str, Any]) -> str | None:
    """Why ``new`` may not silently replace the measured row ``old`` (None: it may)."""
    for col, why in KEPT_SIZE:
        if pd.notna(old[col]) and int(new[col]) < int(old[col]):
            return why
    if pd.notna(old["protocol_version"]) and str(old["protocol_version"]) != str(
        new["protocol_version"]
    ):
        return "another protocol version"
    if pd.notna(old["assets_hash"]) and str(old["assets_hash"]) != str(new["assets_hash"]):
        return "another asset pack"
    return None


def _replacements(
    path: Path, board: pd.DataFrame, rows: list[dict[str, Any]], replace: bool, log: Any
) -> pd.Series:
    """Which board rows the new ``rows`` replace (a mask); a replacement that would lose
    episodes, seeds or the protocol is refused unless ``replace``, and then printed."""
    mask = pd.Series(False, index=board.index, dtype=bool)
    for new in rows:
        hit = (
            (board["source"] == MEASURED)
            & (board["policy"].astype(str) == str(new["policy"]))
            & (board["env"].astype(str) == str(new["env"]))
            & (board["assets"].astype(str) == str(new["assets"]))
        )
        for _, old in board[hit].iterrows():
            why = _why_not_replace(old, new)
            if why and not replace:
                raise LeaderboardError(
                    f"{path}: the row of {new['policy']!r} on {new['env']} ({_describe(old)}) "
                    f"would be replaced by one with {why} ({_describe(new)}). Fix: publish a "
                    "run of at least its size and protocol, or pass --replace to replace it."
                )
            if why or replace:
                log(f"replacing the row of {new['policy']!r} on {new['env']} in {path}")
                log(f"  old: {_describe(old)}")
                log(f"  new: {_describe(new)}")
        mask |= hit
    return mask


def _check_protocols(path: Path, board: pd.DataFrame, protocol: Any) -> None:
    measured = board[board["source"] == MEASURED]
    other = set(measured["protocol_version"].dropna().astype(str)) - {str(protocol)}
    if other:
        raise LeaderboardError(
            f"{path} holds measured rows of protocol {', '.join(sorted(other))}, these runs "
            f"are {protocol}: one board must not mix protocols. Fix: rerun those policies "
            f"with this version, or delete their rows from {path} (git keeps the history)."
        )


def _update_board(
    path: Path, rows: list[dict[str, Any]], protocol: Any, replace: bool = False, log: Any = print
) -> None:
    """Replace the measured rows of these (policy, env) pairs on one board; keep the rest."""
    board = read_board(path)
    if not replace:
        _check_protocols(path, board, protocol)
    drop = _replacements(path, board, rows, replace, log)
    keep = board.loc[~drop]
    _check_protocols(path, keep, protocol)  # with --replace: the rows that stay
    frame = pd.concat([keep[COLUMNS], pd.DataFrame(rows, columns=COLUMNS)], ignore_index=True)
    frame["_measured"] = frame["source"] != MEASURED  # measured rows first
    frame = frame.sort_values(
        ["_measured", "source", "group", "env", "policy", "assets"], kind="stable"
    ).drop(columns="_measured")
    write_board(frame, path)


NUMERIC = ["episodes", "seeds", *RATES, "p_value", "p_n", *summary.COMPARISON_NUMERIC]


def write_board(frame: pd.DataFrame, path: Path) -> None:
    """Write a board CSV atomically; rates with 4 decimals, p-values with 4 significant digits."""
    frame = frame[COLUMNS].copy()
    for c in NUMERIC:
        frame[c] = pd.to_numeric(frame[c], errors="coerce")
    for c in ("episodes", "seeds", "p_n"):
        frame[c] = frame[c].astype("Int64")
    for c in RATES:
        frame[c] = frame[c].round(4)
    for c in ("diff", "diff_low", "diff_high"):
        frame[c] = frame[c].round(4)
    for c in ("p_value", "mcnemar_p", "p_adjusted", "mcnemar_p_adjusted"):
        frame[c] = [float(f"{v:.4g}") if pd.notna(v) else v for v in frame[c]]
    frame["mcnemar_n"] = frame["mcnemar_n"].astype("Int64")
    frame["paper_size"] = frame["paper_size"].astype("boolean")  # True / False / blank
    with store.atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)
