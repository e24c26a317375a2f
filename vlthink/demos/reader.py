"""Reading a dataset back (the commands' side; tests use their own reader of the v2.1 layout)."""

from __future__ import annotations

import json
from pathlib import Path

from vlthink.demos import layout
from vlthink.demos.files import read_jsonl
from vlthink.demos.store import DatasetError


def open_dataset(root: Path) -> tuple[dict, list[dict]]:
    """``info.json`` and the episodes.jsonl entries, or one error naming the fix."""
    root = Path(root)
    info_path = root / layout.INFO_FILE
    if not info_path.exists():
        raise DatasetError(
            f"{root} is not a LeRobot dataset (no {layout.INFO_FILE}). Fix: pass "
            "the --out directory of `vlthink demos`."
        )
    try:
        info = json.loads(info_path.read_text())
        (root / layout.EPISODES_FILE).stat()  # a missing meta file is unreadable, not empty
        episodes = read_jsonl(root / layout.EPISODES_FILE)
    except (OSError, ValueError) as exc:
        raise DatasetError(
            f"{root}/meta: unreadable ({type(exc).__name__}: {exc}). Fix: rerun "
            "the recording command, which rebuilds the meta files."
        ) from None
    return info, episodes[: info["total_episodes"]]


def sidecar(root: Path, index: int) -> dict:
    path = layout.sidecar_path(root, index)
    if not path.exists():
        raise DatasetError(
            f"{path} is missing: episode {index} cannot be replayed (a dataset "
            "not recorded by vlthink demos has no executed actions). Fix: pass an "
            "episode index of a vlthink demos dataset."
        )
    return json.loads(path.read_text())


def parquet_columns(root: Path, index: int, columns: list[str]) -> dict:
    import pyarrow.parquet as pq

    path = layout.data_path(root, index)
    try:
        return pq.read_table(path, columns=columns).to_pydict()
    except Exception as exc:
        raise DatasetError(
            f"{path}: not a readable parquet ({type(exc).__name__}). Fix: rerun "
            f"the recording command with --rerecord-from {index}."
        ) from None
