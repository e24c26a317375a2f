"""The dataset's file helpers, all on the one durable store (:mod:`vlthink.store`): atomic
replaces, fsync-ed appends, JSON lines in the LeRobot meta files' compact form."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from vlthink import store

TMP_SUFFIX = ".tmp"


def dumps(obj: Any) -> str:
    return json.dumps(obj, allow_nan=False, separators=(",", ":"))


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: a reader sees the old file or the new one, never half."""
    store.atomic_write(path, data)


def write_json(path: Path, obj: Any, indent: int | None = 2) -> None:
    store.write_json(path, obj, indent=indent, allow_nan=False)


def jsonl(path: Path, schema: store.RowSchema | None = None, **kw: Any) -> store.Ledger:
    """A meta file as a ledger of compact JSON lines."""
    return store.Ledger(path, schema, encode=dumps, **kw)


def write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    jsonl(path).rewrite(rows)


def append_jsonl(path: Path, rows: Iterable[dict]) -> None:
    """Append whole lines, each fsync-ed (a kill leaves at most a partial last line, which the
    next open repairs)."""
    with jsonl(path) as ledger:
        ledger.extend(rows)


def read_jsonl(path: Path) -> list[dict]:
    """The records of a meta file; a torn last line is left out (the file is not changed)."""
    return jsonl(path).read(repair=False)[0]


def link_or_copy(src: Path, dst: Path) -> None:
    """Put a copy of ``src`` at ``dst`` atomically (a hard link when both share a file system)."""
    tmp = store.tmp_path(dst)
    try:
        try:
            os.link(src, tmp)
        except OSError:
            import shutil

            shutil.copyfile(src, tmp)
        store.replace_durably(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
