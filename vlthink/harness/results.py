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
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from vlthink import store
from vlthink.errors import VLThinkError
from vlthink.harness.episodes import EpisodeKey
from vlthink.store import Field

ROWS_FILE = "episodes.jsonl"
MANIFEST_FILE = "manifest.json"
SUMMARY_FILE = "summary.csv"
RUN_FORMAT = "vlthink-run/1"

_INT, _BOOL, _STR, _NUM = (int,), (bool,), (str,), (float,)
#: The typed columns of a row: checked on every read (a hand-edited ``"success_once": "no"``
#: must never count as a success). Fields not named here are free (policy/probe extras); the
#: writer fills an optional field it was not given with null.
ROW_SCHEMA: store.RowSchema = {
    "env": Field(_STR),
    "episode": Field(_INT, minimum=0),
    "seed": Field(_INT),
    "episode_seed": Field(_INT, required=False, nullable=True, minimum=0),
    "policy": Field(_STR),
    "instruction": Field(_STR, required=False, nullable=True),
    "target": Field(_STR, required=False, nullable=True),
    "success_once": Field(_BOOL),
    "success_at_end": Field(_BOOL),
    "placed_on": Field(_STR, required=False, nullable=True),
    "steps": Field(_INT, minimum=0),
    "seconds": Field(_NUM, required=False, nullable=True, minimum=0),
    "error": Field(_STR, nullable=True),
}
REQUIRED_FIELDS = tuple(k for k, f in ROW_SCHEMA.items() if f.required)
#: Columns every row carries, in this order (extra policy/probe fields follow).
ROW_FIELDS = tuple(ROW_SCHEMA)
#: Fields whose values differ between identical reruns (wall time, machine).
VOLATILE_FIELDS = ("seconds",)
#: What the user does about a bad row (the house rule for a hand-edited file: refuse it whole).
ROW_FIX = (
    "Fix: correct that value, or delete line {line} (its episode will run again; all other "
    "finished episodes are kept), then rerun the same command."
)


class HarnessError(VLThinkError):
    """A user-facing problem: the message names the problem and the fix; no traceback shown."""


class ResultsError(HarnessError, store.StoreError):
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


def ledger(path: Path, envs: Iterable[str] | None = None) -> store.Ledger:
    """The results file as a typed ledger (one row per finished episode, keyed by episode);
    ``envs``: the run plan's envs, a row of any other env is refused (a hand-edited manifest
    or rows file would put it into a table it does not belong to)."""
    planned = None if envs is None else sorted(envs)

    def in_plan(row: dict[str, Any]) -> str | None:
        if planned is None or row["env"] in planned:
            return None
        return (
            f"field 'env' is {row['env']!r}, not an env of the run's plan "
            f"({', '.join(planned)}); the manifest or the rows were edited"
        )

    return store.Ledger(
        path,
        ROW_SCHEMA,
        key=row_id,
        check=in_plan,
        error=ResultsError,
        fix=ROW_FIX,
        encode=_row_json,
    )


class _EpisodeLabel(EpisodeKey):
    """An episode key that names itself as the harness does in messages."""

    def __str__(self) -> str:
        return f"episode {self.label()}"


def row_id(row: dict[str, Any]) -> EpisodeKey:
    """:func:`row_key`, printed as "episode <label>" (a ledger's duplicate check names it)."""
    return _EpisodeLabel(*row_key(row))


def read_rows(
    path: Path, repair: bool = True, envs: Iterable[str] | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """Load a results file.  Returns ``(rows, note)`` where ``note`` says what was repaired.

    Raises :class:`ResultsError` for a corrupt line (not the last), a row missing required
    fields or with a value of the wrong type or range, a row of an env not in ``envs`` (when
    given), or a duplicated episode.
    """
    return ledger(Path(path), envs).read(repair=repair)


class RowWriter(store.Ledger):
    """Append-only, one fsync-ed line per episode."""

    def __init__(self, path: Path):
        lg = ledger(path)
        super().__init__(lg.path, lg.schema, key=lg.key, error=ResultsError, encode=_row_json)
        self.open()  # the file exists from the start of a run, as it always has

    def write(self, row: dict[str, Any]) -> None:
        self.append(row)


def write_rows_atomic(path: Path, rows: Iterable[dict[str, Any]], backup: bool = False) -> None:
    """Replace ``path`` with ``rows`` (atomically and durably; ``backup`` keeps ``.bak``)."""
    ledger(Path(path)).rewrite(rows, backup=backup)


class RunStore(store.ResumableDir):
    """A vlthink-eval run directory as a resumable directory (lock, manifest)."""

    MANIFEST_FILE = MANIFEST_FILE
    ERROR = ResultsError
    HOLDER = "vlthink-eval"


def read_manifest(run_dir: Path) -> dict[str, Any]:
    manifest = RunStore(run_dir).read_manifest()
    if manifest is None:
        raise ResultsError(
            f"{run_dir} is not a vlthink-eval run directory (no {MANIFEST_FILE}). "
            "Fix: pass the --out directory of a run."
        )
    if manifest.get("format") != RUN_FORMAT:
        raise ResultsError(
            f"{Path(run_dir) / MANIFEST_FILE}: format {manifest.get('format')!r}, this harness "
            f"reads {RUN_FORMAT!r}."
        )
    return manifest


def write_manifest(run_dir: Path, manifest: dict[str, Any]) -> None:
    RunStore(run_dir).write_manifest(manifest, sort_keys=True, default=_json_default)


def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``run_dir`` (refuse a second concurrent run into it)."""
    return RunStore(run_dir).lock("wait for it to finish, or use another --out.")


def load_run(run_dir: Path, repair: bool = False) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Manifest and rows of a finished (or partial) run, for summaries, pairing and publishing."""
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    envs = manifest.get("plan", {}).get("envs", ())
    rows, _ = read_rows(run_dir / ROWS_FILE, repair=repair, envs=envs)
    return manifest, rows


def stable_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row without the fields that legitimately change between identical reruns."""
    return {k: v for k, v in row.items() if k not in VOLATILE_FIELDS}
