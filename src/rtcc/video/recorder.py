"""Record one camera: Debian's ffmpeg copies the stream into short segments; each is indexed as it closes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from rtcc.cameras.streams import rtsp_transport_of
from rtcc.video.child_process import collect_stderr, end_with_parent, signal_if_running, wait_or_kill
from rtcc.video.privacy import STREAM_COPY_ARGUMENTS, masking_arguments
from rtcc.video.recorder_feed import RecorderLiveFeed
from rtcc.video.recorder_outputs import recording_outputs
from rtcc.video.storage import ClosedSegment, SegmentStore

log = logging.getLogger(__name__)

# What ffmpeg says when it fails, and what an operator should read in the camera's status.
FAILURE_PATTERNS = (
    ("401 Unauthorized", "wrong_credentials", "the camera refused the credentials (401)"),
    ("403 Forbidden", "wrong_credentials", "the camera refused access (403)"),
    ("Connection refused", "unreachable", "connection refused"),
    ("No route to host", "unreachable", "no route to host"),
    ("Network is unreachable", "unreachable", "network unreachable"),
    ("Name or service not known", "unreachable", "host name not found"),
    ("timed out", "unreachable", "timed out waiting for the camera"),
    ("404 Not Found", "bad_stream", "stream path not found (404)"),
    ("Invalid data found", "bad_stream", "the stream is not valid video"),
    ("Could not find codec parameters", "bad_stream", "no decodable video in the stream"),
    ("does not contain any stream", "bad_stream", "no video in the stream"),
    ("Unsupported codec", "unsupported_codec", "unsupported codec"),
    ("not currently supported in container", "unsupported_codec", "codec cannot be stored as MP4"),
    ("No space left on device", "disk_full", "the recording disk is full"),
)


RTSP_PROTOCOLS = "rtsp,rtsps,rtp,srtp,udp,tcp,tls,crypto"
HTTP_PROTOCOLS = "http,https,tcp,tls,crypto"
# A source check: why the URL may not be opened now (None: it may).
SourceCheck = Callable[[str], Awaitable[str | None]]


@dataclass
class RecorderStatus:
    """What a recorder is doing, for the camera's status field."""

    state: str  # connecting | recording | offline | stale | source_refused | stopped
    detail: str | None = None


def classify_failure(stderr_lines: list[str]) -> tuple[str, str]:
    """(kind, human detail) from ffmpeg's last words."""
    text = "\n".join(stderr_lines)
    for needle, kind, detail in FAILURE_PATTERNS:
        if needle.lower() in text.lower():
            return kind, detail
    last = stderr_lines[-1].strip() if stderr_lines else "the stream ended"
    return "error", last[:200]


def ffmpeg_command(*, ffmpeg: str, url: str, pattern: Path, segment_list: Path, segment_seconds: int,
                   io_timeout_s: int, mask_png: Path | None = None, fps_hint: int = 15,
                   live_fragment_ms: int | None = None) -> list[str]:
    """Stream copy (never decode) into self-contained fragmented-MP4 segments, listed as they close.

    A camera with privacy masks is the exception: it is decoded, masked and re-encoded, so masked
    pixels never reach the disk. With `live_fragment_ms`, segments are written in fragments that short,
    flushed as written, and live view tails them (one upstream); see recording_outputs.
    """
    url, transport = rtsp_transport_of(url)
    scheme = urlsplit(url).scheme.lower()
    timeout_us = str(io_timeout_s * 1_000_000)
    source: list[str]
    # Each source may open only the protocols its scheme needs: a playlist or redirect inside a camera's
    # stream cannot make ffmpeg read a local file, nor a file camera reach the network.
    if scheme in ("rtsp", "rtsps"):
        source = ["-rtsp_transport", transport, "-timeout", timeout_us, "-protocol_whitelist", RTSP_PROTOCOLS, "-i", url]
    elif scheme == "file":
        # A file plays as if live (-re), looping, so a file camera behaves like a real one.
        source = ["-re", "-stream_loop", "-1", "-protocol_whitelist", "file", "-i", urlsplit(url).path]
    else:
        source = ["-rw_timeout", timeout_us, "-protocol_whitelist", HTTP_PROTOCOLS, "-i", url]
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
        self._process: asyncio.subprocess.Process | None = None

    async def _set_status(self, state: str, detail: str | None = None) -> None:
        if (state, detail) != (self.status.state, self.status.detail):
            self.status = RecorderStatus(state, detail)
            if self.live_feed is not None:
                self.live_feed.upstream_status(state, detail)
            await self.on_status(self.camera_id, self.status)

    async def run(self) -> None:
        """Record until stop(); a failure is a status and a retry, never an exception."""
        backoff = 1.0
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
                    backoff = 1.0  # it had been recording: retry promptly, whatever failed before
            # Jittered, so cameras that failed together (a switch rebooting) do not all retry in the same instant.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=backoff * random.uniform(0.75, 1.25))
            backoff = min(backoff * 2, self.max_backoff_s)
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
        self._process = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, env={**os.environ, "TZ": "UTC"}, start_new_session=True,
            preexec_fn=end_with_parent,  # its own session keeps it from our Ctrl-C, so it must know when we die
        )
        last_words: deque[str] = deque(maxlen=30)
        readers = [asyncio.create_task(self._read_stderr(last_words))]
        if self.live_feed is not None:
            readers.append(asyncio.create_task(self.live_feed.follow_session(session, self._process)))
        stale_after = self.segment_seconds * 3 + self.io_timeout_s + 5
        last_progress = time.monotonic()
        try:
            while self._process.returncode is None:
                closed = await asyncio.to_thread(session.collect_closed)
                for segment in closed:
                    await self._index(segment)
                    await self._set_status("recording", None)
                if closed or session.has_open_segment_growing():
                    last_progress = time.monotonic()
                elif time.monotonic() - last_progress > stale_after:
                    await self._set_status("stale", "no video for %d s" % stale_after)
                    self._terminate()
                    break
                if self._stopping.is_set():
                    self._terminate()
                    break
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._process.wait(), timeout=0.5)
            await self._wait_exit()
        finally:
            await asyncio.gather(*readers, return_exceptions=True)
            # The last (open) segment: indexed too when it holds any video, so a stop loses nothing.
            for segment in await asyncio.to_thread(session.collect_closed, final=True):
                await self._index(segment)
        return classify_failure(list(last_words))

    async def _index(self, segment: ClosedSegment) -> None:
        try:
            await self.on_segment(segment)
            self.segments_indexed += 1
        except Exception:  # the file stays on disk; a rescan can index it later
            log.exception("segment %s of camera %s could not be indexed", segment.path, self.camera_id)

    async def _read_stderr(self, sink: deque[str]) -> None:
        await collect_stderr(self._process, sink)

    def _terminate(self) -> None:
        # SIGINT lets ffmpeg close the open segment cleanly; SIGKILL follows if it lingers.
        signal_if_running(self._process, signal.SIGINT)

    async def _wait_exit(self) -> None:
        await wait_or_kill(self._process, timeout_s=10)

    async def stop(self) -> None:
        """Stop recording; the open segment is closed and indexed."""
        self._stopping.set()
        self._terminate()
