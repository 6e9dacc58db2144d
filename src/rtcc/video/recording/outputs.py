"""The recorder's ffmpeg output: segments on disk, which are also where a recorded camera's live view comes from.

The segments are fragmented MP4. With `live_fragment_ms` they are cut into short fragments (a moof+mdat
at every keyframe and every live_fragment_ms) and flushed to the file as each completes, so the segment
being written is a live stream that RecorderLiveFeed tails while someone watches. ffmpeg writes nothing
else: an unwatched recorded camera costs what a bare `-c copy -f segment` does (no tee, no pipe, no parser).
A full disk still ends ffmpeg and is reported.
"""

from __future__ import annotations

from pathlib import Path

# Segments: fragmented MP4, playable up to the last fragment even if ffmpeg is killed.
SEGMENT_MOVFLAGS = "+frag_keyframe+empty_moov+default_base_moof"


def recording_outputs(*, pattern: Path, segment_list: Path, segment_seconds: int,
                      live_fragment_ms: int | None = None) -> list[str]:
    """ffmpeg output arguments: segments, in fragments of live_fragment_ms flushed as written when it is set."""
    format_options = f"movflags={SEGMENT_MOVFLAGS}"
    if live_fragment_ms is not None:
        # flush_packets: the file is seekable, so without it ffmpeg keeps up to 32 KiB of a fragment buffered.
        format_options += f":frag_duration={live_fragment_ms * 1000}:flush_packets=1"
    segment_options = {
        "segment_time": str(segment_seconds), "reset_timestamps": "1", "segment_format": "mp4",
        "segment_format_options": format_options,
        "segment_list": str(segment_list), "segment_list_type": "csv",
    }
    return ["-f", "segment", *(argument for name, value in segment_options.items() for argument in (f"-{name}", value)),
            str(pattern)]
