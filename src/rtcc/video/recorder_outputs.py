"""The recorder's ffmpeg outputs: segments on disk and, for live view, fragmented MP4 on stdout from the same upstream.

One ffmpeg per recorded camera feeds both through the `tee` muxer, so the camera sees one RTSP session
however many people watch it. The live branch can never hold recording back:
- it runs behind tee's FIFO (its own thread and a bounded packet queue); when the reader of stdout falls
  behind, the queue drops packets and resumes at the next keyframe instead of blocking the segment writer;
- it is `onfail=ignore`: if stdout closes or the live muxer fails, ffmpeg goes on recording.
The segment branch keeps tee's default `onfail=abort`, so a full disk still ends ffmpeg and is reported.
"""

from __future__ import annotations

from pathlib import Path

# Segments: fragmented MP4, playable up to the last fragment even if ffmpeg is killed.
SEGMENT_MOVFLAGS = "+frag_keyframe+empty_moov+default_base_moof"
# Live: a moof+mdat per keyframe and every fragment_ms, written to the pipe as soon as it is complete.
LIVE_MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"
# Packets the live branch may queue (a few seconds of video) before it drops and waits for a keyframe.
LIVE_QUEUE_PACKETS = 90


def recording_outputs(*, pattern: Path, segment_list: Path, segment_seconds: int,
                      live_fragment_ms: int | None = None) -> list[str]:
    """ffmpeg output arguments: segments only, or segments plus live fMP4 on stdout when live_fragment_ms is set."""
    segment_options = {
        "segment_time": str(segment_seconds), "reset_timestamps": "1", "segment_format": "mp4",
        "segment_format_options": f"movflags={SEGMENT_MOVFLAGS}",
        "segment_list": str(segment_list), "segment_list_type": "csv",
    }
    if live_fragment_ms is None:
        return ["-f", "segment", *(argument for name, value in segment_options.items() for argument in (f"-{name}", value)),
                str(pattern)]
    live_options = {
        "select": "v",  # live view is video only, as the on-demand relay's is
        "f": "mp4", "movflags": LIVE_MOVFLAGS, "frag_duration": str(live_fragment_ms * 1000), "flush_packets": "1",
        "onfail": "ignore", "use_fifo": "1",
        "fifo_options": f"queue_size={LIVE_QUEUE_PACKETS}:drop_pkts_on_overflow=1:restart_with_keyframe=1",
    }
    slaves = [tee_slave({"f": "segment", **segment_options}, str(pattern)), tee_slave(live_options, "pipe:1")]
    return ["-f", "tee", "|".join(slaves)]


def tee_slave(options: dict[str, str], target: str) -> str:
    """One `[key=value:...]target` entry of a tee output, escaped for both levels tee unescapes."""
    # tee first splits its argument on '|' (one level of ffmpeg's token unescaping), then reads each
    # option value up to ':' or ']' (a second level); the target after ']' only goes through the first.
    listed = ":".join(f"{name}={_escaped(value)}" for name, value in options.items())
    return _escaped(f"[{listed}]{target}")


def _escaped(text: str) -> str:
    """Backslash before every character av_get_token treats specially (a backslash before any other is harmless)."""
    return "".join("\\" + char if char in "\\'[]:|=," else char for char in text)
