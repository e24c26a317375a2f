"""Episode videos: MP4 (H.264 through PyAV, which bundles FFmpeg's libx264), one per episode.

H.264 in yuv420p plays inline in every browser (the HTML report's ``<video>`` elements) and in
any video player; 5 frames per second is the control rate, so a video plays in real time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vlthink.harness.episodes import EpisodeKey
from vlthink.harness.results import HarnessError

FPS = 5  # control steps per second of simulated time
CRF = 23  # x264's default quality: visually clean at a few hundred kB per 80-step episode


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
    """Encode ``frames`` (H×W×3 uint8, even sizes) as an H.264 MP4 at ``path`` (atomically)."""
    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.mp4")
    height, width = np.asarray(frames[0]).shape[:2]
    with av.open(str(tmp), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = width - width % 2, height - height % 2
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(CRF)}
        for frame in frames:
            img = np.ascontiguousarray(np.asarray(frame, np.uint8)[: stream.height, : stream.width])
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    tmp.replace(path)
    return path
