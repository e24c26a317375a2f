"""A run directory: one JSON line per finished episode, plus a manifest.

Layout of ``OUT/``::

    manifest.json     what was run: policy config, plan (envs, episodes, seeds), command,
                      versions, render device, sim backend, protocol versions
    episodes.jsonl    one JSON object per finished episode, appended as it finishes
    summary.csv       the tables of the last summary (rewritten by every run / ``summary``)
    videos/           per-episode MP4s with ``--record-video`` (``<env>/seed<S>_ep<EEEE>.mp4``)
    .lock             held (flock) while a run writes, so two runs never interleave

Durability: every row is written as one ``write`` of ``json + "\\n"``, then flushed and
``fsync``-ed before the harness moves on, so a killed run loses at most the episodes in flight.
A kill in the middle of a write leaves a last line without its newline; on the next load that
line is *repaired*: dropped if it does not parse (the episode is simply run again), completed
with its newline if it does.  Any other unparsable line is corruption the harness will not guess
about: loading stops with the file, the line number and the fix.

Resume: rows are keyed by ``(env, episode, seed)``; a rerun skips every key already in the file,
so nothing is duplicated.  Episodes that ended in an error are finished episodes (their row says
why); ``--retry-errors`` rewrites the file without them (atomically, old file kept as
``episodes.jsonl.bak``) so they run again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from vlthink.harness.episodes import EpisodeKey

ROWS_FILE = "episodes.jsonl"
MANIFEST_FILE = "manifest.json"
SUMMARY_FILE = "summary.csv"
RUN_FORMAT = "vlthink-run/1"

REQUIRED_FIELDS = (
    "env",
    "episode",
    "seed",
    "policy",
    "success_once",
    "success_at_end",
    "steps",
    "error",
)
#: Columns every row carries, in this order (extra policy/probe fields follow).
ROW_FIELDS = (
    "env",
    "episode",
    "seed",
    "episode_seed",
    "policy",
    "instruction",
    "target",
    "success_once",
    "success_at_end",
    "placed_on",
    "steps",
    "seconds",
    "error",
)
#: Fields whose values differ between identical reruns (wall time, machine).
VOLATILE_FIELDS = ("seconds",)


class HarnessError(Exception):
    """A user-facing problem: the message names the problem and the fix; no traceback shown."""


class ResultsError(HarnessError):
    pass


def row_key(row: dict[str, Any]) -> EpisodeKey:
    return EpisodeKey(str(row["env"]), int(row["episode"]), int(row["seed"]))


def _row_json(row: dict[str, Any]) -> str:
    ordered = {k: row.get(k) for k in ROW_FIELDS}
    ordered.update({k: v for k, v in row.items() if k not in ordered})
    return json.dumps(ordered, sort_keys=False, default=_json_default, allow_nan=False)


def _json_default(obj: Any) -> Any:
    # numpy scalars / arrays / tensors that slipped into a row
    if hasattr(obj, "item") and getattr(obj, "size", 1) == 1:
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)


def _repair_tail(path: Path, data: bytes, repair: bool) -> tuple[bytes, str | None]:
    """A last line without its newline (a kill mid-write): completed if it parses, else dropped."""
    note = None
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1  # 0 when the only line is the partial one
        tail = data[cut:]
        try:
            obj = json.loads(tail.decode("utf-8"))
            ok = isinstance(obj, dict) and all(f in obj for f in REQUIRED_FIELDS)
        except (UnicodeDecodeError, json.JSONDecodeError):
            ok = False
        if ok:
            fixed = data + b"\n"
            note = f"{path}: completed the last line's missing newline"
        else:
            fixed = data[:cut]
            note = (
                f"{path}: dropped a truncated last line ({len(tail)} bytes, an episode "
                "interrupted while being written); that episode will run again"
            )
        if repair:
            with open(path, "r+b") as fh:
                if ok:
                    fh.seek(0, os.SEEK_END)
                    fh.write(b"\n")
                else:
                    fh.truncate(cut)
                fh.flush()
                os.fsync(fh.fileno())
        data = fixed
    return data, note


def read_rows(path: Path, repair: bool = True) -> tuple[list[dict[str, Any]], str | None]:
    """Load a results file.  Returns ``(rows, note)`` where ``note`` says what was repaired.

    Raises :class:`ResultsError` for a corrupt line (not the last), a row missing required
    fields, or a duplicated episode.
    """
    path = Path(path)
    if not path.exists():
        return [], None
    data, note = _repair_tail(path, path.read_bytes(), repair)
    rows: list[dict[str, Any]] = []
    seen: dict[EpisodeKey, int] = {}
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ResultsError(
                f"{path}, line {lineno}: not valid JSON ({exc}). The file is corrupt there. "
                f"Fix: delete line {lineno} (its episode will run again; all other finished "
                "episodes are kept) and rerun the same command."
            ) from None
        if not isinstance(obj, dict):
            raise ResultsError(
                f"{path}, line {lineno}: expected a JSON object, got {type(obj).__name__}. "
                f"Fix: delete line {lineno} and rerun the same command."
            )
        missing = [f for f in REQUIRED_FIELDS if f not in obj]
        if missing:
            raise ResultsError(
                f"{path}, line {lineno}: row lacks {', '.join(missing)}; this is not a "
                "vlthink-eval results file or it was edited. Fix: delete that line (its episode "
                "will run again) or point --out at another directory."
            )
        key = row_key(obj)
        if key in seen:
            raise ResultsError(
                f"{path}, line {lineno}: episode {key.label()} is already on line {seen[key]}. "
                "Two runs wrote into the same directory, or files were concatenated by hand. "
                f"Fix: delete one of the two lines, or join shards with `vlthink-eval merge`."
            )
        seen[key] = lineno
        rows.append(obj)
    return rows, note


class RowWriter:
    """Append-only, one fsync-ed line per episode."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a", encoding="utf-8")

    def write(self, row: dict[str, Any]) -> None:
        self._fh.write(_row_json(row) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> RowWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_rows_atomic(path: Path, rows: Iterable[dict[str, Any]], backup: bool = False) -> None:
    """Replace ``path`` with ``rows`` (write to a temp file, fsync, rename)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(_row_json(row) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    if backup and path.exists():
        os.replace(path, path.with_name(path.name + ".bak"))
    os.replace(tmp, path)


def read_manifest(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / MANIFEST_FILE
    if not path.exists():
        raise ResultsError(
            f"{run_dir} is not a vlthink-eval run directory (no {MANIFEST_FILE}). "
            "Fix: pass the --out directory of a run."
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}: not valid JSON ({exc}). Fix: restore it or rerun.") from None
    if manifest.get("format") != RUN_FORMAT:
        raise ResultsError(
            f"{path}: format {manifest.get('format')!r}, this harness reads {RUN_FORMAT!r}."
        )
    return manifest


def write_manifest(run_dir: Path, manifest: dict[str, Any]) -> None:
    path = Path(run_dir) / MANIFEST_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=_json_default) + "\n")
    os.replace(tmp, path)


@contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``run_dir`` (refuse a second concurrent run into it)."""
    import fcntl

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    fh = open(run_dir / ".lock", "w")
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ResultsError(
                f"another vlthink-eval is writing into {run_dir}. Fix: wait for it to finish, "
                "or use another --out."
            ) from None
        yield
    finally:
        fh.close()


def load_run(run_dir: Path, repair: bool = False) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Manifest and rows of a finished (or partial) run, for summaries, pairing and publishing."""
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    rows, _ = read_rows(run_dir / ROWS_FILE, repair=repair)
    return manifest, rows


def stable_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row without the fields that legitimately change between identical reruns."""
    return {k: v for k, v in row.items() if k not in VOLATILE_FIELDS}
