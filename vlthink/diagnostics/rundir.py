"""Run directories of ``vlthink diagnose``: a manifest, append-only rows, per-item feature files.

Layout of ``OUT/``::

    manifest.json   what was run: subcommand, settings that define the result, model, provenance
    items.jsonl     one JSON object per finished item (scene or image), appended and fsync-ed
    features/       per-item ``.npz`` arrays (embeddings, probe), written before the item's row
    *.csv, *.png    tables and figures, rewritten from all finished items at the end of each run

Resume: a rerun with the same settings skips every item whose key is in ``items.jsonl``; a last
line cut by a kill is dropped (the item simply runs again). A rerun with different settings is
refused, naming the first setting that differs, so two protocols never mix in one table; only
the counts in ``GROWABLE`` may change (tables are written from every finished item).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vlthink import store
from vlthink.errors import VLThinkError

RUN_FORMAT = "vlthink-diagnose/1"
MANIFEST_FILE = "manifest.json"
ITEMS_FILE = "items.jsonl"
FEATURES_DIR = "features"
#: Settings that only choose how many items (or figures) there are, not how an item is
#: computed: a rerun may change them (e.g. more --episodes adds scenes to the same tables).
GROWABLE = ("episodes", "figures_per_domain", "max_per_class")
#: Every item row names its item.
ITEM_SCHEMA: store.RowSchema = {"key": store.Field((str,))}
ITEM_FIX = "Fix: delete line {line} (that item is computed again) and rerun the same command."


class DiagnosticsError(VLThinkError, ValueError):
    """A user-facing problem; the message names the problem and the fix (exit code 2)."""


class RunDirError(DiagnosticsError, store.StoreError):
    """A diagnose run directory that cannot be resumed as asked."""


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _items(path: Path) -> store.Ledger:
    return store.Ledger(
        path / ITEMS_FILE,
        ITEM_SCHEMA,
        key=lambda r: r["key"],
        error=RunDirError,
        fix=ITEM_FIX,
        encode=lambda r: json.dumps(r, default=_jsonable),
    )


class _Dir(store.ResumableDir):
    MANIFEST_FILE = MANIFEST_FILE
    ERROR = RunDirError
    HOLDER = "vlthink diagnose"


@dataclass
class RunDir:
    """One diagnose run directory; ``settings`` are what must match for a resume."""

    path: Path
    command: str
    settings: dict[str, Any]
    done: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: Any = field(default=None, repr=False)  # held while this process uses the folder

    @classmethod
    def open(
        cls, path: Path, command: str, settings: dict[str, Any], extra: dict[str, Any] | None = None
    ) -> RunDir:
        """Create ``path`` or resume it; refuses a folder made by other settings."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise DiagnosticsError(f"--out {path} is a file; give a folder for the run directory")
        path.mkdir(parents=True, exist_ok=True)
        settings = json.loads(json.dumps(settings, default=_jsonable))
        run = cls(path, command, settings)
        folder = _Dir(path)
        run._lock = folder.hold()
        try:
            old = folder.read_manifest()
            if old is not None:
                run._check_same(folder, old)
            else:
                from vlthink.provenance import environment_info

                body = {
                    "format": RUN_FORMAT,
                    "command": command,
                    "settings": settings,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "environment": environment_info(),
                    **(extra or {}),
                }
                store.write_json(folder.manifest_path, body, indent=2, default=_jsonable)
            rows, _ = _items(path).read(repair=True)
            run.done = {r["key"]: r for r in rows}
        except BaseException:
            run._lock.close()
            raise
        return run

    def _check_same(self, folder: _Dir, old: dict[str, Any]) -> None:
        if old.get("command") != self.command:
            raise RunDirError(
                f"{self.path} holds a `diagnose {old.get('command')}` run, not `{self.command}`; "
                "pass a new --out folder"
            )
        folder.check_identity(
            old.get("settings", {}),
            self.settings,
            "rerun with the same settings to resume, or pass a new --out folder",
            skip=GROWABLE,
        )

    def is_done(self, key: str) -> bool:
        return key in self.done

    def add(
        self, key: str, row: dict[str, Any], arrays: dict[str, np.ndarray] | None = None
    ) -> None:
        """Record one finished item: its arrays first (atomically), then its row (fsync-ed)."""
        row = {"key": key, **row}
        if arrays:
            with store.atomic_path(self.path / FEATURES_DIR / f"{_safe(key)}.npz") as tmp:
                np.savez(tmp, **arrays)
        with _items(self.path) as items:
            items.append(row)
        self.done[key] = json.loads(json.dumps(row, default=_jsonable))

    def arrays(self, key: str) -> dict[str, np.ndarray]:
        with np.load(self.path / FEATURES_DIR / f"{_safe(key)}.npz") as z:
            return {k: z[k] for k in z.files}

    def rows(self) -> list[dict[str, Any]]:
        return list(self.done.values())


def _safe(key: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in key)


def write_csv(path: Path, rows: Iterable[dict[str, Any]]) -> Path:
    """A CSV of dict rows (columns in first-seen order), written atomically."""
    import pandas as pd

    with store.atomic_path(path) as tmp:
        pd.DataFrame(list(rows)).to_csv(tmp, index=False, float_format="%.6g")
    return Path(path)
