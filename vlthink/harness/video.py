"""``--record-video``: one MP4 per episode (the encoder is :mod:`vlthink.video`).

H.264 in yuv420p plays inline in every browser (the HTML report's ``<video>`` elements) and in
any video player; 5 frames per second is the control rate, so a video plays in real time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vlthink.harness.episodes import EpisodeKey
from vlthink.harness.results import HarnessError
from vlthink.store import atomic_path

FPS = 5  # control steps per second of simulated time


def video_path(video_dir: Path, key: EpisodeKey) -> Path:
    return Path(video_dir) / key.env_id / f"seed{key.seed}_ep{key.episode:04d}.mp4"


def require_encoder() -> None:
    """Fail before a run starts, not at its first finished episode, when PyAV is missing."""
    try:
        import av  # noqa: F401
    except ImportError:
        raise HarnessError(
            "--record-video writes MP4 through PyAV, which is not installed. Fix: pip install av"
        ) from None


def write_mp4(frames: Sequence[np.ndarray], path: Path, fps: int = FPS) -> Path:
    """Encode ``frames`` (H×W×3 uint8) as an H.264 MP4 at ``path``, atomically (a killed run
    leaves no half-written video under the final name). Odd sizes are cropped to even ones."""
    from vlthink.video import VideoSettings, encode

    h, w = np.asarray(frames[0]).shape[:2]
    even = [np.ascontiguousarray(np.asarray(f, np.uint8)[: h - h % 2, : w - w % 2]) for f in frames]
    with atomic_path(path) as tmp:
        encode(even, tmp, fps, VideoSettings())
    return Path(path)
