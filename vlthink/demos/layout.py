"""The LeRobot v2.1 layout this package writes, and vlthink's own files beside it.

Facts of the published v2.1 format (lerobot ``CODEBASE_VERSION = "v2.1"``)::

    meta/info.json              codebase_version, robot_type, fps, features, totals, paths
    meta/episodes.jsonl         {"episode_index", "tasks": [str], "length"} per episode
    meta/episodes_stats.jsonl   {"episode_index", "stats": {feature: {min,max,mean,std,count}}}
    meta/tasks.jsonl            {"task_index", "task"} per distinct instruction
    data/chunk-XXX/episode_XXXXXX.parquet
    videos/chunk-XXX/<video_key>/episode_XXXXXX.mp4

Image statistics are per channel, shaped (3, 1, 1), on pixel values scaled to [0, 1].

vlthink's own files live under ``meta/vlthink/`` (lerobot reads only the files above, and HF
``datasets`` globs only ``data/``): ``recording.json`` (what was recorded, how), the attempt
ledger ``attempts.jsonl``, one sidecar per episode with every executed action (replay), and
``staging/`` for attempts finished but not yet committed.
"""

from __future__ import annotations

from pathlib import Path

CODEBASE_VERSION = "v2.1"
ROBOT_TYPE = "widowx250s"
FPS = 5  # Hz: the env's control rate (500 Hz physics, 100 sim steps per control step)
CHUNKS_SIZE = 1000  # episodes per chunk directory (lerobot's default)
IMAGE_KEY = "observation.images.image"
IMAGE_SHAPE = (480, 640, 3)  # the Bridge 3rd_view_camera frame, height x width x channels

DATA_PATH = "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet"
VIDEO_PATH = "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4"

VLTHINK_DIR = "meta/vlthink"
SIDECAR_PATH = VLTHINK_DIR + "/episodes/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.json"
RECORDING_FILE = VLTHINK_DIR + "/recording.json"
LEDGER_FILE = VLTHINK_DIR + "/attempts.jsonl"
STAGING_DIR = VLTHINK_DIR + "/staging"
SHEET_FILE = VLTHINK_DIR + "/first_frames.png"

INFO_FILE = "meta/info.json"
EPISODES_FILE = "meta/episodes.jsonl"
STATS_FILE = "meta/episodes_stats.jsonl"
TASKS_FILE = "meta/tasks.jsonl"

ACTION_NAMES = ["dx", "dy", "dz", "droll", "dpitch", "dyaw", "gripper"]
#: observation.state: the TCP (``ee_gripper_link``) position in the robot base frame (metres);
#: its orientation as XYZ Euler radians of ``R_base_tcp @ GRIPPER_DOWN.T`` (zero with the gripper
#: pointing straight down, see :data:`vlthink.demos.processing.GRIPPER_DOWN`); and the gripper
#: opening, the mean of the two finger joints in metres (about 0.015 closed, 0.037 open).
STATE_NAMES = ["x", "y", "z", "roll", "pitch", "yaw", "gripper"]

STATE_CONVENTION = "tcp-in-base+xyz-euler-from-gripper-down+finger-mean/1"

#: Per-episode scene facts repeated on every row: (column, arrow/lerobot dtype, task_info key).
SCENE_COLUMNS = (
    ("scene.env_id", "string", None),
    ("scene.seed", "int64", None),  # the simulator seed (EpisodeKey -> episode_seed)
    ("scene.object", "string", "object"),
    ("scene.receptacle", "string", "receptacle"),
    ("scene.table_look", "string", "table_look"),
)


def chunk_of(index: int) -> int:
    return index // CHUNKS_SIZE


def data_path(root: Path, index: int) -> Path:
    return Path(root) / DATA_PATH.format(episode_chunk=chunk_of(index), episode_index=index)


def video_path(root: Path, index: int) -> Path:
    return Path(root) / VIDEO_PATH.format(
        episode_chunk=chunk_of(index), video_key=IMAGE_KEY, episode_index=index
    )


def sidecar_path(root: Path, index: int) -> Path:
    return Path(root) / SIDECAR_PATH.format(episode_chunk=chunk_of(index), episode_index=index)


def _scalar(dtype: str) -> dict:
    return {"dtype": dtype, "shape": [1], "names": None}


def features(video_info: dict) -> dict:
    """``info.json`` features: dtype, shape and names of every column and the video."""
    feats = {
        "action": {"dtype": "float32", "shape": [7], "names": ACTION_NAMES},
        "observation.state": {"dtype": "float32", "shape": [7], "names": STATE_NAMES},
        IMAGE_KEY: {
            "dtype": "video",
            "shape": list(IMAGE_SHAPE),
            "names": ["height", "width", "channels"],
            "info": video_info,
        },
        "timestamp": _scalar("float32"),
        "frame_index": _scalar("int64"),
        "episode_index": _scalar("int64"),
        "index": _scalar("int64"),
        "task_index": _scalar("int64"),
    }
    feats.update({name: _scalar(dtype) for name, dtype, _ in SCENE_COLUMNS})
    return feats


def info_json(
    total_episodes: int, total_frames: int, total_tasks: int, video_info: dict, vlthink: dict
) -> dict:
    chunks = (total_episodes + CHUNKS_SIZE - 1) // CHUNKS_SIZE
    return {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": ROBOT_TYPE,
        "total_episodes": total_episodes,
        "total_frames": total_frames,
        "total_tasks": total_tasks,
        "total_videos": total_episodes,  # one camera
        "total_chunks": chunks,
        "chunks_size": CHUNKS_SIZE,
        "fps": FPS,
        "splits": {"train": f"0:{total_episodes}"},
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH,
        "features": features(video_info),
        "vlthink": vlthink,  # how it was recorded (lerobot ignores keys it does not know)
    }
