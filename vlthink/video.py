"""Episode videos as MP4 through PyAV: H.264 (libx264), yuv420p, no B-frames, a keyframe every 2 s.

One encoder for every video vlthink writes (`vlthink-eval --record-video`, `vlthink demos`).

Why H.264 and not lerobot's default AV1 (libsvtav1): every FFmpeg build decodes H.264 (the
PyAV wheels, torchvision's ``pyav`` backend, torchcodec, decord, OpenCV), while AV1 needs
dav1d/libaom in the build, which older torchvision wheels, and so the lerobot version openpi
pins, do not always have. Without B-frames a frame's presentation time is its decode order,
and ``pts = frame_index`` in a 1/fps time base makes each decoded frame's time exactly
``frame_index / fps``: lerobot looks frames up by timestamp (tolerance 1e-4 s). ``g = 10``
(2 s at 5 Hz) keeps random access within 9 decoded frames at a third of the size of ``g = 2``;
crf 23 measured ~42 dB PSNR on OOD frames (bench/bench_demos.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class VideoSettings:
    codec: str = "libx264"
    pix_fmt: str = "yuv420p"
    crf: int = 23
    gop: int = 10  # frames between keyframes
    preset: str = "medium"

    def options(self) -> dict[str, str]:
        return {
            "crf": str(self.crf),
            "g": str(self.gop),
            "bf": "0",
            "preset": self.preset,
            # one thread: x264's output is then the same bytes on every machine, and the
            # recorder's own process has other work (workers render in parallel)
            "threads": "1",
        }

    def to_json(self) -> dict:
        return asdict(self)


def encode(frames: list[np.ndarray], path: Path, fps: int, settings: VideoSettings) -> None:
    """Write (H, W, 3) uint8 frames to ``path`` as one video stream."""
    import av

    h, w = frames[0].shape[:2]
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream(settings.codec, rate=fps, options=settings.options())
        stream.width, stream.height, stream.pix_fmt = w, h, settings.pix_fmt
        stream.time_base = Fraction(1, fps)
        for i, frame in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            vf.pts = i
            container.mux(stream.encode(vf))
        container.mux(stream.encode())


def decode(path: Path) -> tuple[np.ndarray, list[float]]:
    """All frames (N, H, W, 3) uint8 and their presentation times in seconds."""
    import av

    frames, times = [], []
    with av.open(str(path)) as container:
        for f in container.decode(video=0):
            frames.append(f.to_ndarray(format="rgb24"))
            times.append(float(f.time))
    return np.stack(frames), times


def first_frame(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        for f in container.decode(video=0):
            return f.to_ndarray(format="rgb24")
    raise ValueError(f"{path}: no video frames")


def frame_count(path: Path) -> int:
    """Frames in the stream by the container's index (no decoding): a cheap integrity check."""
    import av

    with av.open(str(path)) as container:
        return int(container.streams.video[0].frames)


def video_info(settings: VideoSettings, fps: int, shape: tuple[int, int, int]) -> dict:
    """The ``info`` block lerobot v2.1 keeps for a video feature."""
    codec = {"libx264": "h264", "libsvtav1": "av1"}.get(settings.codec, settings.codec)
    return {
        "video.fps": float(fps),
        "video.height": shape[0],
        "video.width": shape[1],
        "video.channels": shape[2],
        "video.codec": codec,
        "video.pix_fmt": settings.pix_fmt,
        "video.is_depth_map": False,
        "has_audio": False,
    }


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two uint8 images (inf when identical)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def short_error(exc: BaseException, limit: int = 200) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= limit else text[: limit - 3] + "..."
