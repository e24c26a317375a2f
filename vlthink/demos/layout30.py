"""The LeRobot v3.0 layout this package writes (``vlthink demos --format v3.0``).

Facts of the published v3.0 format (lerobot ``CODEBASE_VERSION = "v3.0"``)::

    meta/info.json                              codebase_version, fps, features, totals, paths
    meta/stats.json                             statistics over the whole dataset
    meta/tasks.parquet                          index "task" (the instruction), column task_index
    meta/episodes/chunk-000/file-000.parquet    one row per episode: length, tasks, where its
                                                rows and frames are, stats/<feature>/<stat>
    data/chunk-CCC/file-FFF.parquet             many episodes' rows, one after the other
    videos/<video_key>/chunk-CCC/file-FFF.mp4   the same episodes' frames, one after the other

An episode's frame ``k`` is at ``from_timestamp + k / fps`` in its video file. Files are
numbered ``file_index`` 0..chunks_size-1 within ``chunk_index``. The rows and the features are
the v2.1 ones (:mod:`vlthink.demos.layout`); vlthink's own files are the same ones, under
``meta/vlthink/``, and each episode's sidecar also says where the episode sits (``v30``).
"""

from __future__ import annotations

from pathlib import Path

from vlthink.demos import layout

CODEBASE_VERSION = "v3.0"
CHUNKS_SIZE = 1000  # files per chunk directory (lerobot's default)
DATA_FILE_MB = 100  # lerobot's defaults, recorded in info.json
VIDEO_FILE_MB = 200
#: A file takes at most this many episodes: each commit rewrites the open file (stream copy,
#: no re-encoding), so the cost of one commit stays bounded whatever the dataset's size.
EPISODES_PER_FILE = 64

DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
EPISODES_FILE = "meta/episodes/chunk-000/file-000.parquet"
TASKS_FILE = "meta/tasks.parquet"
STATS_FILE = "meta/stats.json"


def chunk_file(n: int) -> tuple[int, int]:
    """(chunk_index, file_index) of the ``n``-th file of a kind."""
    return divmod(n, CHUNKS_SIZE)


def data_path(root: Path, n: int) -> Path:
    c, f = chunk_file(n)
    return Path(root) / DATA_PATH.format(chunk_index=c, file_index=f)


def video_path(root: Path, n: int) -> Path:
    c, f = chunk_file(n)
    return Path(root) / VIDEO_PATH.format(video_key=layout.IMAGE_KEY, chunk_index=c, file_index=f)


def file_number(path: Path) -> int | None:
    """The ``n`` of a ``chunk-CCC/file-FFF.*`` path, None for any other name."""
    chunk, name = path.parent.name, path.stem
    if not (chunk.startswith("chunk-") and name.startswith("file-")):
        return None
    c, f = chunk[6:], name[5:]
    return int(c) * CHUNKS_SIZE + int(f) if c.isdigit() and f.isdigit() else None


def features(video_info: dict) -> dict:
    """v2.1's features; v3.0 also gives every non-video feature its ``fps``."""
    feats = layout.features(video_info)
    for ft in feats.values():
        if ft["dtype"] != "video":
            ft["fps"] = layout.FPS
    return feats


def info_json(total_episodes: int, total_frames: int, total_tasks: int, video_info: dict) -> dict:
    return {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": layout.ROBOT_TYPE,
        "total_episodes": total_episodes,
        "total_frames": total_frames,
        "total_tasks": total_tasks,
        "chunks_size": CHUNKS_SIZE,
        "data_files_size_in_mb": DATA_FILE_MB,
        "video_files_size_in_mb": VIDEO_FILE_MB,
        "fps": layout.FPS,
        "splits": {"train": f"0:{total_episodes}"},
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH,
        "features": features(video_info),
    }


def episode_row(index: int, side: dict) -> dict:
    """The ``meta/episodes`` row of a committed episode (from its sidecar)."""
    place = side["v30"]
    c, f = chunk_file(place["file"])
    start = place["dataset_from_index"]
    t0 = place["offset"] / layout.FPS
    key = f"videos/{layout.IMAGE_KEY}"
    row = {
        "episode_index": index,
        "tasks": [side["instruction"]],
        "length": side["length"],
        "data/chunk_index": c,
        "data/file_index": f,
        "dataset_from_index": start,
        "dataset_to_index": start + side["length"],
        f"{key}/chunk_index": c,
        f"{key}/file_index": f,
        f"{key}/from_timestamp": t0,
        f"{key}/to_timestamp": t0 + side["length"] / layout.FPS,
        "meta/episodes/chunk_index": 0,
        "meta/episodes/file_index": 0,
    }
    for feature, stats in side["stats"].items():
        row.update({f"stats/{feature}/{k}": v for k, v in stats.items()})
    return row
