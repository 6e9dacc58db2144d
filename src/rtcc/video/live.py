"""Live view without transcoding: one ffmpeg per watched camera remuxes to fragmented MP4 for every viewer."""

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
from urllib.parse import urlsplit

from rtcc.video.fmp4 import Fmp4Error, Fmp4Parser, InitSegment, MediaFragment, UnsupportedCodec
from rtcc.video.live_viewer import LiveViewer, serve_live_viewer
from rtcc.video.privacy import masking_arguments
from rtcc.video.recorder import classify_failure

__all__ = ["LiveRelay", "LiveRelayRegistry", "LiveSettings", "LiveViewer", "serve_live_viewer"]

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


def source_arguments(url: str, io_timeout_s: int, probe_seconds: float = 1.0) -> list[str]:
    """ffmpeg input options for a camera URL (the same choices as the recorder's, tuned for a quick start)."""
    scheme = urlsplit(url).scheme.lower()
    timeout_us = str(io_timeout_s * 1_000_000)
    # ffmpeg's default 5 s analysis delays the first picture by ~4 s; the codec is known after one keyframe.
    # nobuffer: hand packets on as they arrive instead of holding them in the probe buffer.
    low_delay = ["-analyzeduration", str(int(probe_seconds * 1_000_000)), "-fflags", "nobuffer"]
    if scheme in ("rtsp", "rtsps"):
        return [*low_delay, "-rtsp_transport", "tcp", "-timeout", timeout_us, "-i", url]
    if scheme == "file":
        # A file plays as if live (-re), looping, so a file camera behaves like a real one.
        return ["-re", "-stream_loop", "-1", "-i", urlsplit(url).path]
    return [*low_delay, "-rw_timeout", timeout_us, "-i", url]


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


class LiveRelay:
    """One camera's upstream (one ffmpeg) fanned out to its viewers; reconnects with backoff; stops when idle."""

    def __init__(self, *, camera_id: int, url: str, settings: LiveSettings,
                 on_stopped: Callable[[LiveRelay], None] | None = None, mask_png: Path | None = None) -> None:
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
        self._stopping = asyncio.Event()
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
        return viewer

    def remove_viewer(self, viewer: LiveViewer) -> None:
        """A viewer left; the last one to leave starts the idle timer."""
        if viewer in self.viewers:
            self.viewers.discard(viewer)
            self._departed_drops += viewer.drops
            if not self.viewers:
                self._idle_since = time.monotonic()

    def stats(self) -> dict:
        """Figures for metrics and the camera's status page."""
        return {
            "state": self.state, "detail": self.detail, "codec": self.init.codec if self.init else None,
            "viewers": len(self.viewers), "fragments": self.fragments, "keyframes": self.keyframes,
            "bytes": self.bytes, "drops": self._departed_drops + sum(viewer.drops for viewer in self.viewers),
            "upstream_starts": self.upstream_starts,
        }

    async def stop(self) -> None:
        """Stop the upstream now and tell the viewers the stream ended."""
        self._stopping.set()
        self._terminate()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # --- inside ---
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
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=backoff)
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
        try:
            await asyncio.wait_for(process.wait(), timeout=5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        await asyncio.gather(self._stderr_reader, return_exceptions=True)
        return failure or classify_failure(list(last_words))

    def _terminate(self) -> None:
        if self.process and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)

    @staticmethod
    async def _read_stderr(process: asyncio.subprocess.Process, sink: deque[str]) -> None:
        assert process.stderr
        async for raw in process.stderr:
            line = raw.decode("utf-8", "replace").strip()
            if line:
                sink.append(line)


class _Stalled(Exception):
    """ffmpeg is alive but has sent nothing for too long."""


class LiveRelayRegistry:
    """The live relays of one server: at most one per camera, started on demand, forgotten when stopped."""

    def __init__(self, settings: LiveSettings | None = None) -> None:
        self.settings = settings or LiveSettings()
        self.relays: dict[int, LiveRelay] = {}

    def get_or_start(self, camera_id: int, url: str, mask_png: Path | None = None) -> LiveRelay:
        """The camera's running relay, or a new one started now (call from the event loop)."""
        relay = self.relays.get(camera_id)
        if relay is not None and not relay.stopping and (relay.url, relay.mask_png) == (url, mask_png):
            relay.touch()
            return relay
        if relay is not None and not relay.stopping:
            asyncio.create_task(relay.stop())  # the camera's URL changed: its viewers reconnect to the new one
        relay = LiveRelay(camera_id=camera_id, url=url, settings=self.settings, on_stopped=self._forget, mask_png=mask_png)
        self.relays[camera_id] = relay
        relay.start()
        return relay

    def _forget(self, relay: LiveRelay) -> None:
        if self.relays.get(relay.camera_id) is relay:
            del self.relays[relay.camera_id]

    def stats(self) -> dict[int, dict]:
        """Per camera: state, viewers, fragments, drops, bytes, upstream starts."""
        return {camera_id: relay.stats() for camera_id, relay in self.relays.items()}

    async def stop_all(self) -> None:
        """Stop every relay (server shutdown)."""
        await asyncio.gather(*(relay.stop() for relay in list(self.relays.values())), return_exceptions=True)
