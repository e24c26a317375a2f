"""What a run directory is: its plan, its manifest, opening it to run, and what is left to do.

A run directory (``--out``) holds one configuration's results (the JSONL store of
:mod:`vlthink.harness.results`) under a manifest that says what was asked for:

* :class:`RunPlan` - envs, episodes per (env, seed) cell, seeds, backend, shard: the planned
  episode keys, the canonical command, the default ``--out``;
* :class:`Manifest` - the plan plus policy, scene/harness protocols, the asset set (its name and
  verified hash: :func:`asset_set_of`), provenance and sessions, written as ``manifest.json``;
* :func:`open_run` - lock, identity check (a different configuration is refused rather than
  mixed in), repair of a truncated last line, ``--retry-errors``, a new session entry;
* :func:`todo`, :func:`completeness`, :func:`merge_shards`.
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vlthink.assets.sets import DEFAULT_ASSETS
from vlthink.envs.ids import ANSWER_GROUPS
from vlthink.harness import results
from vlthink.harness.episodes import (
    HARNESS_PROTOCOL,
    EpisodeKey,
    iter_episodes,
    iter_shard,
    shard_of,
)
from vlthink.harness.results import HarnessError, ResultsError


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


#: The paper's run size (BlindVLA README): 128 episodes per env and seed, over these 8 seeds.
PAPER_EPISODES = 128
PAPER_SEEDS = (0, 1, 2, 4, 5, 6, 7, 8)


def size_note(manifest: dict[str, Any]) -> str | None:
    """A line saying that a run is smaller (or other) than the paper's size; None when it is
    the paper's size, or when every env is an answer-mode id (not in the paper)."""
    plan = RunPlan.from_json(manifest["plan"])
    if plan.paper_size or all(e in ANSWER_GROUPS for e in plan.envs):
        return None  # answer mode is not the paper's: it has no paper size to fall short of
    seeds = " ".join(map(str, plan.seeds))
    return (
        f"not the paper's size: {plan.episodes} episodes x seeds {seeds}; the paper runs "
        f"{PAPER_EPISODES} x seeds {' '.join(map(str, PAPER_SEEDS))} per env (--protocol paper)."
    )


def asset_set_of(manifest: dict[str, Any]) -> dict[str, str]:
    """The asset set a run's scenes were drawn with: ``{"assets": name, "assets_hash": hash}``.
    A manifest written before runs recorded it was drawn with vlthink's own art, of the version
    its provenance names (``versions.ood_assets``; the current one where it names none)."""
    name = manifest.get("assets") or DEFAULT_ASSETS
    recorded = manifest.get("assets_hash")
    if recorded:
        return {"assets": name, "assets_hash": str(recorded)}
    from vlthink.assets import ASSET_VERSION

    version = (manifest.get("versions") or {}).get("ood_assets") or ASSET_VERSION
    return {"assets": name, "assets_hash": f"vlthink-{version}" if name == DEFAULT_ASSETS else ""}


def asset_label(manifest: dict[str, Any]) -> str:
    """A run's asset set in one phrase: ``original (c7f26c17a70e)`` (a contents hash, short),
    ``vlthink (vlthink-2.2.0)``."""
    drawn = asset_set_of(manifest)
    hash_ = drawn["assets_hash"]
    short = hash_[:12] if len(hash_) == 64 else hash_
    return f"{drawn['assets']} ({short})"


