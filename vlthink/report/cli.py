"""Command lines: ``vlthink report`` and ``vlthink leaderboard render``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vlthink import store
from vlthink.errors import VLThinkError

GALLERY_PER_ENV = 24  # cards per run and env; failures come first, so they are the ones kept


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
    from vlthink.harness.leaderboard import default_dir
    from vlthink.report import board

    board_dir = args.dir or default_dir()
    try:
        md = board.markdown(board_dir)
        html = board.html_page(board_dir, args.html)
    except VLThinkError as exc:
        return _fail("vlthink leaderboard render", exc)
    if args.md:
        store.atomic_write(args.md, md)
        print(f"wrote {args.md}")
    else:
        sys.stdout.write(md)
    print(f"wrote {html}", file=sys.stderr if not args.md else sys.stdout)
    return 0
