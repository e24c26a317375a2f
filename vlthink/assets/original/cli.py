"""``vlthink assets fetch original [--to DIR] [--from PATH]``: the CLI side of :mod:`.fetch`."""

from __future__ import annotations

import argparse
import sys

from vlthink.assets.original.pack import ENV_VAR, PACK_NAME, PackError


def add_fetch_parser(assets_parser: argparse.ArgumentParser) -> None:
    """``fetch`` under ``vlthink assets`` (which keeps drawing contact sheets without it)."""
    sub = assets_parser.add_subparsers(dest="assets_command", metavar="{fetch}")
    p = sub.add_parser(
        "fetch",
        help="download or copy the paper's original asset pack and verify every file",
        description="Get the paper's original asset pack (CognitiveAISystems/BlindVLA, MIT) "
        "into the cache (or --to DIR), verified file by file against the hashes shipped with "
        f"vlthink. Use it with gym.make(id, assets='original'); set {ENV_VAR} to a pack kept "
        "elsewhere.",
    )
    p.add_argument("pack", choices=(PACK_NAME,), help="which pack")
    p.add_argument("--to", metavar="DIR", help=f"install here (default: ${ENV_VAR} or the cache)")
    p.add_argument(
        "--from",
        dest="source",
        metavar="PATH",
        help="a clone, an extracted archive or an archive file (.tar.gz, .zip): no download",
    )
    p.set_defaults(func=run_fetch)


def run_fetch(args) -> int:
    """Exit 0 with the pack's folder printed, or 2 with one line naming the problem and fix."""
    from vlthink.assets.original.fetch import fetch

    try:
        root = fetch(args.to, args.source)
    except PackError as exc:
        print(f"vlthink assets fetch: error: {exc}", file=sys.stderr)
        return 2
    print(f"original asset pack verified at {root}")
    if args.to:
        print(f"use it with: export {ENV_VAR}={root}")
    return 0
