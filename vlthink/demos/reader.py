"""Reading a dataset back, v2.1 or v3.0 (the commands' side; tests use their own readers of
the published layouts)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from vlthink.demos import layout, layout30
from vlthink.demos.files import read_jsonl
from vlthink.demos.formats import readable_version
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
        episodes = _episodes(root, readable_version(root, info))
    except (OSError, ValueError) as exc:
        raise DatasetError(
            f"{root}/meta: unreadable ({type(exc).__name__}: {exc}). Fix: rerun "
            "the recording command, which rebuilds the meta files."
        ) from None
    return info, episodes[: info["total_episodes"]]


def _episodes(root: Path, version: str) -> list[dict]:
    if version == layout30.CODEBASE_VERSION:
        import pyarrow.parquet as pq

        path = root / layout30.EPISODES_FILE
        if not path.exists():
            return []
        return pq.read_table(path, columns=["episode_index", "tasks", "length"]).to_pylist()
    (root / layout.EPISODES_FILE).stat()  # a missing meta file is unreadable, not empty
    return read_jsonl(root / layout.EPISODES_FILE)


def recorded_assets(root: Path) -> str:
    """The asset set a dataset's scenes were drawn with (vlthink's own art for a dataset
    recorded before datasets named it, or one without vlthink's recording file)."""
    from vlthink.harness.rundir import asset_set_of

    recording = Path(root) / layout.RECORDING_FILE
    facts = json.loads(recording.read_text()) if recording.exists() else {}
    return asset_set_of(facts)["assets"]


def sidecar(root: Path, index: int) -> dict:
    path = layout.sidecar_path(root, index)
    if not path.exists():
        raise DatasetError(
            f"{path} is missing: episode {index} cannot be replayed (a dataset "
            "not recorded by vlthink demos has no executed actions). Fix: pass an "
            "episode index of a vlthink demos dataset."
        )
    return json.loads(path.read_text())


def where(root: Path, index: int) -> tuple[Path, Path, int | None]:
    """(data file, video file, the episode's first frame in them; None: a file of its own)."""
    place = sidecar(root, index).get("v30")
    if place is None:
        return layout.data_path(root, index), layout.video_path(root, index), None
    n = place["file"]
    return layout30.data_path(root, n), layout30.video_path(root, n), place["offset"]


def parquet_columns(root: Path, index: int, columns: list[str]) -> dict:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    path, _, offset = where(root, index)
    try:
        table = pq.read_table(path, columns=[*columns, "episode_index"])
    except Exception as exc:
        raise DatasetError(
            f"{path}: not a readable parquet ({type(exc).__name__}). Fix: rerun "
            f"the recording command with --rerecord-from {index}."
        ) from None
    if offset is not None:
        table = table.filter(pc.equal(table["episode_index"], index))
    return table.select(columns).to_pydict()


def episode_frames(root: Path, index: int, length: int) -> np.ndarray:
    """The episode's decoded frames (N, H, W, 3) uint8, from its own file or its shared one."""
    from vlthink.video import decode

    _, path, offset = where(root, index)
    if offset is None:
        return decode(path)[0]
    import av

    frames = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        container.seek(int(offset / layout.FPS / stream.time_base), stream=stream, backward=True)
        for f in container.decode(stream):
            k = round(float(f.time) * layout.FPS)
            if k >= offset + length:
                break
            if k >= offset:
                frames.append(f.to_ndarray(format="rgb24"))
    return np.stack(frames)
