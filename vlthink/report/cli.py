"""Command lines: ``vlthink report`` and ``vlthink leaderboard publish|render``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vlthink import store
from vlthink.errors import VLThinkError
from vlthink.report.report import GALLERY_PER_ENV


def add_report_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("report", help="one HTML page of charts and episodes from run directories")
    p.add_argument(
        "run_dirs",
        type=Path,
        nargs="+",
        metavar="RUN_DIR",
        help="vlthink-eval --out directories, shown side by side",
    )
    p.add_argument(
        "--baseline",
        type=Path,
        default=None,
        metavar="RUN_DIR",
        help="run the others are paired with (Wilcoxon, McNemar p on the bars)",
    )
    p.add_argument(
        "--out", type=Path, default=Path("report.html"), help="the page (default report.html)"
    )
    p.add_argument(
        "--media-dir",
        action="store_true",
        help="write images and videos into report_files/ (for --out report.html) beside the page instead of "
        "embedding them (the page stays offline-readable either way)",
    )
    p.add_argument(
        "--leaderboard-dir",
        type=Path,
        default=None,
        help="where the reported rows come from (default: leaderboards/ of the checkout)",
    )
    p.add_argument(
        "--gallery-per-env",
        type=int,
        default=GALLERY_PER_ENV,
        metavar="N",
        help="episode cards per run and env, failures first (default %(default)s)",
    )
    p.set_defaults(func=run_report)
    return p


def _fail(prog: str, exc: Exception) -> int:
    print(f"{prog}: error: {exc}", file=sys.stderr)
    return 2


def run_report(args: argparse.Namespace) -> int:
    from vlthink.report.report import build_report

    try:
        out = build_report(
            args.run_dirs,
            args.out,
            args.baseline,
            args.media_dir,
            args.leaderboard_dir or "default",
            args.gallery_per_env,
        )
    except VLThinkError as exc:
        return _fail("vlthink report", exc)
    print(f"wrote {out}")
    return 0


def add_render_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """``leaderboard render`` (added to ``vlthink leaderboard`` by the harness' parser)."""
    p = sub.add_parser("render", help="the leaderboard CSVs as a Markdown table and an HTML page")
    p.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="leaderboard folder (default: leaderboards/ of the checkout)",
    )
    p.add_argument(
        "--md", type=Path, default=None, help="write the Markdown here (default: print it)"
    )
    p.add_argument(
        "--html",
        type=Path,
        default=Path("leaderboard.html"),
        help="the HTML page (default leaderboard.html)",
    )
    p.set_defaults(func=run_render)
    return p


def run_render(args: argparse.Namespace) -> int:
    from vlthink.report import leaderboard_page
    from vlthink.report.leaderboard import default_dir

    board_dir = args.dir or default_dir()
    try:
        md = leaderboard_page.markdown(board_dir)
        html = leaderboard_page.html_page(board_dir, args.html)
    except VLThinkError as exc:
        return _fail("vlthink leaderboard render", exc)
    if args.md:
        store.atomic_write(args.md, md)
        print(f"wrote {args.md}")
    else:
        sys.stdout.write(md)
    print(f"wrote {html}", file=sys.stderr if not args.md else sys.stdout)
    return 0


def add_leaderboard_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``leaderboard publish RUN_DIR... [--baseline DIR] [--out-dir DIR]`` to a CLI.

    The parser's ``func`` default is :func:`run_leaderboard_command`; call ``args.func(args)``
    and use its return value as the exit code (it prints user errors, no traceback).
    """
    lb = subparsers.add_parser("leaderboard", help="publish runs to the leaderboard CSVs")
    sub = lb.add_subparsers(dest="leaderboard_command", required=True)
    pub = sub.add_parser("publish", help="write/update leaderboards/vl-think.csv and ood.csv")
    pub.add_argument("run_dirs", type=Path, nargs="+", help="complete run directories")
    pub.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="run directory the p-values are computed against",
    )
    pub.add_argument(
        "--replace",
        action="store_true",
        help="replace rows even with a smaller run (fewer episodes or seeds) or another "
        "protocol version; prints each old row and its new one",
    )
    pub.add_argument(
        "--out-dir",
        type=Path,
        default=None,
        help="leaderboard folder (default: leaderboards/ of the checkout)",
    )
    lb.set_defaults(func=run_leaderboard_command)
    pub.set_defaults(func=run_leaderboard_command)
    add_render_parser(sub)  # leaderboard render: the CSVs as Markdown and HTML (vlthink.report)
    return lb


def run_leaderboard_command(args: argparse.Namespace) -> int:
    from vlthink.report.leaderboard import publish

    try:
        paths = publish(
            args.run_dirs, out_dir=args.out_dir, baseline=args.baseline, replace=args.replace
        )
    except VLThinkError as exc:
        print(f"vlthink leaderboard: error: {exc}", file=sys.stderr)
        return 2
    for p in paths:
        print(f"updated {p}")
    return 0
