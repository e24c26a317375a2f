"""Which LeRobot format a dataset directory holds, and the store that writes each one.

``v2.1`` (one parquet and one MP4 per episode) is what openpi's pinned lerobot reads; ``v3.0``
(many episodes per file, parquet metadata) is what lerobot >= 0.4 reads. A directory keeps the
format it was started with: recording into it with the other one is refused with the fix.
"""

from __future__ import annotations

import json
from pathlib import Path

from vlthink.demos import layout, layout30
from vlthink.demos.store import DatasetError, DemoStore
from vlthink.demos.store30 import V30Store

DEFAULT = layout.CODEBASE_VERSION  # openpi reads v2.1
STORES: dict[str, type[DemoStore]] = {
    layout.CODEBASE_VERSION: DemoStore,
    layout30.CODEBASE_VERSION: V30Store,
}
FORMATS = tuple(STORES)


def version_of(root: Path) -> str | None:
    """The LeRobot version a directory holds (None: no dataset there yet)."""
    root = Path(root)
    recording = root / layout.RECORDING_FILE
    if recording.exists():
        return json.loads(recording.read_text()).get("lerobot_version", layout.CODEBASE_VERSION)
    info = root / layout.INFO_FILE
    if info.exists():
        try:
            return str(json.loads(info.read_text()).get("codebase_version"))
        except ValueError:
            return None
    return None


def check_version(root: Path, wanted: str) -> None:
    have = version_of(root)
    if have is not None and have != wanted:
        raise DatasetError(
            f"{root} holds a LeRobot {have} dataset and --format {wanted} was asked. Fix: "
            f"pass --format {have} to resume it, or `vlthink demos convert {root} --to "
            f"{wanted} --out NEW_DIR`, or record into another --out."
        )


def readable_version(root: Path, info: dict) -> str:
    version = str(info.get("codebase_version"))
    if version not in STORES:
        raise DatasetError(
            f"{root} is a LeRobot {version} dataset; vlthink reads {' and '.join(FORMATS)}. "
            "Fix: convert it with lerobot's own tools first."
        )
    return version
