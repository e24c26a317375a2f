"""Copy the paper's published Table 1 into leaderboards/ood.csv as rows marked *reported*.

    python leaderboards/import_reported.py [--table /work/shared/paper/table1_ood.csv]

Source: "Don't Blind Your VLA: Aligning Visual Representations for OOD Generalization",
arXiv 2510.25616, Table 1 (OpenVLA-7B Default / Freeze / Align on the 13 OOD variants, success
rate mean ± SD).  The numbers are copied verbatim; nothing is recomputed.  Each row has
``source = "reported: arXiv 2510.25616 Table 1"``, ``policy = "OpenVLA <method> (paper)"`` so it
can never be mistaken for a row measured by this harness, and ``env`` = the vlthink OOD env id of
that variant when one is registered (an id ending in ``-<Variant>-v0``), else the paper's variant
name.  Episodes/seeds/CI/p are left blank: the paper gives only mean and SD.  The script is
idempotent: it replaces earlier reported rows of that source and keeps every other row.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

SOURCE = "reported: arXiv 2510.25616 Table 1"
DEFAULT_TABLE = HERE.parents[1] / "shared" / "paper" / "table1_ood.csv"


def variant_env_ids() -> dict[str, str]:
    try:
        import vlthink

        ids = list(vlthink.OOD_TASKS)
    except Exception:
        return {}
    out = {}
    for env_id in ids:
        stem = env_id.rsplit("-v", 1)[0]
        out[stem.split("-")[-1].lower()] = env_id
    return out


def main() -> int:
    import pandas as pd

    from vlthink.report.leaderboard import COLUMNS, read_board, write_board

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--table", type=Path, default=DEFAULT_TABLE)
    p.add_argument("--out", type=Path, default=HERE / "ood.csv")
    a = p.parse_args()
    ids = variant_env_ids()
    rows = []
    with open(a.table, newline="") as fh:
        for r in csv.DictReader(fh):
            rows.append(
                {
                    "suite": "ood",
                    "group": r["axis"],
                    "env": ids.get(r["variant"].lower(), r["variant"]),
                    "policy": f"OpenVLA {r['method']} (paper)",
                    "source": SOURCE,
                    "success_mean": float(r["success_mean"]),
                    "success_sd": float(r["success_sd"]),
                    "protocol_version": "paper",
                }
            )
    board = read_board(a.out)
    board = board[board["source"] != SOURCE]
    frame = pd.concat([board[COLUMNS], pd.DataFrame(rows, columns=COLUMNS)], ignore_index=True)
    write_board(frame, a.out)
    print(f"wrote {len(rows)} reported rows to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
