"""A recorded camera's live fMP4, read from its recorder's ffmpeg and handed to the live relay: one upstream for both."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Protocol

from rtcc.video.fmp4 import (
    Fmp4Error,
    Fmp4Parser,
    InitSegment,
    MediaFragment,
    UnsupportedCodec,
)

log = logging.getLogger(__name__)
READ_CHUNK_BYTES = 256 * 1024


class FeedListener(Protocol):
    """What a live relay following a recorder feed is told, always on the event loop."""

    def on_feed_init(self, init: InitSegment) -> None: ...

    def on_feed_fragment(self, fragment: MediaFragment) -> None: ...

    def on_feed_status(self, state: str, detail: str | None) -> None: ...


class RecorderLiveFeed:
    """The fMP4 one recorder's ffmpeg writes beside its segments; lives as long as the recorder, across ffmpeg restarts.

    It is read continuously whether anyone watches or not (the pipe must never fill and hold ffmpeg up), and
    keeps only the init segment and the fragments since the last keyframe, so a viewer who joins starts at once.
    """

    def __init__(self, *, camera_id: int, url: str, mask_png: Path | None = None, gop_cache_fragments: int = 60) -> None:
        self.camera_id = camera_id
        self.url = url
        self.mask_png = mask_png  # what the recorder burns in; live view may use the feed only with the same mask
        self.gop_cache_fragments = gop_cache_fragments
        self.state = "connecting"  # connecting | live | offline | unsupported | stopped
        self.detail: str | None = None
        self.init: InitSegment | None = None
        self.listeners: set[FeedListener] = set()
        self.fragments = 0
        self.bytes = 0
        self.upstream_starts = 0
        self._gop_cache: list[MediaFragment] = []

    def subscribe(self, listener: FeedListener) -> None:
        """Follow the feed from now; the listener first gets the current status, or init and the cached GOP."""
        self.listeners.add(listener)
        if self.init is not None and self.state == "live":
            listener.on_feed_init(self.init)
            for fragment in self._gop_cache:
                listener.on_feed_fragment(fragment)
        else:
            listener.on_feed_status(self.state, self.detail)

    def unsubscribe(self, listener: FeedListener) -> None:
        """Stop following the feed."""
        self.listeners.discard(listener)

    def stats(self) -> dict:
        """Figures for metrics: state, fragments and bytes read, ffmpeg starts, listeners."""
        return {"state": self.state, "detail": self.detail, "fragments": self.fragments, "bytes": self.bytes,
                "upstream_starts": self.upstream_starts, "listeners": len(self.listeners)}

    # --- what the recorder calls ---
    def upstream_status(self, state: str, detail: str | None = None) -> None:
        """The recorder's state changed (connecting, offline, stale, stopped); a running ffmpeg announces itself by init."""
        if state == "recording":
            return
        state = {"stale": "offline"}.get(state, state)
        if (state, detail) == (self.state, self.detail):
            return
        self.state, self.detail = state, detail
        self.init = None
        self._gop_cache = []
        for listener in list(self.listeners):
            listener.on_feed_status(state, detail)

    async def read_from(self, stream: asyncio.StreamReader) -> None:
        """Read one ffmpeg run's stdout to its end, publishing what it carries; never raises for bad bytes."""
        self.upstream_starts += 1
        parser: Fmp4Parser | None = Fmp4Parser()
        while chunk := await stream.read(READ_CHUNK_BYTES):
            if parser is None:
                continue  # unparseable: keep draining so ffmpeg's live branch never backs up
            try:
                segments = parser.feed(chunk)
            except UnsupportedCodec as error:
                parser = None  # the relay's own upstream knows the fallback (stills) for this codec
                self.upstream_status("unsupported", str(error))
                continue
            except Fmp4Error as error:
                log.warning("live feed of camera %s is not usable fMP4 (%s); recording goes on", self.camera_id, error)
                parser = None
                self.upstream_status("offline", f"bad_stream: {error}")
                continue
            for segment in segments:
                if isinstance(segment, InitSegment):
                    self._publish_init(segment)
                else:
                    self._publish_fragment(segment)

    # --- inside ---
    def _publish_init(self, init: InitSegment) -> None:
        self.init, self.state, self.detail = init, "live", None
        self._gop_cache = []
        for listener in list(self.listeners):
            listener.on_feed_init(init)

    def _publish_fragment(self, fragment: MediaFragment) -> None:
        self.fragments += 1
        self.bytes += len(fragment.data)
        if fragment.keyframe:
            self._gop_cache = [fragment]
        elif self._gop_cache and len(self._gop_cache) < self.gop_cache_fragments:
            self._gop_cache.append(fragment)
        else:
            self._gop_cache = []  # a GOP too long to replay: a new viewer waits for the next keyframe
        for listener in list(self.listeners):
            listener.on_feed_fragment(fragment)
