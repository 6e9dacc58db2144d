"""Recorded video back out: spans and gaps, a clip the browser plays, a still at any instant."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc.core.errors import NotFound, RTCCError
from rtcc.video.models import RecordingSegment
from rtcc.video.recording.storage import SegmentStore

# Segments closer than this are one continuous span (segment boundaries are not gaps).
SPAN_TOLERANCE = timedelta(seconds=1.5)
MAX_CLIP = timedelta(hours=2)


class MediaError(RTCCError):
    code = "media_error"
    status_code = 500


@dataclass
class Span:
    start: datetime
    end: datetime


def segments_between(session: Session, *, camera_id: int, start: datetime, end: datetime) -> list[RecordingSegment]:
    """Indexed segments of a camera overlapping [start, end), oldest first."""
    if end <= start:
        raise RTCCError("The end must be after the start.", code="invalid_range", status_code=422)
    return list(session.execute(
        select(RecordingSegment).where(
            RecordingSegment.camera_id == camera_id, RecordingSegment.ended_at > start, RecordingSegment.started_at < end,
        ).order_by(RecordingSegment.started_at)
    ).scalars())


def recorded_spans(segments: list[RecordingSegment]) -> list[Span]:
    """Continuous stretches of recording; what lies between them is a gap."""
    spans: list[Span] = []
    for segment in segments:
        if spans and segment.started_at - spans[-1].end <= SPAN_TOLERANCE:
            spans[-1].end = max(spans[-1].end, segment.ended_at)
        else:
            spans.append(Span(segment.started_at, segment.ended_at))
    return spans


def gaps_between(spans: list[Span], start: datetime, end: datetime) -> list[Span]:
    """The parts of [start, end) with no recording."""
    gaps, cursor = [], start
    for span in spans:
        if span.start - cursor > SPAN_TOLERANCE:
            gaps.append(Span(cursor, min(span.start, end)))
        cursor = max(cursor, span.end)
    if end - cursor > SPAN_TOLERANCE:
        gaps.append(Span(cursor, end))
    return gaps


# A segment's timestamps start after its first frame's reordering delay (B-frames: a frame or a few), so the
# index's offset into it lands up to that much early in the file. The cut ends this much later: a clip may hold
# a few frames after the window, never fewer than it.
REORDER_ALLOWANCE_S = 0.5


def _concat_list(store: SegmentStore, segments: list[RecordingSegment], start: datetime, end: datetime) -> Path:
    """The segments to copy, the window as the first one's inpoint and the last one's outpoint (no -ss, no -t).

    ffmpeg (5.1) cannot seek a concat list whose segments start at a timestamp other than 0 (any recording with
    B-frames): the seek fails, ffmpeg reads from the first segment and stream copy starts at the first keyframe
    after the window's start, dropping up to a GOP (and the first keyframe of the list, flushed by the failed seek).
    An inpoint seeks inside the one segment instead: stream copy starts at the keyframe at or before the window.
    """
    if not segments:
        raise NotFound("Nothing was recorded in that time range.", code="no_recording")
    if end - start > MAX_CLIP:
        raise RTCCError("Ask for at most two hours at a time.", code="range_too_long", status_code=422)
    handle = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)
    with handle:
        handle.write("ffconcat version 1.0\n")
        for number, segment in enumerate(segments):
            path = str(store.absolute(segment.path)).replace("'", "'\\''")
            handle.write(f"file '{path}'\n")
            inpoint = (start - segment.started_at).total_seconds() if number == 0 else 0.0
            if inpoint > 0:
                handle.write(f"inpoint {inpoint:.6f}\n")
            handle.write(f"duration {segment.duration_s - max(inpoint, 0):.6f}\n")
            if number == len(segments) - 1 and end < segment.ended_at:
                handle.write(f"outpoint {(end - segment.started_at).total_seconds() + REORDER_ALLOWANCE_S:.6f}\n")
    return Path(handle.name)


def clip_command(*, ffmpeg: str, concat_list: Path, output: str) -> list[str]:
    """Stream-copy the listed segments (cut by the list's in- and outpoints) into one fragmented MP4.

    Fragmented so it plays in <video> as it arrives. The clip starts at the keyframe at or before the window's
    start (stream copy cannot start between keyframes), so it may hold up to a GOP before the window.
    """
    return [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error",
        "-f", "concat", "-safe", "0", "-i", str(concat_list),
        "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy",
        "-movflags", "frag_keyframe+empty_moov+default_base_moof", "-f", "mp4", output,
    ]


def stream_clip(store: SegmentStore, segments: list[RecordingSegment], start: datetime, end: datetime,
                ffmpeg: str = "ffmpeg") -> Iterator[bytes]:
    """The clip as fragmented-MP4 chunks, produced while it is read (no temp file for the video)."""
    concat_list = _concat_list(store, segments, start, end)
    process = subprocess.Popen(clip_command(ffmpeg=ffmpeg, concat_list=concat_list, output="pipe:1"),
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        for chunk in iter(lambda: process.stdout.read(65536), b""):
            yield chunk
    finally:
        process.kill()
        process.wait()
        concat_list.unlink(missing_ok=True)


def write_clip(store: SegmentStore, segments: list[RecordingSegment], start: datetime, end: datetime, output: Path,
               ffmpeg: str = "ffmpeg") -> None:
    """The clip into a file (for evidence exports)."""
    concat_list = _concat_list(store, segments, start, end)
    try:
        result = subprocess.run(clip_command(ffmpeg=ffmpeg, concat_list=concat_list, output=str(output)),
                                capture_output=True, text=True, timeout=600)
    finally:
        concat_list.unlink(missing_ok=True)
    if result.returncode != 0 or not output.exists() or output.stat().st_size == 0:
        raise MediaError(f"The clip could not be cut: {result.stderr.strip()[-200:] or 'ffmpeg failed'}")


def snapshot_jpeg(store: SegmentStore, segments: list[RecordingSegment], at: datetime, ffmpeg: str = "ffmpeg") -> bytes:
    """A JPEG of the frame recorded at `at` (the segment covering it, decoded from its keyframe)."""
    covering = [s for s in segments if s.started_at <= at < s.ended_at + timedelta(milliseconds=500)]
    if not covering:
        raise NotFound("Nothing was recorded at that instant.", code="no_recording")
    segment = covering[0]
    offset = max((at - segment.started_at).total_seconds(), 0)
    # The last frame may sit a little before the segment's nominal end: step back until a frame decodes.
    for attempt in (offset, offset - 0.25, offset - 0.75, offset - 1.5):
        result = subprocess.run(
            # -ss before -i seeks to the keyframe before the instant and decodes on from there: the same frame
            # as decoding the segment from its start (checked byte for byte on 33 instants), in a third of the time.
            [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-ss", f"{max(attempt, 0):.3f}",
             "-i", str(store.absolute(segment.path)), "-frames:v", "1", "-f", "image2pipe", "-c:v", "mjpeg", "-q:v", "3",
             "pipe:1"],
            capture_output=True, timeout=60,
        )
        if result.returncode == 0 and result.stdout.startswith(b"\xff\xd8"):
            return result.stdout
        if attempt <= 0:
            break
    raise MediaError("The frame could not be decoded from the recording.")
