"""A camera's one sub-stream decoder: ffmpeg decodes once, at the largest size and rate its consumers need.

Its frames go to every consumer's ConsumerFeed (each resizes to its own needs). The decoder restarts with
backoff; stream trouble is a status (connecting, online, stale, offline, source_refused, stopped), never an
exception. Privacy masks are painted out here, before any consumer sees a frame.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

import numpy as np

from rtcc.core import clock
from rtcc.video.pipeline.consumers import ConsumerFeed, DecodedFrame, FrameNeeds
from rtcc.video.pipeline.ffmpeg_child import Backoff, FfmpegChild
from rtcc.video.pipeline.sources import input_arguments
from rtcc.video.analytics.privacy import Polygon, apply_mask_to_frame

log = logging.getLogger(__name__)

StatusCallback = Callable[[str, str | None], Awaitable[None]]
SourceCheck = Callable[[str], Awaitable[str | None]]


def decoder_arguments(url: str, needs: FrameNeeds, *, io_timeout_s: int) -> list[str]:
    """ffmpeg arguments (after the executable): decode only the video, only `fps` frames a second, at a fixed size."""
    if needs.colour:  # BGR for the plate reader, scaled as ffmpeg scales by default
        video = ["-vf", f"fps={needs.fps},scale={needs.width}:{needs.height}", "-pix_fmt", "bgr24"]
    else:  # area scaling averages sensor noise away instead of aliasing it, like a camera's own binning
        video = ["-vf", f"fps={needs.fps},scale={needs.width}:{needs.height}:flags=area,format=gray"]
    return ["-nostdin", "-hide_banner", "-loglevel", "error", *input_arguments(url, io_timeout_s=io_timeout_s),
            "-an", "-sn", "-dn", *video, "-f", "rawvideo", "pipe:1"]


class SubStreamDecoder:
    """Keeps one ffmpeg decoding a camera stream into raw frames for its feeds; restarts with backoff."""

    def __init__(self, url: str, *, needs: FrameNeeds, ffmpeg: str = "ffmpeg", io_timeout_s: int = 10,
                 stale_after_s: float = 10.0, max_backoff_s: float = 60.0, privacy_masks: Iterable[Polygon] = (),
                 feeds: Iterable[ConsumerFeed] = (), on_status: StatusCallback | None = None,
                 source_check: SourceCheck | None = None):
        self.url = url
        self.needs = needs
        self.ffmpeg = ffmpeg
        self.io_timeout_s = io_timeout_s
        self.stale_after_s = stale_after_s
        self.max_backoff_s = max_backoff_s
        self.privacy_masks = list(privacy_masks)
        self.feeds = list(feeds)
        self.on_status = on_status
        # Asked before every ffmpeg start: a name may resolve to a refused address since the camera was stored.
        self.source_check = source_check
        self.status: tuple[str, str | None] = ("connecting", None)
        self.frames_decoded = 0
        self.starts = 0
        self._stopping = asyncio.Event()
        self._child: FfmpegChild | None = None

    def command(self) -> list[str]:
        """The ffmpeg command line this decoder runs."""
        return [self.ffmpeg, *decoder_arguments(self.url, self.needs, io_timeout_s=self.io_timeout_s)]

    @property
    def process(self) -> asyncio.subprocess.Process | None:
        return self._child.process if self._child is not None else None

    async def stop(self) -> None:
        """Stop decoding; run() ends and every feed is told so."""
        self._stopping.set()
        if self._child is not None:
            self._child.stop()

    def stats(self) -> dict:
        """The decoder's counters and each consumer's (drops per consumer)."""
        return {"status": self.status[0], "detail": self.status[1], "stream_size": f"{self.needs.width}x{self.needs.height}",
                "fps": self.needs.fps, "frames_decoded": self.frames_decoded, "ffmpeg_starts": self.starts,
                "consumers": [feed.stats() for feed in self.feeds]}

    async def _set_status(self, state: str, detail: str | None = None) -> None:
        if (state, detail) != self.status:
            self.status = (state, detail)
            if self.on_status is not None:
                await self.on_status(state, detail)

    async def run(self) -> None:
        """Decode until stop(); then every feed gets its end."""
        backoff = Backoff(max_s=self.max_backoff_s, jitter=0.1)
        try:
            while not self._stopping.is_set():
                refusal = await self._source_refusal()
                if refusal:
                    await self._set_status("source_refused", f"source refused: {refusal}"[:300])  # and no ffmpeg
                    log.warning("%s: stream not opened: %s", self._name(), refusal)
                else:
                    if await self._decode_once():
                        backoff.reset()
                if self._stopping.is_set():
                    break
                await backoff.wait(self._stopping)
        except Exception:  # a decoder bug must end the feeds cleanly, not leave a consumer waiting forever
            log.exception("decoder for %s failed", self._name())
        finally:
            await self._set_status("stopped", None)
            for feed in self.feeds:
                feed.end(discard_queued=True)

    def _name(self) -> str:
        return urlsplit(self.url).hostname or "file"

    async def _source_refusal(self) -> str | None:
        if self.source_check is None:
            return None
        try:
            return await self.source_check(self.url)
        except Exception as error:  # a check that cannot answer refuses: the source is opened only when cleared
            log.exception("source check for %s failed", self._name())
            return f"the address could not be checked ({type(error).__name__})"

    async def _decode_once(self) -> bool:
        """One ffmpeg run; whether it delivered any frame."""
        if self.status[0] not in ("stale", "offline"):
            await self._set_status("connecting", None)  # a retry keeps showing why it is retrying
        self._child = child = FfmpegChild(decoder_arguments(self.url, self.needs, io_timeout_s=self.io_timeout_s),
                                          ffmpeg=self.ffmpeg, stdout=True, stop_signal=signal.SIGTERM, grace_s=5,
                                          last_words=20)
        self.starts += 1
        process = await child.start()
        shape = (self.needs.height, self.needs.width, 3) if self.needs.colour else (self.needs.height, self.needs.width)
        frame_bytes = int(np.prod(shape))
        had_frames = stale = False
        try:
            while not self._stopping.is_set():
                # The first frame may wait for a connection, the RTSP handshake and a keyframe.
                timeout = self.stale_after_s if had_frames else self.stale_after_s + self.io_timeout_s
                try:
                    raw = await asyncio.wait_for(process.stdout.readexactly(frame_bytes), timeout=timeout)
                except TimeoutError:
                    stale = True
                    await self._set_status("stale", f"no frame for {timeout:.0f} s")
                    break
                except asyncio.IncompleteReadError:
                    break  # ffmpeg ended: connection refused, stream gone, or bad URL
                if self._stopping.is_set():
                    # What ffmpeg flushes as it stops (the fps filter's pending frame) is not the camera's next
                    # picture: it comes early, and a tracker would take its plate for the previous car's.
                    break
                had_frames = True
                self.frames_decoded += 1
                await self._set_status("online", None)
                pixels = np.frombuffer(raw, dtype=np.uint8).reshape(shape)
                if self.privacy_masks:
                    pixels = apply_mask_to_frame(pixels, self.privacy_masks)
                frame = DecodedFrame(pixels, time.monotonic(), clock.utcnow())
                for feed in self.feeds:
                    feed.offer(frame)
        finally:
            child.stop()
            kind, detail = await child.finish()
        if not self._stopping.is_set() and not stale:
            await self._set_status("offline", f"{kind}: {detail}")
        return had_frames
