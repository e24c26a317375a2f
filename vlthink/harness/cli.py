"""``vlthink-eval``: run a policy on a suite, resume, summarize, pair against a baseline, merge.

    vlthink-eval --policy openvla-align --suite vl-think [--episodes 128] [--seed 0 1 2]
                 [--workers K] [--out DIR] [--baseline RUN_DIR] [--record-video]
                 [--sim-backend cpu|gpu] [--num-envs N] [--shard I/N] [--executor local|ray]
    vlthink-eval summary RUN_DIR [--baseline RUN_DIR]
    vlthink-eval merge OUT SHARD_DIR [SHARD_DIR ...]

``--suite`` takes ``vl-think``, ``ood``, ``all`` or env ids (several may be given).  The default
``--out`` is ``runs/<policy>/<suite>-seed<seeds>``, so rerunning the same command resumes the same
run: finished episodes are skipped, a truncated last line is repaired.  A run directory belongs to
one configuration (policy + settings, envs, episodes, seeds, backend, protocol); a command that
differs is refused rather than mixed into it.

User errors (unknown env id or policy, bad policy file, corrupt results, mismatched baseline)
print one ``vlthink-eval: error: ...`` line naming the problem and the fix and exit with code 2;
a policy that died mid-run exits with code 3; finished episodes are never lost.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import difflib
import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

from vlthink.harness import episodes as E
from vlthink.harness import results as R
from vlthink.harness import summary as S
from vlthink.harness.results import HarnessError

SUITES = ("vl-think", "ood", "all")
EXIT_USER = 2
EXIT_POLICY_DEAD = 3


# --------------------------------------------------------------------------------------------
# tasks


def task_tables() -> tuple[dict[str, Any], dict[str, Any]]:
    """(VL-Think tasks, OOD tasks): env id -> TaskInfo; importing registers the env ids."""
    import vlthink

    vl = getattr(vlthink, "VL_THINK_TASKS", None)
    ood = getattr(vlthink, "OOD_TASKS", None)
    if vl is None or ood is None:  # before vlthink/__init__ re-exports them
        from vlthink.envs import registry

        registry.register_all()
        vl, ood = registry.VL_THINK_TASKS, registry.OOD_TASKS
    return dict(vl), dict(ood)


def resolve_envs(specs: Sequence[str]) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Expand suite names / env ids into env ids (in order, no repeats) and their task table."""
    vl, ood = task_tables()
    known = {**vl, **ood}
    env_ids: list[str] = []
    for spec in specs:
        if spec == "vl-think":
            ids = list(vl)
        elif spec == "ood":
            ids = list(ood)
        elif spec == "all":
            ids = list(vl) + list(ood)
        elif spec in known:
            ids = [spec]
        else:
            hint = difflib.get_close_matches(spec, list(known) + list(SUITES), n=3)
            raise HarnessError(
                f"unknown suite or env id {spec!r}"
                + (f" (did you mean {', '.join(hint)}?)" if hint else "")
                + f". --suite takes {', '.join(SUITES)} or env ids; known env ids: "
                + ", ".join(sorted(known))
            )
        if not ids:
            raise HarnessError(f"suite {spec!r} has no environments in this vlthink version")
        env_ids += [i for i in ids if i not in env_ids]
    tasks = {i: {"suite": known[i].suite, "group": known[i].group} for i in env_ids}
    return env_ids, tasks


# --------------------------------------------------------------------------------------------
# manifest


def _version(dist: str) -> Optional[str]:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def package_version() -> str:
    v = _version("vlthink")
    if v:
        return v
    try:  # a checkout that is not installed
        import tomllib

        from vlthink.paths import REPO_DIR

        with open(REPO_DIR / "pyproject.toml", "rb") as fh:
            return tomllib.load(fh)["project"]["version"] + "+checkout"
    except Exception:
        return "unknown"


def _mesa_version() -> Optional[str]:
    import subprocess

    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "mesa-vulkan-drivers"],
            capture_output=True, text=True, timeout=10,
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _render_device() -> Optional[str]:
    try:
        import sapien

        summary = sapien.render.get_device_summary()
        return summary.strip().splitlines()[0] if summary else None
    except Exception as exc:
        return f"unknown ({type(exc).__name__})"


