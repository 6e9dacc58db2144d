"""Record one camera: Debian's ffmpeg copies the stream into short segments; each is indexed as it closes."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from rtcc.video.pipeline.ffmpeg_child import (
    FAILURE_PATTERNS,
    Backoff,
    FfmpegChild,
    classify_failure,
)
from rtcc.video.pipeline.sources import HTTP_PROTOCOLS, RTSP_PROTOCOLS, input_arguments
from rtcc.video.analytics.privacy import STREAM_COPY_ARGUMENTS, masking_arguments
from rtcc.video.live.recording_feed import RecorderLiveFeed
from rtcc.video.recording.outputs import recording_outputs
from rtcc.video.recording.storage import ClosedSegment, SegmentStore

log = logging.getLogger(__name__)

# Where they were before the pipeline package: importers of the recorder find them here still.
__all__ = ["FAILURE_PATTERNS", "HTTP_PROTOCOLS", "RTSP_PROTOCOLS", "CameraRecorder", "RecorderStatus",
           "classify_failure", "ffmpeg_command"]
# A source check: why the URL may not be opened now (None: it may).
SourceCheck = Callable[[str], Awaitable[str | None]]


@dataclass
class RecorderStatus:
    """What a recorder is doing, for the camera's status field."""

    state: str  # connecting | recording | offline | stale | source_refused | stopped
    detail: str | None = None


def ffmpeg_command(*, ffmpeg: str, url: str, pattern: Path, segment_list: Path, segment_seconds: int,
                   io_timeout_s: int, mask_png: Path | None = None, fps_hint: int = 15,
                   live_fragment_ms: int | None = None) -> list[str]:
    """Stream copy (never decode) into self-contained fragmented-MP4 segments, listed as they close.

    A camera with privacy masks is the exception: it is decoded, masked and re-encoded, so masked
    pixels never reach the disk. With `live_fragment_ms`, segments are written in fragments that short,
    flushed as written, and live view tails them (one upstream); see recording_outputs.
    """
    source = input_arguments(url, io_timeout_s=io_timeout_s)
    extra_inputs, stream_arguments = (
        masking_arguments(mask_png, fps_hint=fps_hint) if mask_png else ([], list(STREAM_COPY_ARGUMENTS))
    )
    if mask_png and live_fragment_ms is not None:
        # ffmpeg cannot see through tee that MP4 wants SPS/PPS out of band: without this, the encoder puts
        # them in-band only and every moov (segments and live alike) has an empty avcC, undecodable.
        stream_arguments += ["-flags:v", "+global_header"]
    return [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "warning",
        *source, *extra_inputs,
        *stream_arguments,
        *recording_outputs(pattern=pattern, segment_list=segment_list, segment_seconds=segment_seconds,
                           live_fragment_ms=live_fragment_ms),
    ]


