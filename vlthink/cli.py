"""The `vlthink` command: doctor, boards, assets, envs, frames, diagnose, leaderboard.

Evaluation itself is `vlthink-eval` (vlthink.harness.cli).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _doctor(args) -> int:
    from vlthink import doctor

    return doctor.run()


def _boards(args) -> int:
    from vlthink.sheets.boards import contact_sheet

    out = contact_sheet(domains=args.domain or None, out=Path(args.out))
    print(f"wrote {out}")
    return 0


def _assets(args) -> int:
    from vlthink.sheets.assets import assets_sheet

    for path in assets_sheet(Path(args.out), only=args.only):
        print(f"wrote {path}")
    return 0


def _envs(args) -> int:
    import vlthink
    from vlthink.envs import ALL_TASKS

    del vlthink
    for info in ALL_TASKS.values():  # the registry's rows, with each row's one-line summary
        print(f"{info.env_id:<32} {info.suite:<9} {info.group:<10} {info.summary}")
    return 0


def _frames(args) -> int:
    from vlthink.envs.registry import resolve_suites
    from vlthink.sheets.frames import first_frames_sheet

    env_ids = resolve_suites(args.env_ids)  # suite names too; unknown ids get one clear message
    out = first_frames_sheet(env_ids, range(args.seeds), Path(args.out), scale=args.scale)
    print(f"wrote {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vlthink", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("doctor", help="check rendering, versions and the robot asset")
    p.set_defaults(func=_doctor)

    p = sub.add_parser("boards", help="write a contact sheet PNG of the board art")
    p.add_argument("--domain", action="append", help="only this domain (repeatable)")
    p.add_argument("--out", default="boards.png", help="output PNG (default: boards.png)")
    p.set_defaults(func=_boards)

    from vlthink.assets.original.cli import add_fetch_parser

    p = sub.add_parser(
        "assets",
        help="write contact sheets of the OOD objects, receptacles and table looks; "
        "`assets fetch original`: get the paper's asset pack",
    )
    p.add_argument("--out", default=".", help="output folder (default: .)")
    p.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="only this object or receptacle (repeatable; the table looks are always drawn)",
    )
    p.set_defaults(func=_assets)
    add_fetch_parser(p)  # assets fetch original [--to DIR] [--from PATH]

    p = sub.add_parser("envs", help="list the registered environment ids")
    p.set_defaults(func=_envs)

    p = sub.add_parser("frames", help="contact sheet of first camera frames of some envs")
    p.add_argument("env_ids", nargs="+", help="env ids or suites (vl-think, ood, all)")
    p.add_argument("--seeds", type=int, default=4, help="seeds 0..N-1 per env (default 4)")
    p.add_argument("--out", default="frames.png")
    p.add_argument("--scale", type=float, default=0.5, help="frame size / 640x480 (default 0.5)")
    p.set_defaults(func=_frames)

    from vlthink.diagnostics.cli import add_diagnose_parser

    add_diagnose_parser(sub)  # diagnose {attention,embeddings,probe} --model M --out DIR

    from vlthink.demos.cli import add_demos_parser

    add_demos_parser(sub)  # demos [replay|info] ...: demonstration datasets (LeRobot v2.1)

    from vlthink.report.cli import add_report_parser

    add_report_parser(sub)  # report RUN_DIR... [--baseline DIR] [--out report.html]

    from vlthink.report.cli import add_leaderboard_parser

    add_leaderboard_parser(sub)  # leaderboard publish RUN_DIR... [--baseline DIR] [--out-dir DIR]
    return parser


def main(argv: list[str] | None = None) -> int:
    from vlthink.errors import VLThinkError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except VLThinkError as exc:  # bad input: one line; any other exception is a bug (traceback)
        print(f"vlthink {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
