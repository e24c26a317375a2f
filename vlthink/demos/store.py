"""A dataset directory being recorded: identity, recovery, staging and in-order commits.

Durability, step by step. An attempt that finishes is *staged*: its files are written into
``staging/<name>.tmp`` and the directory renamed into place, so a staged attempt is whole or
absent. Staged attempts are *committed* in attempt order (env by env in the order given, then
attempt index), which makes the dataset the same whatever the number of workers or the order
episodes finished in. A commit writes the parquet, links the video and writes the sidecar
(each replaced atomically), appends the three meta lines, replaces ``info.json`` and last
appends the attempt's line to the ledger (``attempts.jsonl``): the ledger is the commit record.

Opening the directory (every run) repairs whatever a kill -9 left: a partial last ledger line
is dropped, files of episodes the ledger does not list are deleted (their staged copy is still
there and is committed again), ``*.tmp`` leftovers are removed, and the meta files are rebuilt
from the committed episodes' sidecars. Between the first rename of a commit and its info.json
(a few milliseconds) an outside reader could see one episode's files ahead of the meta; the
next open puts that right.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlthink import store
from vlthink.demos import layout
from vlthink.demos.episode import (
    ATTEMPT_FILE,
    EPISODE_FILE,
    VIDEO_FILE,
    Staged,
    episode_table,
    staging_name,
)
from vlthink.demos.files import (
    TMP_SUFFIX,
    append_jsonl,
    jsonl,
    link_or_copy,
    write_atomic,
    write_json,
    write_jsonl,
)
from vlthink.harness import results
from vlthink.harness.results import HarnessError
from vlthink.harness.rundir import asset_set_of

RECORDING_FORMAT = "vlthink-demos/1"
#: What must agree for a rerun to resume a dataset rather than be refused.
IDENTITY_KEYS = (
    "format",
    "envs",
    "episodes",
    "seed",
    "policy",
    "processing",
    "video",
    "fps",
    "state",
    "protocol_version",
    "harness_protocol",
    "assets",
    "assets_hash",
)


def identity(recording: dict) -> dict:
    """A recording's identity (IDENTITY_KEYS); one made before datasets recorded their asset
    set was drawn with vlthink's own art (:func:`vlthink.harness.rundir.asset_set_of`)."""
    versions = (recording.get("provenance") or {}).get("versions")
    drawn = asset_set_of({**recording, "versions": versions})
    return {k: recording.get(k) for k in IDENTITY_KEYS} | drawn


class DatasetError(HarnessError, store.StoreError):
    """A dataset directory that cannot be used as asked (the message names the fix)."""


#: An attempt's ledger line: the harness's row of that episode plus what the recording did.
LEDGER_SCHEMA: store.RowSchema = {**results.ROW_SCHEMA, "demo": store.Field((dict,))}
LEDGER_FIX = (
    "Fix: delete line {line} and every line after it (those attempts are recorded again), "
    "then rerun the same command."
)


def attempts_ledger(root: Path) -> store.Ledger:
    """``attempts.jsonl``: one typed line per resolved attempt, the dataset's commit record."""
    return jsonl(
        Path(root) / layout.LEDGER_FILE,
        LEDGER_SCHEMA,
        key=results.row_id,
        error=DatasetError,
        fix=LEDGER_FIX,
    )


class DatasetDir(store.ResumableDir):
    """A dataset directory as a resumable directory: its identity is the recording record."""

    MANIFEST_FILE = layout.RECORDING_FILE
    ERROR = DatasetError
    HOLDER = "vlthink demos"


@dataclass
class Committed:
    """What the dataset holds so far (rebuilt from sidecars at open, extended per commit)."""

    episodes: list[dict] = field(default_factory=list)  # episodes.jsonl entries
    stats: list[dict] = field(default_factory=list)  # episodes_stats.jsonl entries
    tasks: dict[str, int] = field(default_factory=dict)  # instruction -> task_index
    frames: int = 0