@dataclass(frozen=True)
class RunPlan:
    """Which episodes a run is made of."""

    envs: tuple[str, ...]
    episodes: int
    seeds: tuple[int, ...]
    sim_backend: str = "cpu"
    num_envs: int = 1
    shard: tuple[int, int] | None = None  # (0-based index, count)

    @property
    def paper_size(self) -> bool:
        """Is this the paper's run size (PAPER_EPISODES per cell, seeds PAPER_SEEDS, unsharded
        or merged)?"""
        return self.episodes == PAPER_EPISODES and tuple(sorted(self.seeds)) == PAPER_SEEDS

    def keys(self) -> list[EpisodeKey]:
        return list(self.iter_keys())

    def iter_keys(self) -> Iterator[EpisodeKey]:
        """The planned episodes one at a time: memory does not grow with the plan's size."""
        keys = iter_episodes(self.envs, self.episodes, self.seeds)
        return iter_shard(keys, *self.shard) if self.shard else keys

    def __contains__(self, key: EpisodeKey) -> bool:
        env_id, episode, seed = key
        planned = env_id in self.envs and seed in self.seeds and 0 <= episode < self.episodes
        return planned and (self.shard is None or shard_of(key, self.shard[1]) == self.shard[0])

    def per_env(self) -> dict[str, int]:
        """Episodes planned per env (a shard counts its own, walking the plan)."""
        if self.shard is None:
            return {e: self.episodes * len(self.seeds) for e in self.envs}
        counts = {e: 0 for e in self.envs}
        for k in self.iter_keys():
            counts[k.env_id] += 1
        return counts

    def size(self) -> int:
        return sum(self.per_env().values())

    def command(self, policy_spec: str, suite_specs: Sequence[str]) -> str:
        """The command that reproduces this run (identity options only)."""
        parts = [
            "vlthink-eval",
            "--policy",
            policy_spec,
            "--suite",
            *suite_specs,
            "--episodes",
            str(self.episodes),
            "--seed",
            *map(str, self.seeds),
            "--sim-backend",
            self.sim_backend,
        ]
        if self.sim_backend == "gpu":
            parts += ["--num-envs", str(self.num_envs)]
        return shlex.join(parts)

    def default_out(self, policy_name: str, suite_specs: Sequence[str]) -> Path:
        label = "+".join(suite_specs) if len(suite_specs) <= 2 else f"{len(suite_specs)}envs"
        seeds = "-".join(map(str, self.seeds))
        shard = f"-shard{self.shard[0] + 1}of{self.shard[1]}" if self.shard else ""
        return Path("runs") / policy_name / f"{label.replace('/', '_')}-seed{seeds}{shard}"

    def to_json(self) -> dict[str, Any]:
        return {
            "envs": list(self.envs),
            "episodes": self.episodes,
            "seeds": list(self.seeds),
            "sim_backend": self.sim_backend,
            "num_envs": self.num_envs if self.sim_backend == "gpu" else 1,
            "shard": list(self.shard) if self.shard else None,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RunPlan:
        shard = d.get("shard")
        return cls(
            tuple(d["envs"]),
            int(d["episodes"]),
            tuple(int(s) for s in d["seeds"]),
            d.get("sim_backend", "cpu"),
            int(d.get("num_envs", 1)),
            (int(shard[0]), int(shard[1])) if shard else None,
        )


@dataclass
class Manifest:
    """``manifest.json``: what a run directory holds results of, and where they came from."""

    plan: RunPlan
    policy: dict[str, Any]  # name, spec (the --policy value), config (secrets redacted)
    tasks: dict[str, dict[str, str]]  # env id -> suite, group
    command: str
    argv: list[str] = field(default_factory=list)
    protocol_version: str = ""
    harness_protocol: str = HARNESS_PROTOCOL
    # what the scenes looked like: vlthink.assets.original.asset_set_id (name, contents hash)
    assets: str = DEFAULT_ASSETS
    assets_hash: str = ""
    provenance: dict[str, Any] = field(default_factory=dict)  # versions, render_device, ...
    created: str | None = None
    updated: str | None = None
    sessions: list[dict[str, Any]] = field(default_factory=list)
    merged_from: list[str] | None = None

    def __post_init__(self) -> None:
        if not self.assets_hash:  # made without one: read as a manifest without it is
            facts = {"assets": self.assets, "versions": self.provenance.get("versions")}
            self.assets_hash = asset_set_of(facts)["assets_hash"]

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k not in ("plan", "provenance")}
        out.update(
            format=results.RUN_FORMAT,
            plan=self.plan.to_json(),
            paper_size=self.plan.paper_size,
            **self.provenance,
        )
        if out["merged_from"] is None:
            del out["merged_from"]
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Manifest:
        known = {
            "plan",
            "policy",
            "tasks",
            "command",
            "argv",
            "protocol_version",
            "harness_protocol",
            "assets",
            "assets_hash",
            "created",
            "updated",
            "sessions",
            "merged_from",
            "format",
            "paper_size",
        }
        return cls(
            plan=RunPlan.from_json(d["plan"]),
            policy=dict(d.get("policy", {})),
            tasks=dict(d.get("tasks", {})),
            command=d.get("command", "?"),
            argv=list(d.get("argv", [])),
            protocol_version=d.get("protocol_version", ""),
            harness_protocol=d.get("harness_protocol", ""),
            **asset_set_of(d),
            provenance={k: v for k, v in d.items() if k not in known},
            created=d.get("created"),
            updated=d.get("updated"),
            sessions=list(d.get("sessions", [])),
            merged_from=d.get("merged_from"),
        )

    def identity(self, with_shard: bool = True) -> dict[str, Any]:
        """What must agree for two sets of rows to belong to one run."""
        plan = self.plan.to_json()
        if not with_shard:
            plan.pop("shard")
        config = {k: v for k, v in (self.policy.get("config") or {}).items() if k != "source"}
        return {
            "protocol_version": self.protocol_version,
            "harness_protocol": self.harness_protocol,
            "asset set": {"assets": self.assets, "assets_hash": self.assets_hash},
            "policy": self.policy.get("name"),
            "policy config": config,
            "plan": plan,
        }


