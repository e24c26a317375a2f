"""``leaderboards/vl-think-answer.csv``: answer mode's own leaderboard (docs/answer-mode.md),
one row per (policy, domain), never pooled with VL-Think's. The numbers are
:mod:`vlthink.harness.answer`'s."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from vlthink import store
from vlthink.harness import answer, rundir, summary
from vlthink.report.leaderboard import LeaderboardError, check_run


def leaderboard_rows(run_dir: Path) -> pd.DataFrame:
    """The answer-mode table of a finished run directory, with the command that made it and
    the asset set it was drawn with; a shard, an incomplete run or one with errored episodes is
    refused (:func:`vlthink.report.leaderboard.check_run`)."""
    manifest, rows = rundir.load_run(Path(run_dir))
    check_run(Path(run_dir), manifest, rows)
    df = summary.rows_frame(rows, manifest)
    table = answer.answer_table(df, manifest.get("policy", {}).get("name", "?"))
    table["protocol_version"] = manifest.get("protocol_version")
    table["command"] = manifest.get("command", "")
    for column, value in rundir.asset_set_of(manifest).items():
        table[column] = value
    return table


def write_leaderboard(path: Path, run_dirs: list[Path]) -> pd.DataFrame:
    """``leaderboards/vl-think-answer.csv``: the answer-mode tables of these runs, one row per
    (policy, domain)."""
    board = pd.concat([leaderboard_rows(d) for d in run_dirs], ignore_index=True)
    with store.atomic_path(path) as tmp:
        board.to_csv(tmp, index=False, float_format="%.6g")
    return board


if __name__ == "__main__":  # python -m vlthink.report.answer_board OUT.csv RUN_DIR...
    import sys

    try:
        write_leaderboard(Path(sys.argv[1]), [Path(a) for a in sys.argv[2:]])
    except LeaderboardError as exc:
        print(f"vlthink: {exc}", file=sys.stderr)
        sys.exit(2)
