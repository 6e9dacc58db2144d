"""One camera's live relay: its upstream (the recorder's feed or an ffmpeg of its own) fanned out to its viewers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rtcc.video.pipeline.ffmpeg_child import collect_stderr, discard, signal_if_running
from rtcc.video.fmp4 import (
    Fmp4Error,
    Fmp4Parser,
    InitSegment,
    MediaFragment,
    UnsupportedCodec,
)
from rtcc.video.live.commands import live_command, snapshot_command
from rtcc.video.live.viewer import LiveViewer
from rtcc.video.recording.recorder import classify_failure
from rtcc.video.live.recording_feed import RecorderLiveFeed

log = logging.getLogger(__name__)
READ_CHUNK_BYTES = 256 * 1024
JPEG_END = b"\xff\xd9"


@dataclass(frozen=True)
class LiveSettings:
    """Limits of live view; each maps to an RTCC_LIVE_* setting with the same default."""

    idle_stop_seconds: float = 15.0  # keep the upstream this long after the last viewer leaves
    viewer_queue_fragments: int = 60  # per viewer; a fuller queue skips to the next keyframe
    fragment_ms: int = 100  # fMP4 fragment length: the relay's share of the latency
    gop_cache_fragments: int = 60  # fragments since the last keyframe kept so a new viewer starts at once
    io_timeout_seconds: int = 10  # ffmpeg gives up on a silent camera after this
    probe_seconds: float = 1.0  # stream analysis before the first fragment (ffmpeg's 5 s default delays it ~4 s)
    stall_seconds: float = 15.0  # restart ffmpeg when it has sent nothing for this long
    max_backoff_seconds: float = 30.0  # longest wait between reconnects
    snapshot_fallback: bool = True  # send a JPEG a second when the codec cannot be played live
    ffmpeg: str = "ffmpeg"


class LiveRelay:
    """One camera's upstream fanned out to its viewers: the recorder's feed, or an ffmpeg of its own that
    reconnects with backoff; stops when idle."""

    def __init__(self, *, camera_id: int, url: str, settings: LiveSettings,
                 on_stopped: Callable[[LiveRelay], None] | None = None, mask_png: Path | None = None,
                 recorder_feed: RecorderLiveFeed | None = None) -> None:
        self.camera_id = camera_id
        self.url = url
        self.mask_png = mask_png  # privacy masks burnt in; no snapshot fallback then (it would show them)
        self.settings = settings
        self.on_stopped = on_stopped
        self.state = "connecting"  # connecting | live | offline | unsupported | snapshots | stopped
        self.detail: str | None = None
        self.init: InitSegment | None = None
        self.viewers: set[LiveViewer] = set()
        self.fragments = 0
        self.keyframes = 0
        self.bytes = 0
        self.upstream_starts = 0
        self.process: asyncio.subprocess.Process | None = None
        self._departed_drops = 0
        self._gop_cache: list[MediaFragment] = []
        self._idle_since = time.monotonic()
        self._fallback_reason: str | None = None
        self.recorder_feed = recorder_feed  # when set, the upstream is the recorder's ffmpeg, not one of ours
        self._following: RecorderLiveFeed | None = None  # the feed being relayed now (read only while watched)
        self._stopping = asyncio.Event()
        self._source_changed = asyncio.Event()
        self._task: asyncio.Task | None = None

    # --- what the registry and the WebSocket handler call ---
    def start(self) -> None:
        """Start the upstream task (in the running event loop)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"live-relay-{self.camera_id}")

    @property
    def stopping(self) -> bool:
        """Whether the relay is stopping or stopped; a new viewer then needs a new relay."""
        return self._stopping.is_set()

    def follow_recorder_feed(self, feed: RecorderLiveFeed | None) -> None:
        """Take the picture from this recorder feed from now on (None: from an ffmpeg of our own); viewers stay."""
        if feed is self.recorder_feed:
            return
        self.recorder_feed = feed
        self._source_changed.set()
        self._terminate()  # our own ffmpeg, if one runs, is no longer wanted (or must start afresh)

    def touch(self) -> None:
        """Note that a viewer is about to join, so the idle timer does not stop the relay meanwhile."""
        self._idle_since = time.monotonic()

    def add_viewer(self, capacity: int | None = None) -> LiveViewer:
        """A new viewer: current status, then init segment and the cached GOP so it starts at a keyframe."""
        viewer = LiveViewer(capacity or self.settings.viewer_queue_fragments)
        if self.state != "live":
            viewer.push_control("status", self._status())
        if self.init is not None and self.state == "live":
            viewer.push_control("init", self.init)
            for fragment in self._gop_cache:
                viewer.push_fragment(fragment)
        self.viewers.add(viewer)
        if self._following is not None and self not in self._following.listeners:
            self._following.subscribe(self)  # the first viewer: the feed starts reading, at its last keyframe
        return viewer

    def remove_viewer(self, viewer: LiveViewer) -> None:
        """A viewer left; the last one to leave starts the idle timer."""
        if viewer in self.viewers:
            self.viewers.discard(viewer)
            self._departed_drops += viewer.drops
            if not self.viewers:
                self._idle_since = time.monotonic()
                self._pause_feed()

    def stats(self) -> dict:
        """Figures for metrics and the camera's status page."""
        return {
            "state": self.state, "detail": self.detail, "codec": self.init.codec if self.init else None,
            "viewers": len(self.viewers), "fragments": self.fragments, "keyframes": self.keyframes,
            "bytes": self.bytes, "drops": self._departed_drops + sum(viewer.drops for viewer in self.viewers),
            "upstream_starts": self.upstream_starts, "upstream": "recorder" if self.recorder_feed else "own",
        }

    async def stop(self) -> None:
        """Stop the upstream now and tell the viewers the stream ended."""
        self._stopping.set()
        self._terminate()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # --- what a recorder feed calls (FeedListener) ---
    def on_feed_init(self, init: InitSegment) -> None:
        """The recorder's ffmpeg (re)started; a codec a browser cannot play goes to our own upstream's fallback."""
        if not init.is_h264 and self.settings.snapshot_fallback and self.mask_png is None:
            self._leave_recorder_feed(UnsupportedCodec(init.codec).args[0])
            return
        self._publish_init(init)

    def on_feed_fragment(self, fragment: MediaFragment) -> None:
        """A fragment of the recorder's live branch."""
        self._publish_fragment(fragment)

    def on_feed_status(self, state: str, detail: str | None) -> None:
        """The recorder is connecting, offline or stopped; an unplayable feed goes to our own upstream's fallback."""
        if state == "unsupported":
            self._leave_recorder_feed(detail)
        elif state != "live":
            self._set_state("connecting" if state == "stopped" else state, detail)

    # --- inside ---
    def _leave_recorder_feed(self, reason: str | None) -> None:
        log.info("live relay of camera %s cannot use the recorder's feed (%s): own upstream", self.camera_id, reason)
        self.follow_recorder_feed(None)

    async def _follow_recorder_feed(self, feed: RecorderLiveFeed) -> None:
        """Relay the recorder's feed until stop or a change of source; the recorder owns the upstream."""
        self._gop_cache.clear()
        self._following = feed
        if self.viewers:
            feed.subscribe(self)
        try:
            await self._wait_for_stop_or_new_source()
        finally:
            self._following = None
            feed.unsubscribe(self)

    def _pause_feed(self) -> None:
        """Nobody watches: the recorder's feed stops reading, and what it showed is forgotten (it goes stale)."""
        if self._following is None or self not in self._following.listeners:
            return
        self._following.unsubscribe(self)
        self.init = None
        self._gop_cache.clear()
        self.state, self.detail = "connecting", None

    async def _wait_for_stop_or_new_source(self, timeout: float | None = None) -> None:
        waits = [asyncio.ensure_future(self._stopping.wait()), asyncio.ensure_future(self._source_changed.wait())]
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    def _status(self) -> dict:
        return {"state": self.state, "detail": self.detail}

    def _set_state(self, state: str, detail: str | None = None) -> None:
        if (state, detail) == (self.state, self.detail):
            return
        self.state, self.detail = state, detail
        if state != "live":  # a live stream announces itself with its init segment
            for viewer in self.viewers:
                viewer.push_control("status", self._status())

    async def _run(self) -> None:
        watchdog = asyncio.create_task(self._stop_when_idle())
        backoff = 1.0
        snapshots = False
        try:
            while not self._stopping.is_set():
                self._source_changed.clear()
                if self.recorder_feed is not None:
                    await self._follow_recorder_feed(self.recorder_feed)
                    snapshots, backoff = False, 1.0
                    continue
                started = time.monotonic()
                try:
                    if snapshots:
                        kind, detail = await self._stream_snapshots_once()
                    else:
                        kind, detail = await self._stream_once()
                except Exception as error:  # anything unexpected is a retry, never a dead relay
                    log.exception("live relay of camera %s failed", self.camera_id)
                    kind, detail = "error", type(error).__name__
                if self._stopping.is_set():
                    break
                if self._source_changed.is_set():
                    continue  # handed over (to the recorder's feed, say): not a failure, no backoff
                if kind == "unsupported_codec" and not snapshots:
                    self._set_state("unsupported", detail)
                    self._fallback_reason = detail
                    if self.settings.snapshot_fallback and self.mask_png is None:
                        snapshots, backoff = True, 1.0
                        continue
                else:
                    self._set_state("offline", f"{kind}: {detail}")
                if time.monotonic() - started > 30:
                    backoff = 1.0  # it had been streaming a while: retry promptly
                await self._wait_for_stop_or_new_source(timeout=backoff)
                backoff = min(backoff * 2, self.settings.max_backoff_seconds)
        finally:
            watchdog.cancel()
            self.state, self.detail = "stopped", None
            for viewer in self.viewers:
                viewer.push_control("status", self._status())
                viewer.push_control("end", None)
            if self.on_stopped:
                self.on_stopped(self)

    async def _stop_when_idle(self) -> None:
        while not self._stopping.is_set():
            await asyncio.sleep(min(1.0, self.settings.idle_stop_seconds / 4))
            if not self.viewers and time.monotonic() - self._idle_since >= self.settings.idle_stop_seconds:
                log.info("live relay of camera %s idle: stopping", self.camera_id)
                self._stopping.set()
                self._terminate()

    async def _spawn(self, command: list[str]) -> deque[str]:
        self.upstream_starts += 1
        self._gop_cache.clear()  # the old upstream's pictures cannot follow the new one's init
        self._set_state("connecting")
        self.process = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env={**os.environ, "TZ": "UTC"}, start_new_session=True,
        )
        last_words: deque[str] = deque(maxlen=30)
        self._stderr_reader = asyncio.create_task(self._read_stderr(self.process, last_words))
        return last_words

    async def _read_chunks(self):
        """Yield stdout chunks until EOF, a stall or stop."""
        assert self.process and self.process.stdout
        while not self._stopping.is_set():
            try:
                chunk = await asyncio.wait_for(self.process.stdout.read(READ_CHUNK_BYTES),
                                               timeout=self.settings.stall_seconds)
            except TimeoutError:
                raise _Stalled from None
            if not chunk:
                return
            yield chunk

    async def _stream_once(self) -> tuple[str, str]:
        """Run ffmpeg once, forwarding its fragments, until it exits; (failure kind, detail)."""
        last_words = await self._spawn(live_command(ffmpeg=self.settings.ffmpeg, url=self.url,
                                                    fragment_ms=self.settings.fragment_ms,
                                                    io_timeout_s=self.settings.io_timeout_seconds,
                                                    probe_seconds=self.settings.probe_seconds, mask_png=self.mask_png))
        parser = Fmp4Parser()
        try:
            async for chunk in self._read_chunks():
                for segment in parser.feed(chunk):
                    if isinstance(segment, InitSegment):
                        if not segment.is_h264 and self.settings.snapshot_fallback and self.mask_png is None:
                            raise UnsupportedCodec(segment.codec)
                        self._publish_init(segment)
                    else:
                        self._publish_fragment(segment)
        except UnsupportedCodec as error:
            return await self._end_upstream(last_words, ("unsupported_codec", str(error)))
        except Fmp4Error as error:
            return await self._end_upstream(last_words, ("bad_stream", str(error)))
        except _Stalled:
            return await self._end_upstream(last_words, ("stale", f"no video for {self.settings.stall_seconds:.0f} s"))
        return await self._end_upstream(last_words, None)

    async def _stream_snapshots_once(self) -> tuple[str, str]:
        """Run the JPEG fallback once: one decode per camera, a still a second to every viewer."""
        last_words = await self._spawn(snapshot_command(ffmpeg=self.settings.ffmpeg, url=self.url,
                                                        io_timeout_s=self.settings.io_timeout_seconds))
        pending = bytearray()
        try:
            async for chunk in self._read_chunks():
                pending += chunk
                # ffmpeg's MJPEG frames carry no thumbnails, so an EOI marker ends a picture.
                while (end := pending.find(JPEG_END)) >= 0:
                    jpeg, pending = bytes(pending[:end + 2]), pending[end + 2:]
                    self._set_state("snapshots", self._fallback_reason)
                    self.bytes += len(jpeg)
                    for viewer in self.viewers:
                        viewer.push_snapshot(jpeg)
        except _Stalled:
            return await self._end_upstream(last_words, ("stale", "no pictures"))
        return await self._end_upstream(last_words, None)

    def _publish_init(self, init: InitSegment) -> None:
        self.init = init
        self._gop_cache.clear()
        self._set_state("live")
        for viewer in self.viewers:
            viewer.push_control("init", init)

    def _publish_fragment(self, fragment: MediaFragment) -> None:
        self.fragments += 1
        self.bytes += len(fragment.data)
        if fragment.keyframe:
            self.keyframes += 1
            self._gop_cache = [fragment]
        elif self._gop_cache and len(self._gop_cache) < self.settings.gop_cache_fragments:
            self._gop_cache.append(fragment)
        else:
            self._gop_cache = []  # a GOP too long to replay: new viewers wait for the next keyframe
        for viewer in self.viewers:
            viewer.push_fragment(fragment)

    async def _end_upstream(self, last_words: deque[str], failure: tuple[str, str] | None) -> tuple[str, str]:
        self._terminate()
        process = self.process
        draining = asyncio.create_task(discard(process.stdout))  # else unread output can keep wait() from returning
        try:
            await asyncio.wait_for(process.wait(), timeout=5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(draining, timeout=2)
        await asyncio.gather(self._stderr_reader, return_exceptions=True)
        return failure or classify_failure(list(last_words))

    def _terminate(self) -> None:
        signal_if_running(self.process, signal.SIGTERM)

    @staticmethod
    async def _read_stderr(process: asyncio.subprocess.Process, sink: deque[str]) -> None:
        await collect_stderr(process, sink)


class _Stalled(Exception):
    """ffmpeg is alive but has sent nothing for too long."""