def check_same_run(old: Manifest, new: Manifest, out: Path) -> None:
    """Refuse to resume ``out`` with a different configuration, naming what differs."""
    a, b = old.identity(), new.identity()
    for name in a:
        if a[name] == b[name]:
            continue
        if isinstance(a[name], dict) and isinstance(b[name], dict):
            diff = [
                k for k in sorted(set(a[name]) | set(b[name])) if a[name].get(k) != b[name].get(k)
            ]
            detail = "; ".join(
                f"{k}: {a[name].get(k)!r} there, {b[name].get(k)!r} now" for k in diff[:4]
            )
        else:
            detail = f"{a[name]!r} there, {b[name]!r} now"
        raise ResultsError(
            f"{out} holds a run with a different {name} ({detail}). Resuming would mix two "
            f"configurations. Fix: use another --out, or repeat that run's exact command: "
            f"{old.command}"
        )


def read(run_dir: Path) -> Manifest:
    return Manifest.from_json(results.read_manifest(run_dir))


def load_run(run_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The manifest (its JSON form) and rows of a run, for summaries, pairing and publishing."""
    return results.load_run(run_dir)


@dataclass
class OpenRun:
    """A run directory opened for running: its manifest, the rows so far, and the store."""

    path: Path
    manifest: Manifest
    rows: list[dict[str, Any]]
    notes: list[str]

    @property
    def rows_path(self) -> Path:
        return self.path / results.ROWS_FILE

    def todo(self) -> Iterator[EpisodeKey]:
        return todo(self.manifest.plan, self.rows)


@contextmanager
def open_run(
    path: Path, manifest: Manifest, session: dict[str, Any], retry_errors: bool = False
) -> Iterator[OpenRun]:
    """Lock ``path``, check it holds this configuration (or nothing), repair it, add a session."""
    path = Path(path)
    with results.run_lock(path):
        notes = []
        if (path / results.MANIFEST_FILE).exists():
            old = read(path)
            check_same_run(old, manifest, path)
            manifest.created, manifest.sessions = old.created, old.sessions
        elif (path / results.ROWS_FILE).exists():
            raise ResultsError(
                f"{path / results.ROWS_FILE} exists without a manifest. Fix: use another --out."
            )
        rows, note = results.read_rows(
            path / results.ROWS_FILE, repair=True, envs=manifest.plan.envs
        )
        notes += [note] if note else []
        if retry_errors and any(r.get("error") for r in rows):
            keep = [r for r in rows if not r.get("error")]
            notes.append(
                f"--retry-errors: {len(rows) - len(keep)} errored episode(s) will run "
                f"again (old file kept as {results.ROWS_FILE}.bak)"
            )
            results.write_rows_atomic(path / results.ROWS_FILE, keep, backup=True)
            rows = keep
        now = _now()
        manifest.created = manifest.created or now
        manifest.updated = now
        manifest.sessions = [*manifest.sessions, {"started": now, **session}]
        results.write_manifest(path, manifest.to_json())
        yield OpenRun(path, manifest, rows, notes)


def end_session(opened: OpenRun, **facts: Any) -> None:
    """Add what a session learnt while it ran (e.g. the policy's retries) to its manifest entry."""
    session = opened.manifest.sessions[-1]
    session.update(ended=_now(), **facts)
    results.write_manifest(opened.path, opened.manifest.to_json())


def todo(plan: RunPlan, rows: Iterable[dict[str, Any]]) -> Iterator[EpisodeKey]:
    """The planned episodes without a row, in plan order, one at a time."""
    done = {results.row_key(r) for r in rows}
    return (k for k in plan.iter_keys() if k not in done)


def completeness(
    manifest: dict[str, Any] | Manifest, rows: list[dict[str, Any]]
) -> tuple[int, int]:
    """(finished, planned) episodes of a run."""
    plan = manifest.plan if isinstance(manifest, Manifest) else RunPlan.from_json(manifest["plan"])
    return len({k for k in map(results.row_key, rows) if k in plan}), plan.size()


def merge_shards(out: Path, shard_dirs: Sequence[Path]) -> tuple[dict, list]:
    """Join shard directories (same configuration) into ``out``; conflicting rows are refused."""
    if not shard_dirs:
        raise HarnessError("merge needs at least one shard directory")
    manifests = [read(d) for d in shard_dirs]
    first = manifests[0]
    for d, m in zip(shard_dirs[1:], manifests[1:]):
        a, b = first.identity(with_shard=False), m.identity(with_shard=False)
        diff = [k for k in a if a[k] != b[k]]
        if diff:
            raise HarnessError(
                f"cannot merge {d} with {shard_dirs[0]}: their {', '.join(diff)} differ. "
                "Fix: merge only shards of one command (same policy, suite, episodes, seeds)."
            )
    merged: dict[EpisodeKey, dict] = {}
    for d, m in zip(shard_dirs, manifests):
        rows, _ = results.read_rows(Path(d) / results.ROWS_FILE, repair=False, envs=m.plan.envs)
        for r in rows:
            k = results.row_key(r)
            if k in merged and results.stable_row(merged[k]) != results.stable_row(r):
                raise HarnessError(
                    f"cannot merge: episode {k.label()} has different results in two shards "
                    f"(one is in {d}). Shards must not overlap; fix: drop one of the directories."
                )
            merged.setdefault(k, r)
    out = Path(out)
    if (out / results.ROWS_FILE).exists():
        raise HarnessError(f"{out} already holds results. Fix: merge into a new directory.")
    manifest = Manifest.from_json(json.loads(json.dumps(first.to_json())))
    plan = manifest.plan
    manifest.plan = RunPlan(
        plan.envs, plan.episodes, plan.seeds, plan.sim_backend, plan.num_envs, None
    )
    manifest.merged_from = [str(d) for d in shard_dirs]
    manifest.updated = _now()
    rows = sorted(merged.values(), key=lambda r: (r["env"], r["seed"], r["episode"]))
    out.mkdir(parents=True, exist_ok=True)
    results.write_manifest(out, manifest.to_json())
    results.write_rows_atomic(out / results.ROWS_FILE, rows)
    return manifest.to_json(), rows
