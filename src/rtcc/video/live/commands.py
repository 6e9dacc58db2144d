"""ffmpeg command lines of the on-demand live relay: fMP4 remux (never a decode) and the JPEG-still fallback."""

from __future__ import annotations

from pathlib import Path

from rtcc.video.pipeline.sources import input_arguments
from rtcc.video.analytics.privacy import masking_arguments


def source_arguments(url: str, io_timeout_s: int, probe_seconds: float = 1.0) -> list[str]:
    """ffmpeg input options for a camera URL (the recorder's, from the one table, tuned for a quick start)."""
    # ffmpeg's default 5 s analysis delays the first picture by ~4 s; the codec is known after one keyframe.
    return input_arguments(url, io_timeout_s=io_timeout_s, probe_seconds=probe_seconds)


def live_command(*, ffmpeg: str, url: str, fragment_ms: int, io_timeout_s: int, probe_seconds: float = 1.0,
                 mask_png: Path | None = None) -> list[str]:
    """Stream copy of the first video track into short fMP4 fragments on stdout; never decodes.

    A camera with privacy masks is the exception: decoded, masked and re-encoded like its recording.
    """
    video = ["-map", "0:v:0", "-c", "copy"] if mask_png is None else masking_arguments(mask_png, with_audio=False)[1]
    return [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "warning",
        *source_arguments(url, io_timeout_s, probe_seconds),
        *video, "-f", "mp4",
        "-movflags", "frag_keyframe+empty_moov+default_base_moof",
        "-frag_duration", str(fragment_ms * 1000), "-flush_packets", "1", "pipe:1",
    ]


def snapshot_command(*, ffmpeg: str, url: str, io_timeout_s: int, fps: float = 1.0) -> list[str]:
    """Decode at `fps` into a stream of JPEGs on stdout: the fallback for codecs a browser cannot play."""
    return [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "warning",
        *source_arguments(url, io_timeout_s),
        "-map", "0:v:0", "-vf", f"fps={fps}", "-c:v", "mjpeg", "-q:v", "5", "-f", "image2pipe", "pipe:1",
    ]