class CameraRecorder:
    """Keeps one ffmpeg running for a camera: restarts with backoff, indexes segments, reports status."""

    def __init__(self, *, camera_id: int, url: str, store: SegmentStore, segment_seconds: int,
                 on_segment: Callable[[ClosedSegment], Awaitable[None]],
                 on_status: Callable[[int, RecorderStatus], Awaitable[None]],
                 ffmpeg: str = "ffmpeg", io_timeout_s: int = 10, max_backoff_s: float = 60.0,
                 mask_png: Path | None = None, live_feed: RecorderLiveFeed | None = None, live_fragment_ms: int = 100,
                 source_check: SourceCheck | None = None):
        self.camera_id = camera_id
        self.url = url
        self.store = store
        self.segment_seconds = segment_seconds
        self.on_segment = on_segment
        self.on_status = on_status
        self.ffmpeg = ffmpeg
        self.io_timeout_s = io_timeout_s
        self.max_backoff_s = max_backoff_s
        self.mask_png = mask_png
        # Live view of a recorded camera comes from this recorder's ffmpeg: one upstream for both.
        self.live_feed = live_feed
        self.live_fragment_ms = live_fragment_ms
        # Asked before every ffmpeg start: a name may resolve to a refused address since the camera was stored.
        self.source_check = source_check
        self.status = RecorderStatus("connecting")
        self.segments_indexed = 0
        self._stopping = asyncio.Event()
        self._child: FfmpegChild | None = None

    async def _set_status(self, state: str, detail: str | None = None) -> None:
        if (state, detail) != (self.status.state, self.status.detail):
            self.status = RecorderStatus(state, detail)
            if self.live_feed is not None:
                self.live_feed.upstream_status(state, detail)
            await self.on_status(self.camera_id, self.status)

    @property
    def _process(self) -> asyncio.subprocess.Process | None:
        """The running (or last) ffmpeg, for tests and benchmarks that watch it."""
        return self._child.process if self._child is not None else None

    async def run(self) -> None:
        """Record until stop(); a failure is a status and a retry, never an exception."""
        backoff = Backoff(max_s=self.max_backoff_s)
        while not self._stopping.is_set():
            started, indexed_before = time.monotonic(), self.segments_indexed
            refusal = await self._source_refusal()
            if refusal:
                await self._set_status("source_refused", f"source refused: {refusal}"[:300])  # and no ffmpeg
            else:
                try:
                    kind, detail = await self._record_once()
                except Exception as error:  # anything unexpected must not end the camera's recording
                    log.exception("recorder for camera %s failed", self.camera_id)
                    kind, detail = "error", type(error).__name__
                if self._stopping.is_set():
                    break
                await self._set_status("offline", f"{kind}: {detail}")
                if self.segments_indexed > indexed_before or time.monotonic() - started > 60:
                    backoff.reset()  # it had been recording: retry promptly, whatever failed before
            await backoff.wait(self._stopping)
        await self._set_status("stopped", None)

    async def _source_refusal(self) -> str | None:
        if self.source_check is None:
            return None
        try:
            return await self.source_check(self.url)
        except Exception as error:  # a check that cannot answer refuses: the source is opened only when cleared
            log.exception("source check for camera %s failed", self.camera_id)
            return f"the address could not be checked ({type(error).__name__})"

    async def _record_once(self) -> tuple[str, str]:
        session = self.store.new_session(self.camera_id)
        await self._set_status("connecting", None)
        command = ffmpeg_command(ffmpeg=self.ffmpeg, url=self.url, pattern=session.pattern, segment_list=session.segment_list,
                                 segment_seconds=self.segment_seconds, io_timeout_s=self.io_timeout_s,
                                 mask_png=self.mask_png,
                                 live_fragment_ms=self.live_fragment_ms if self.live_feed else None)
        # SIGINT lets ffmpeg close the open segment cleanly; SIGKILL follows if it lingers.
        self._child = child = FfmpegChild(command[1:], ffmpeg=command[0], stdout=False,
                                          stop_signal=signal.SIGINT, grace_s=10)
        process = await child.start()
        readers = []
        if self.live_feed is not None:
            readers.append(asyncio.create_task(self.live_feed.follow_session(session, process)))
        stale_after = self.segment_seconds * 3 + self.io_timeout_s + 5
        poll_s = min(1.0, self.segment_seconds / 4)  # a closed segment waits at most this to be indexed
        last_progress = time.monotonic()
        # One waiter for the whole run: a fresh wait_for(process.wait()) every poll made and cancelled a task each
        # second, the largest part of an unwatched recorder's cost to the server.
        exited = asyncio.ensure_future(process.wait())
        try:
            while process.returncode is None:
                # Off the event loop only when there is news: one stat of the segment list per poll.
                closed = await asyncio.to_thread(session.collect_closed) if session.segment_list_changed() else []
                for segment in closed:
                    await self._index(segment)
                    await self._set_status("recording", None)
                # A segment closing is progress; only a camera with none for a segment length is looked at closer
                # (a scan of the open segment's size), so a healthy recorder never scans.
                since_progress = time.monotonic() - last_progress
                if closed or (since_progress > self.segment_seconds and session.has_open_segment_growing()):
                    last_progress = time.monotonic()
                elif since_progress > stale_after:
                    await self._set_status("stale", f"no video for {stale_after} s")
                    child.stop()
                    break
                if self._stopping.is_set():
                    child.stop()
                    break
                await asyncio.wait((exited,), timeout=poll_s)
            failure = await child.finish()
        finally:
            exited.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
            # The last (open) segment: indexed too when it holds any video, so a stop loses nothing.
            for segment in await asyncio.to_thread(session.collect_closed, final=True):
                await self._index(segment)
        return failure

    async def _index(self, segment: ClosedSegment) -> None:
        try:
            await self.on_segment(segment)
            self.segments_indexed += 1
        except Exception:  # the file stays on disk; a rescan can index it later
            log.exception("segment %s of camera %s could not be indexed", segment.path, self.camera_id)

    async def stop(self) -> None:
        """Stop recording; the open segment is closed and indexed."""
        self._stopping.set()
        if self._child is not None:
            self._child.stop()
