"""Small durable-file helpers: atomic replace, fsync-ed appends, JSON lines."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

TMP_SUFFIX = ".tmp"


def dumps(obj: Any) -> str:
    return json.dumps(obj, allow_nan=False, separators=(",", ":"))


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: a reader sees the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + TMP_SUFFIX)
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_json(path: Path, obj: Any, indent: int | None = 2) -> None:
    write_atomic(path, (json.dumps(obj, indent=indent, allow_nan=False) + "\n").encode())


def write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    write_atomic(path, "".join(dumps(r) + "\n" for r in rows).encode())


def append_jsonl(path: Path, rows: Iterable[dict]) -> None:
    """Append whole lines in one write, fsync-ed (a kill leaves at most a partial last line,
    which the next open rebuilds)."""
    text = "".join(dumps(r) + "\n" for r in rows)
    if not text:
        return
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def read_jsonl(path: Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def link_or_copy(src: Path, dst: Path) -> None:
    """Put a copy of ``src`` at ``dst`` atomically (a hard link when both share a file system)."""
    tmp = dst.with_name(dst.name + TMP_SUFFIX)
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        import shutil

        shutil.copyfile(src, tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, dst)
