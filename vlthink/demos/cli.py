"""``vlthink demos``: record, ``replay`` and ``info`` (parsers and dispatch).

vlthink demos --suite VLThink-OOD-Train-v0 --episodes 1400 --out data/ood-train [--assets original]
vlthink demos replay DATASET --episode K [--all]
vlthink demos info DATASET [--sheet PNG]
vlthink demos verify DATASET
vlthink demos convert DATASET --to v3.0|v2.1 --out NEW_DIR
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from vlthink.assets.sets import ASSET_SETS, DEFAULT_ASSETS

EXIT_HELP = (
    "exit codes: 0 complete; 2 bad input (nothing recorded); 3 incomplete (rerun the "
    "same command to resume); 4 complete, some attempts raised in the env (replaced)."
)


def _positive(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v


def _steps(text: str) -> int | None:
    if text.lower() in ("none", "off", "-1"):
        return None
    v = int(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 or 'none', got {v}")
    return v


def record_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vlthink demos",
        epilog="Also: `vlthink demos replay DATASET --episode K`, "
        "`vlthink demos info DATASET`, `vlthink demos verify DATASET`, "
        "`vlthink demos convert DATASET --to VERSION --out DIR`. " + EXIT_HELP,
        description="Record expert demonstrations as a LeRobot v2.1 or v3.0 dataset (resumable).",
    )
    p.add_argument(
        "--suite",
        nargs="+",
        required=True,
        metavar="SUITE_OR_ENV",
        help="env ids or suites (vl-think, ood, all), e.g. VLThink-OOD-Train-v0",
    )
    p.add_argument(
        "--episodes",
        type=_positive,
        required=True,
        help="episodes in the dataset (kept attempts), split evenly over the envs",
    )
    p.add_argument("--out", type=Path, required=True, help="dataset directory")
    p.add_argument("--policy", default="oracle", help="policy name or .toml (default oracle)")
    p.add_argument("--seed", type=int, default=0, help="run seed; attempt seeds derive from it")
    p.add_argument("--workers", type=_positive, default=1, help="env processes (default 1)")
    p.add_argument(
        "--stop-after-success",
        type=_steps,
        default=6,
        metavar="K",
        help="cut an episode K steps after it first succeeds (default 6; 'none')",
    )
    p.add_argument(
        "--drop-idle-actions",
        dest="drop_idle",
        action="store_true",
        default=True,
        help="drop steps with near-zero motion and an unchanged gripper (default)",
    )
    p.add_argument("--keep-idle-actions", dest="drop_idle", action="store_false")
    p.add_argument(
        "--successes-only",
        dest="successes_only",
        action="store_true",
        default=True,
        help="keep only attempts that succeed (default)",
    )
    p.add_argument(
        "--all-attempts",
        dest="successes_only",
        action="store_false",
        help="keep unsuccessful attempts too (rollouts of a learned policy)",
    )
    p.add_argument(
        "--max-attempts",
        type=_positive,
        default=None,
        help="attempts per env before giving up (default 2 x its episodes + 20)",
    )
    p.add_argument("--episode-timeout", type=float, default=300.0)
    p.add_argument(
        "--rerecord-from",
        type=int,
        default=None,
        metavar="K",
        help="forget episodes K.. and record them again (a corrupt file's fix)",
    )
    p.add_argument(
        "--format",
        choices=("v2.1", "v3.0"),
        default="v2.1",
        help="LeRobot dataset version: v2.1 (openpi; default) or v3.0 (lerobot >= 0.4)",
    )
    p.add_argument(
        "--assets",
        choices=ASSET_SETS,
        default=DEFAULT_ASSETS,
        help="what the scenes are drawn with: vlthink (default) or original (the paper's pack, "
        "`vlthink assets fetch original`); recorded in the dataset's metadata",
    )
    p.add_argument("--no-progress", action="store_true")
    return p


def cmd_record(argv: Sequence[str]) -> int:
    from vlthink.demos.processing import Processing
    from vlthink.demos.record import RecordConfig, record
    from vlthink.harness.config import resolve_envs
    from vlthink.harness.pipeline import load_policy
    from vlthink.harness.results import HarnessError
    from vlthink.policies.base import PolicyTraits

    a = record_parser().parse_args(argv)
    envs, _ = resolve_envs(a.suite)
    if a.episodes < len(envs):
        raise HarnessError(
            f"--episodes {a.episodes} is fewer than the {len(envs)} envs asked "
            "for. Fix: ask for at least one episode per env."
        )
    policy = load_policy(a.policy)
    if PolicyTraits.of(policy).kind != "action":
        raise HarnessError(
            f"policy {a.policy!r} is a probe (it answers questions, it does not "
            "act). Fix: record an action policy, e.g. --policy oracle."
        )
    cfg = RecordConfig(
        envs=envs,
        episodes=a.episodes,
        seed=a.seed,
        out=a.out,
        policy_spec=a.policy,
        workers=a.workers,
        processing=Processing(a.drop_idle, a.stop_after_success, a.successes_only),
        max_attempts=a.max_attempts,
        episode_timeout=a.episode_timeout,
        progress=not a.no_progress,
        rerecord_from=a.rerecord_from,
        argv=["vlthink", "demos", *argv],
        format=a.format,
        assets=a.assets,
    )
    return record(cfg, policy, list(a.suite))


def cmd_replay(argv: Sequence[str]) -> int:
    from vlthink.demos import reader
    from vlthink.demos.replay import replay

    p = argparse.ArgumentParser(
        prog="vlthink demos replay",
        description="Rerun episodes' executed actions from their seeds.",
    )
    p.add_argument("dataset", type=Path)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--episode", type=int, nargs="+", metavar="K")
    g.add_argument("--all", action="store_true")
    a = p.parse_args(argv)
    info, episodes = reader.open_dataset(a.dataset)
    n = len(episodes)
    wanted = list(range(n)) if a.all else a.episode
    bad = [k for k in wanted if not 0 <= k < n]
    if bad:
        raise reader.DatasetError(
            f"episode {bad[0]} is not in {a.dataset} (episodes 0..{n - 1}). Fix: pass one of those."
        )
    envs: dict = {}
    failed = 0
    try:
        for k in wanted:
            rep = replay(a.dataset, k, envs)
            failed += not rep.ok
            print(rep.line(), flush=True)
    finally:
        for env in envs.values():
            env.close()
    print(f"{len(wanted) - failed} of {len(wanted)} episode(s) replayed to their recorded outcome")
    return 1 if failed else 0


def cmd_info(argv: Sequence[str]) -> int:
    from vlthink.demos.info import contact_sheet, summary

    p = argparse.ArgumentParser(prog="vlthink demos info", description="What a dataset holds.")
    p.add_argument("dataset", type=Path)
    p.add_argument(
        "--sheet",
        type=Path,
        default=None,
        help="contact sheet PNG of first frames (default DATASET/meta/vlthink/first_frames.png)",
    )
    a = p.parse_args(argv)
    lines, sides = summary(a.dataset)
    print("\n".join(lines))
    if sides:
        print(f"contact sheet: {contact_sheet(a.dataset, sides, a.sheet)}")
    return 0


def cmd_verify(argv: Sequence[str]) -> int:
    from vlthink.demos.verify import check_dataset

    p = argparse.ArgumentParser(
        prog="vlthink demos verify",
        description="Check that every file of a dataset is present, whole and consistent "
        "(exit 2 with one line per problem and its fix).",
    )
    p.add_argument("dataset", type=Path)
    print(check_dataset(p.parse_args(argv).dataset))
    return 0


def cmd_convert(argv: Sequence[str]) -> int:
    from vlthink.demos.convert import main as convert_main

    return convert_main(argv)


def main(argv: Sequence[str]) -> int:
    argv = list(argv)
    commands = {
        "replay": cmd_replay,
        "info": cmd_info,
        "verify": cmd_verify,
        "convert": cmd_convert,
    }
    if argv and argv[0] in commands:
        return commands[argv[0]](argv[1:])
    return cmd_record(argv)


def add_demos_parser(sub) -> None:
    """``vlthink demos ...`` in the top-level parser (its own parsers read the rest)."""
    p = sub.add_parser(
        "demos",
        add_help=False,
        prefix_chars="\0",
        help="record / replay / inspect / convert demonstration datasets (LeRobot v2.1, v3.0)",
    )
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=lambda args: main(args.rest))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
