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
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

RUN_FORMAT = "vlthink-diagnose/1"
MANIFEST_FILE = "manifest.json"
ITEMS_FILE = "items.jsonl"
FEATURES_DIR = "features"
#: Settings that only choose how many items (or figures) there are, not how an item is
#: computed: a rerun may change them (e.g. more --episodes adds scenes to the same tables).
GROWABLE = ("episodes", "figures_per_domain", "max_per_class")


class DiagnosticsError(ValueError):
    """A user-facing problem; the message names the problem and the fix (exit code 2)."""


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


@dataclass
class RunDir:
    """One diagnose run directory; ``settings`` are what must match for a resume."""

    path: Path
    command: str
    settings: dict[str, Any]
    done: dict[str, dict[str, Any]] = field(default_factory=dict)

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
        manifest = path / MANIFEST_FILE
        if manifest.is_file():
            old = json.loads(manifest.read_text())
            run._check_same(old)
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
            tmp = manifest.with_suffix(".tmp")
            tmp.write_text(json.dumps(body, indent=2, default=_jsonable))
            os.replace(tmp, manifest)
        run.done = {r["key"]: r for r in run._read_rows()}
        return run

    def _check_same(self, old: dict[str, Any]) -> None:
        if old.get("command") != self.command:
            raise DiagnosticsError(
                f"{self.path} holds a `diagnose {old.get('command')}` run, not `{self.command}`; "
                "pass a new --out folder"
            )
        before = old.get("settings", {})
        for key in sorted((set(before) | set(self.settings)) - set(GROWABLE)):
            if before.get(key) != self.settings.get(key):
                raise DiagnosticsError(
                    f"{self.path} was made with {key} = {before.get(key)!r}, this run asks for "
                    f"{self.settings.get(key)!r}; rerun with the same settings to resume, or pass "
                    "a new --out folder"
                )

    def _read_rows(self) -> list[dict[str, Any]]:
        f = self.path / ITEMS_FILE
        if not f.is_file():
            return []
        lines = f.read_text().split("\n")
        rows = []
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                if i >= len(lines) - 2:  # the cut last line of a killed run: redo that item
                    tmp = f.with_suffix(".tmp")
                    tmp.write_text("".join(json.dumps(r) + "\n" for r in rows))
                    os.replace(tmp, f)
                    break
                raise DiagnosticsError(
                    f"{f} line {i + 1} is not JSON; move the file away to start the run over"
                ) from None
        return rows

    def is_done(self, key: str) -> bool:
        return key in self.done

    def add(
        self, key: str, row: dict[str, Any], arrays: dict[str, np.ndarray] | None = None
    ) -> None:
        """Record one finished item: its arrays first (atomically), then its row (fsync-ed)."""
        row = {"key": key, **row}
        if arrays:
            fdir = self.path / FEATURES_DIR
            fdir.mkdir(exist_ok=True)
            tmp = fdir / f".{_safe(key)}.tmp.npz"
            np.savez(tmp, **arrays)
            os.replace(tmp, fdir / f"{_safe(key)}.npz")
        line = json.dumps(row, default=_jsonable) + "\n"
        with open(self.path / ITEMS_FILE, "a") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        self.done[key] = json.loads(line)

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

    tmp = path.with_suffix(".tmp")
    pd.DataFrame(list(rows)).to_csv(tmp, index=False, float_format="%.6g")
    os.replace(tmp, path)
    return path