def _git_commit() -> Optional[str]:
    import subprocess

    from vlthink.paths import REPO_DIR

    try:
        out = subprocess.run(["git", "-C", str(REPO_DIR), "rev-parse", "--verify", "-q", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        commit = out.stdout.strip()
        if out.returncode != 0 or not commit:
            return None
        dirty = subprocess.run(["git", "-C", str(REPO_DIR), "status", "--porcelain", "-uno"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def environment_info() -> dict[str, Any]:
    import platform

    return {
        "versions": {
            "vlthink": package_version(),
            "sapien": _version("sapien"),
            "mani_skill": _version("mani_skill"),
            "torch": _version("torch"),
            "gymnasium": _version("gymnasium"),
            "numpy": _version("numpy"),
            "scipy": _version("scipy"),
            "mesa": _mesa_version(),
            "python": platform.python_version(),
        },
        "render_device": _render_device(),
        "git_commit": _git_commit(),
        "host": {"platform": platform.platform(), "cpus": os.cpu_count()},
    }


def _protocol_version() -> str:
    try:
        from vlthink.envs import PROTOCOL_VERSION
    except ImportError:
        from vlthink.envs.registry import PROTOCOL_VERSION
    return str(PROTOCOL_VERSION)


def canonical_command(args: argparse.Namespace, env_specs: Sequence[str]) -> str:
    """The command that reproduces this run (identity options only)."""
    parts = ["vlthink-eval", "--policy", args.policy, "--suite", *env_specs,
             "--episodes", str(args.episodes), "--seed", *[str(s) for s in args.seed],
             "--sim-backend", args.sim_backend]
    if args.sim_backend == "gpu":
        parts += ["--num-envs", str(args.num_envs)]
    return shlex.join(parts)


def _identity(manifest: dict[str, Any]) -> dict[str, Any]:
    pol = dict(manifest.get("policy", {}))
    cfg = {k: v for k, v in (pol.get("config") or {}).items() if k != "source"}
    return {
        "protocol_version": manifest.get("protocol_version"),
        "harness_protocol": manifest.get("harness_protocol"),
        "policy": pol.get("name"),
        "policy config": cfg,
        "plan": manifest.get("plan"),
    }


def _check_same_run(old: dict[str, Any], new: dict[str, Any], out: Path) -> None:
    a, b = _identity(old), _identity(new)
    for field in a:
        if a[field] != b[field]:
            detail = ""
            if isinstance(a[field], dict) and isinstance(b[field], dict):
                diff = [k for k in sorted(set(a[field]) | set(b[field]))
                        if a[field].get(k) != b[field].get(k)]
                detail = "; ".join(f"{k}: {a[field].get(k)!r} there, {b[field].get(k)!r} now"
                                   for k in diff[:4])
            else:
                detail = f"{a[field]!r} there, {b[field]!r} now"
            raise HarnessError(
                f"{out} holds a run with a different {field} ({detail}). Resuming would mix two "
                "configurations. Fix: use another --out, or repeat that run's exact command: "
                f"{old.get('command', '?')}"
            )


# --------------------------------------------------------------------------------------------
# progress


class Progress:
    """A total bar plus one bar per env showing episodes done and the running success rate."""

    def __init__(self, env_ids: list[str], planned: dict[str, int], done_rows: list[dict],
                 enabled: bool):
        from tqdm.auto import tqdm

        self.enabled = enabled
        self.bars: dict[str, Any] = {}
        self.k: dict[str, int] = {e: 0 for e in env_ids}
        self.n: dict[str, int] = {e: 0 for e in env_ids}
        for r in done_rows:
            if r["env"] in self.n:
                self.n[r["env"]] += 1
                self.k[r["env"]] += bool(r.get("success_once"))
        total = sum(planned.values())
        self.total = tqdm(total=total, initial=sum(self.n.values()), desc="all episodes",
                          position=0, disable=not enabled, dynamic_ncols=True, leave=True)
        width = max((len(e) for e in env_ids), default=10)
        for j, e in enumerate(env_ids, start=1):
            self.bars[e] = tqdm(total=planned.get(e, 0), initial=self.n[e], desc=e.ljust(width),
                                position=j, disable=not enabled, dynamic_ncols=True, leave=True)
            self._post(e)

    def _post(self, env: str) -> None:
        n = self.n[env]
        rate = f"{self.k[env] / n:.2f}" if n else "-"
        self.bars[env].set_postfix_str(f"success {rate}", refresh=False)

    def update(self, row: dict) -> None:
        e = row["env"]
        self.n[e] += 1
        self.k[e] += bool(row.get("success_once"))
        if self.enabled:
            self._post(e)
            self.bars[e].update(1)
            self.total.update(1)

    def close(self) -> None:
        for b in self.bars.values():
            b.close()
        self.total.close()


# --------------------------------------------------------------------------------------------
# commands


def _positive(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vlthink-eval",
        description="Evaluate a policy on the vlthink suites (resumable, batched, paired tests).",
        epilog="Subcommands: `vlthink-eval summary RUN_DIR [--baseline DIR]`, "
               "`vlthink-eval merge OUT SHARD_DIR...`.",
    )
    p.add_argument("--policy", required=True,
                   help="a name from policies/ (e.g. oracle, openvla-align) or a .toml path")
    p.add_argument("--suite", nargs="+", default=["vl-think"], metavar="SUITE_OR_ENV",
                   help="vl-think, ood, all, or env ids (default: vl-think)")
    p.add_argument("--episodes", type=_positive, default=128,
                   help="episodes per (env, seed) cell (default 128, the paper's protocol)")
    p.add_argument("--seed", type=int, nargs="+", default=[0],
                   help="run seed(s); each makes one cell per env (mean ± SD is over seeds)")
    p.add_argument("--workers", type=_positive, default=1, help="CPU env processes (default 1)")
    p.add_argument("--out", type=Path, default=None,
                   help="run directory (default runs/<policy>/<suite>-seed<seeds>)")
    p.add_argument("--baseline", type=Path, default=None,
                   help="a run directory to test this run against (paired Wilcoxon, McNemar)")
    p.add_argument("--alternative", choices=("greater", "less", "two-sided"), default="greater",
                   help="H1 of the paired tests: this run is greater (better) than the baseline")
    p.add_argument("--record-video", action="store_true", help="save per-episode GIFs in OUT/videos")
    p.add_argument("--sim-backend", choices=("cpu", "gpu"), default="cpu")
    p.add_argument("--num-envs", type=_positive, default=1,
                   help="sub-envs of one batched env with --sim-backend gpu")
    p.add_argument("--episode-timeout", type=float, default=300.0,
                   help="seconds before a hung episode's worker is killed (default 300)")
    p.add_argument("--max-policy-failures", type=_positive, default=3,
                   help="consecutive failing policy calls after which the run stops (default 3)")
    p.add_argument("--retry-errors", action="store_true",
                   help="run again the episodes whose rows carry an error")
    p.add_argument("--shard", default=None, metavar="I/N",
                   help="run only shard I of N (join shards with `vlthink-eval merge`)")
    p.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="local processes, or shards over a Ray cluster (pip install vlthink[ray])")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--stop-after", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--obs-mode", choices=("auto", "rgb", "state_dict"), default="auto",
                   help="what the env renders: auto (camera frames unless the policy never uses "
                        "them), or force one (benchmarks); results do not depend on it")
    return p


def _default_out(args: argparse.Namespace, policy_name: str) -> Path:
    label = "+".join(args.suite) if len(args.suite) <= 2 else f"{len(args.suite)}envs"
    label = label.replace("/", "_")
    seeds = "-".join(str(s) for s in args.seed)
    shard = f"-shard{args.shard.replace('/', 'of')}" if args.shard else ""
    return Path("runs") / policy_name / f"{label}-seed{seeds}{shard}"


def load_policy(spec: str):
    try:
        from vlthink.policies.registry import PolicyConfigError, load_policy as _load
    except ImportError as exc:  # pragma: no cover
        raise HarnessError(f"cannot import the policy registry: {exc}") from None
    try:
        return _load(spec)
    except PolicyConfigError as exc:
        raise HarnessError(f"policy {spec!r}: {exc}") from None


def cmd_run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from vlthink.harness import runner

    if args.sim_backend == "cpu" and args.num_envs != 1:
        raise HarnessError("--num-envs needs --sim-backend gpu; on the CPU use --workers")
    if args.sim_backend == "gpu" and args.workers != 1:
        raise HarnessError("--workers is for the CPU backend; with --sim-backend gpu use --num-envs")
    try:
        shard = E.parse_shard(args.shard) if args.shard else None
    except ValueError as exc:
        raise HarnessError(str(exc)) from None
    env_ids, tasks = resolve_envs(args.suite)
    policy = load_policy(args.policy)
    out = args.out or _default_out(args, policy.name)

    bman = R.read_manifest(args.baseline) if args.baseline is not None else None

    manifest = {
        "format": R.RUN_FORMAT,
        "protocol_version": _protocol_version(),
        "harness_protocol": E.HARNESS_PROTOCOL,
        "policy": {"name": policy.name, "spec": args.policy,
                   "config": getattr(policy, "config", {}) or {}},
        "plan": {"envs": env_ids, "episodes": args.episodes, "seeds": list(args.seed),
                 "sim_backend": args.sim_backend,
                 "num_envs": args.num_envs if args.sim_backend == "gpu" else 1,
                 "shard": list(shard) if shard else None},
        "tasks": tasks,
        "command": canonical_command(args, args.suite),
        "argv": ["vlthink-eval", *argv],
        **environment_info(),
    }
    if bman is not None:
        S.check_pairable(manifest, bman, str(args.baseline))  # refuse before hours of work

    with R.run_lock(out):
        rows_path = out / R.ROWS_FILE
        if (out / R.MANIFEST_FILE).exists():
            old = R.read_manifest(out)
            _check_same_run(old, manifest, out)
            manifest["created"] = old.get("created")
            manifest["sessions"] = old.get("sessions", [])
        elif rows_path.exists():
            raise HarnessError(f"{rows_path} exists without a manifest. Fix: use another --out.")
        rows, note = R.read_rows(rows_path, repair=True)
        if note:
            print(f"vlthink-eval: {note}", file=sys.stderr)
        if args.retry_errors and any(r.get("error") for r in rows):
            keep = [r for r in rows if not r.get("error")]
            print(f"vlthink-eval: --retry-errors: {len(rows) - len(keep)} errored episode(s) "
                  f"will run again (old file kept as {rows_path.name}.bak)", file=sys.stderr)
            R.write_rows_atomic(rows_path, keep, backup=True)
            rows = keep
        now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        manifest.setdefault("created", now)
        if not manifest.get("created"):
            manifest["created"] = now
        manifest["updated"] = now
        manifest["sessions"] = list(manifest.get("sessions") or []) + [
            {"started": now, "argv": manifest["argv"], "workers": args.workers,
             "executor": args.executor}
        ]
        R.write_manifest(out, manifest)

        planned = S.expected_keys(manifest)
        done = {R.row_key(r) for r in rows}
        todo = [k for k in planned if k not in done]
        planned_per_env: dict[str, int] = {}
        for k in planned:
            planned_per_env[k.env_id] = planned_per_env.get(k.env_id, 0) + 1
        if rows:
            print(f"vlthink-eval: resuming {out}: {len(done & set(planned))} of {len(planned)} "
                  f"episodes already finished, {len(todo)} to run", file=sys.stderr)
        progress = Progress(env_ids, planned_per_env, rows, enabled=not args.no_progress)
        opts = runner.RunOptions(
            workers=args.workers, sim_backend=args.sim_backend, num_envs=args.num_envs,
            episode_timeout=args.episode_timeout, record_video=args.record_video,
            video_dir=out / "videos", max_policy_failures=args.max_policy_failures,
            stop_after=args.stop_after, obs_mode=None if args.obs_mode == "auto" else args.obs_mode,
        )
        status = 0
        try:
            with R.RowWriter(rows_path) as writer:
                def emit(row: dict) -> None:
                    writer.write(row)
                    rows.append(row)
                    progress.update(row)

                if todo:
                    if args.executor == "ray":
                        from vlthink.harness import ray_executor

                        ray_executor.run(args, manifest, policy, todo, opts, emit)
                    else:
                        runner.make_executor(policy, opts, emit).run(todo)
        except runner.PolicyDead as exc:
            progress.close()
            print(f"vlthink-eval: error: {exc}", file=sys.stderr)
            status = EXIT_POLICY_DEAD
        finally:
            progress.close()
            try:
                policy.close()
            except Exception:
                pass
    return _report(out, manifest, rows, args.baseline, args.alternative) or status


def _report(out: Path, manifest: dict, rows: list, baseline_dir: Optional[Path],
            alternative: str) -> int:
    baseline = None
    if baseline_dir is not None:
        baseline = R.load_run(baseline_dir)
    table = S.summarize(manifest, rows, baseline, str(baseline_dir), alternative)
    finished, planned = S.completeness(manifest, rows)
    S.write_csv(table, out / R.SUMMARY_FILE)
    print(S.format_table(table))
    state = "complete" if finished == planned else f"INCOMPLETE ({finished}/{planned} episodes)"
    errors = sum(1 for r in rows if r.get("error"))
    print(f"\nrun {out}: {state}; {errors} episode(s) with errors; "
          f"table written to {out / R.SUMMARY_FILE}")
    return 0


def cmd_summary(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="vlthink-eval summary",
                                description="Print and write the summary of a run directory.")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--baseline", type=Path, default=None)
    p.add_argument("--alternative", choices=("greater", "less", "two-sided"), default="greater")
    a = p.parse_args(argv)
    manifest, rows = R.load_run(a.run_dir)
    return _report(a.run_dir, manifest, rows, a.baseline, a.alternative)


def merge_runs(out: Path, shard_dirs: Sequence[Path]) -> tuple[dict, list]:
    """Join shard directories (same configuration) into ``out``; conflicting rows are refused."""
    if not shard_dirs:
        raise HarnessError("merge needs at least one shard directory")
    manifests = [R.read_manifest(d) for d in shard_dirs]
    first = manifests[0]

    def ident(m: dict) -> dict:
        i = _identity(m)
        i["plan"] = {k: v for k, v in (i["plan"] or {}).items() if k != "shard"}
        return i

    for d, m in zip(shard_dirs[1:], manifests[1:]):
        a, b = ident(first), ident(m)
        diff = [k for k in a if a[k] != b[k]]
        if diff:
            raise HarnessError(
                f"cannot merge {d} with {shard_dirs[0]}: their {', '.join(diff)} differ. "
                "Fix: merge only shards of one command (same policy, suite, episodes, seeds)."
            )
    merged: dict[E.EpisodeKey, dict] = {}
    for d in shard_dirs:
        rows, _ = R.read_rows(Path(d) / R.ROWS_FILE, repair=False)
        for r in rows:
            k = R.row_key(r)
            if k in merged and R.stable_row(merged[k]) != R.stable_row(r):
                raise HarnessError(
                    f"cannot merge: episode {k.label()} has different results in two shards "
                    f"(one is in {d}). Shards must not overlap; fix: drop one of the directories."
                )
            merged.setdefault(k, r)
    out = Path(out)
    if (out / R.ROWS_FILE).exists():
        raise HarnessError(f"{out} already holds results. Fix: merge into a new directory.")
    manifest = json.loads(json.dumps(first))
    manifest["plan"]["shard"] = None
    manifest["merged_from"] = [str(d) for d in shard_dirs]
    manifest["command"] = first.get("command")
    manifest["updated"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    rows = sorted(merged.values(), key=lambda r: (r["env"], r["seed"], r["episode"]))
    out.mkdir(parents=True, exist_ok=True)
    R.write_manifest(out, manifest)
    R.write_rows_atomic(out / R.ROWS_FILE, rows)
    return manifest, rows


def cmd_merge(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="vlthink-eval merge",
                                description="Join shard run directories into one run directory.")
    p.add_argument("out", type=Path)
    p.add_argument("shards", type=Path, nargs="+")
    a = p.parse_args(argv)
    manifest, rows = merge_runs(a.out, a.shards)
    return _report(a.out, manifest, rows, None, "greater")


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "merge":
            return cmd_merge(argv[1:])
        if argv and argv[0] == "summary":
            return cmd_summary(argv[1:])
        args = build_parser().parse_args(argv)
        return cmd_run(args, argv)
    except HarnessError as exc:
        print(f"vlthink-eval: error: {exc}", file=sys.stderr)
        return EXIT_USER
    except KeyboardInterrupt:
        print("vlthink-eval: interrupted; finished episodes are saved - rerun the same command "
              "to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
