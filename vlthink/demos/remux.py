"""Cutting and joining H.264 MP4 files without re-encoding (PyAV stream copy).

LeRobot v3.0 keeps many episodes in one video file; vlthink encodes each episode on its own
(:func:`vlthink.video.encode`: no B-frames, a keyframe first, one frame per ``1/fps``), so an
episode is a run of whole packets and a file is the episodes' packets one after the other,
each shifted by the frames before it. Every source must come from the same encoder settings
(same resolution, same parameter sets); a source that does not is refused, not mixed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path


@dataclass(frozen=True)
class Span:
    """Frames ``[start, stop)`` of the video file ``path`` (``stop`` None: to its end)."""

    path: Path
    start: int = 0
    stop: int | None = None


class RemuxError(ValueError):
    """A source that cannot be joined (another codec setup) or is not a readable MP4."""


def join(spans: list[Span], out: Path, fps: int) -> int:
    """Write the frames of ``spans`` one after the other to ``out``; returns the frame count."""
    import av

    written = 0
    with av.open(str(out), "w", format="mp4") as dst:
        ostream = None
        extradata = None
        for span in spans:
            with av.open(str(span.path)) as src:
                istream = src.streams.video[0]
                if ostream is None:
                    ostream = dst.add_stream_from_template(istream)
                    extradata = istream.codec_context.extradata
                elif istream.codec_context.extradata != extradata:
                    raise RemuxError(
                        f"{span.path}: encoded with other settings than the file it joins"
                    )
                written += _copy(src, istream, dst, ostream, span, written, fps)
    return written


def _copy(src, istream, dst, ostream, span: Span, offset: int, fps: int) -> int:
    tb = istream.time_base
    per_frame = Fraction(1, fps) / tb  # ticks of one frame in the source's time base
    copied = 0
    for pkt in src.demux(istream):
        if pkt.pts is None:  # the demuxer's end-of-stream marker
            continue
        frame = round(pkt.pts / per_frame)
        if frame < span.start or (span.stop is not None and frame >= span.stop):
            continue
        shift = round((offset - span.start) * per_frame)
        pkt.pts += shift
        pkt.dts = pkt.pts  # no B-frames: decode order is presentation order
        pkt.stream = ostream
        dst.mux(pkt)
        copied += 1
    return copied