class DemoStore:
    def __init__(self, root: Path, recording: dict[str, Any]):
        self.root = Path(root)
        self.recording = recording
        self.ledger: list[dict] = []
        self.staged: dict[tuple[str, int], Staged] = {}
        self.done = Committed()
        self._video_info = recording["video_info"]

    # -- opening ------------------------------------------------------------------------------
    def open(self, rerecord_from: int | None = None) -> list[str]:
        """Check identity, repair, rebuild meta; returns notes on what was repaired."""
        notes = self._check_identity()
        self.ledger, note = attempts_ledger(self.root).read(repair=True)
        notes += [note] if note else []
        if rerecord_from is not None:
            notes.append(self._truncate(rerecord_from))
        kept = [r for r in self.ledger if r["demo"]["kept"]]
        for i, r in enumerate(kept):
            if r["demo"].get("episode_index") != i:
                raise DatasetError(
                    f"{self.root / layout.LEDGER_FILE}: episode indices are not "
                    "0..N-1 in order; the file was edited. Fix: restore it, or "
                    "record into a new --out."
                )
        notes += self._remove_uncommitted(len(kept))
        self._rebuild(len(kept))
        self._load_staging()
        return notes

    def _check_identity(self) -> list[str]:
        folder = DatasetDir(self.root)
        old = folder.read_manifest()
        if old is None:
            stray = (
                [p.name for p in self.root.iterdir() if p.name != ".lock"]
                if self.root.exists()
                else []
            )
            if stray:
                raise DatasetError(
                    f"{self.root} holds files ({', '.join(sorted(stray)[:4])}) "
                    "but no vlthink demos dataset. Fix: use an empty or new --out."
                )
            folder.write_manifest(self.recording, allow_nan=False)
            return []
        there, now = identity(old), identity(self.recording)
        diff = [k for k in IDENTITY_KEYS if there[k] != now[k]]
        if diff:
            k = diff[0]
            raise DatasetError(
                f"{self.root} holds a dataset recorded with a different {k} ({there[k]!r} "
                f"there, {now[k]!r} now). Fix: use another --out, or repeat "
                f"its command: {old.get('command')}"
            )
        self.recording["created"] = old.get("created", self.recording.get("created"))
        return []

    def _truncate(self, k: int) -> str:
        """Forget episodes k.. (and the attempts after the last one kept before them)."""
        kept = [i for i, r in enumerate(self.ledger) if r["demo"]["kept"]]
        if not 0 <= k < len(kept):
            raise DatasetError(
                f"--rerecord-from {k}: the dataset has episodes 0..{len(kept) - 1}. "
                "Fix: pass one of those."
            )
        cut = kept[k]
        self.ledger = self.ledger[:cut]
        attempts_ledger(self.root).rewrite(self.ledger)
        return f"--rerecord-from {k}: episodes {k}..{len(kept) - 1} will be recorded again"

    def _remove_uncommitted(self, n: int) -> list[str]:
        """Delete what interrupted commits left: episodes >= n and temporary files."""
        removed = 0
        for sub, pattern in (
            ("data", "*.parquet"),
            ("videos", "*.mp4"),
            (layout.VLTHINK_DIR + "/episodes", "*.json"),
        ):
            for p in (self.root / sub).rglob(pattern) if (self.root / sub).exists() else []:
                index = p.stem.rsplit("_", 1)[-1]
                if p.stem.startswith("episode_") and index.isdigit() and int(index) >= n:
                    p.unlink()
                    removed += 1
        leftovers = {
            *self.root.rglob("*" + TMP_SUFFIX),
            *self.root.rglob(".*" + store.TMP_MARK + "*"),
        }
        for p in sorted(leftovers):
            shutil.rmtree(p) if p.is_dir() else p.unlink()
        return (
            [
                f"removed {removed} file(s) of an interrupted commit; that episode is committed "
                "again from its staged copy"
            ]
            if removed
            else []
        )

    def _rebuild(self, n: int) -> None:
        """Meta files from the sidecars of episodes 0..n-1, checking each episode's files."""
        self.done = Committed()
        for i in range(n):
            side = self._read_sidecar(i)
            self._check_files(i, side["length"])
            self.done.tasks.setdefault(side["instruction"], side["task_index"])
            self.done.episodes.append(side["episodes_entry"])
            self.done.stats.append({"episode_index": i, "stats": side["stats"]})
            self.done.frames += side["length"]
        self._write_meta(full=True)

    def _fix(self, i: int) -> str:
        return (
            f"Fix: rerun the same command with --rerecord-from {i} (episodes {i}.. are "
            "recorded again, identically; earlier ones are kept)"
        )

    def _read_sidecar(self, i: int) -> dict:
        path = layout.sidecar_path(self.root, i)
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise DatasetError(
                f"{path}: unreadable ({type(exc).__name__}). {self._fix(i)}"
            ) from None

    def _check_files(self, i: int, length: int) -> None:
        import pyarrow.parquet as pq

        from vlthink.video import frame_count

        checks = (
            (
                layout.data_path(self.root, i),
                "parquet",
                lambda p: pq.ParquetFile(p).metadata.num_rows,
            ),
            (layout.video_path(self.root, i), "mp4", frame_count),
        )
        for path, kind, count in checks:
            try:
                got = count(path)
            except Exception as exc:  # any reader error is a corrupt or missing file
                raise DatasetError(
                    f"{path}: not a readable {kind} ({type(exc).__name__}: "
                    f"{str(exc)[:80]}). {self._fix(i)}"
                ) from None
            if got != length:
                raise DatasetError(
                    f"{path}: {got} frames, its episode has {length}. {self._fix(i)}"
                )

    def _load_staging(self) -> None:
        staging = self.root / layout.STAGING_DIR
        resolved = {(r["env"], int(r["episode"])) for r in self.ledger}
        self.staged = {}
        for p in sorted(staging.iterdir()) if staging.exists() else []:
            try:
                s = Staged.load(p)
            except (OSError, ValueError):
                shutil.rmtree(p, ignore_errors=True)  # not whole: the attempt runs again
                continue
            key = (s.row["env"], int(s.row["episode"]))
            if key in resolved or int(s.row["seed"]) != self.recording["key_seed"]:
                shutil.rmtree(p, ignore_errors=True)
            else:
                self.staged[key] = s

    # -- counts ------------------------------------------------------------------------------
    def ledger_count(self, env_id: str) -> int:
        return sum(1 for r in self.ledger if r["env"] == env_id)

    def kept_count(self, env_id: str) -> int:
        return sum(1 for r in self.ledger if r["env"] == env_id and r["demo"]["kept"])

    @property
    def n_episodes(self) -> int:
        return len(self.done.episodes)

    # -- committing --------------------------------------------------------------------------
    def add(self, staged: Staged) -> None:
        self.staged[(staged.row["env"], int(staged.row["episode"]))] = staged

    def commit_ready(self, quotas: dict[str, int]) -> int:
        """Commit every staged attempt whose predecessors are all resolved; returns how many
        episodes were added."""
        added = 0
        for env_id, quota in quotas.items():
            while self.kept_count(env_id) < quota:
                s = self.staged.get((env_id, self.ledger_count(env_id)))
                if s is None:
                    return added
                added += self._commit(s)
        return added

    def _commit(self, s: Staged) -> int:
        row = json.loads(json.dumps(s.row))
        i = self.n_episodes
        if row["demo"]["kept"]:
            self._commit_episode(s.path, i)
            row["demo"]["episode_index"] = i
        else:
            row["demo"]["episode_index"] = None
        with attempts_ledger(self.root) as ledger:
            ledger.append(row)  # the commit record
        self.ledger.append(row)
        del self.staged[(row["env"], int(row["episode"]))]
        shutil.rmtree(s.path, ignore_errors=True)
        return int(row["demo"]["kept"])

    def _commit_episode(self, staged: Path, i: int) -> None:
        import pyarrow.parquet as pq

        facts = json.loads((staged / EPISODE_FILE).read_text())
        new_task = facts["instruction"] not in self.done.tasks
        task_index = self.done.tasks.setdefault(facts["instruction"], len(self.done.tasks))
        table, stats = episode_table(staged, facts, i, self.done.frames, task_index)
        n = table.num_rows
        data = layout.data_path(self.root, i)
        data.parent.mkdir(parents=True, exist_ok=True)
        with store.atomic_path(data) as tmp:
            pq.write_table(table, tmp)
        video = layout.video_path(self.root, i)
        video.parent.mkdir(parents=True, exist_ok=True)
        link_or_copy(staged / VIDEO_FILE, video)
        entry = {"episode_index": i, "tasks": [facts["instruction"]], "length": n}
        side = {
            **facts,
            "episode_index": i,
            "length": n,
            "task_index": task_index,
            "episodes_entry": entry,
            "stats": stats,
        }
        write_json(layout.sidecar_path(self.root, i), side, indent=None)
        self.done.episodes.append(entry)
        self.done.stats.append({"episode_index": i, "stats": stats})
        self.done.frames += n
        append_jsonl(self.root / layout.EPISODES_FILE, [entry])
        append_jsonl(self.root / layout.STATS_FILE, [self.done.stats[-1]])
        if new_task:
            append_jsonl(
                self.root / layout.TASKS_FILE,
                [{"task_index": task_index, "task": facts["instruction"]}],
            )
        self._write_info()

    # -- meta ----------------------------------------------------------------------------------
    def _write_meta(self, full: bool) -> None:
        write_jsonl(self.root / layout.EPISODES_FILE, self.done.episodes)
        write_jsonl(self.root / layout.STATS_FILE, self.done.stats)
        write_jsonl(
            self.root / layout.TASKS_FILE,
            [
                {"task_index": v, "task": k}
                for k, v in sorted(self.done.tasks.items(), key=lambda kv: kv[1])
            ],
        )
        self._write_info()

    def _write_info(self) -> None:
        vl = {
            k: self.recording[k]
            for k in (
                "format",
                "command",
                "envs",
                "seed",
                "policy",
                "processing",
                "video",
                "protocol_version",
                "assets",
                "assets_hash",
            )
            if k in self.recording
        }
        info = layout.info_json(
            self.n_episodes, self.done.frames, len(self.done.tasks), self._video_info, vl
        )
        write_atomic(self.root / layout.INFO_FILE, (json.dumps(info, indent=4) + "\n").encode())

    def staging_dir(self) -> Path:
        path = self.root / layout.STAGING_DIR
        path.mkdir(parents=True, exist_ok=True)
        return path


def staged_path(root: Path, env_id: str, seed: int, attempt: int) -> Path:
    return Path(root) / layout.STAGING_DIR / staging_name(env_id, seed, attempt)


__all__ = ["ATTEMPT_FILE", "DatasetError", "DemoStore", "RECORDING_FORMAT", "staged_path"]
