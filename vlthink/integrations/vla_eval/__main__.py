"""``python -m vlthink.integrations.vla_eval import AGGREGATE.json --out RUN_DIR [--policy NAME]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vlthink.harness.results import HarnessError
from vlthink.integrations.vla_eval.importer import import_results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vlthink.integrations.vla_eval")
    sub = p.add_subparsers(dest="command", required=True)
    imp = sub.add_parser(
        "import", help="vla-eval results of VLThinkBenchmark -> a vlthink run directory"
    )
    imp.add_argument(
        "aggregate", type=Path, help="<output_dir>/<benchmark>_aggregate.json of vla-eval"
    )
    imp.add_argument("--out", type=Path, required=True, help="the vlthink run directory")
    imp.add_argument(
        "--policy", default=None, help="policy name (default: the model server's class)"
    )
    args = p.parse_args(argv)
    try:
        done = import_results(args.aggregate, args.out, args.policy)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for why in done.skipped:
        print(f"not imported: {why}")
    print(f"{done.out}: {done.written} episode(s) imported, {done.already} already there")
    return 0


if __name__ == "__main__":
    sys.exit(main())
