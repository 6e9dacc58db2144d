"""A recorded camera's live view, read from the segment its recorder is writing: one upstream, and free when unwatched.

The recorder's ffmpeg writes nothing for live view. Its segments are fragmented MP4 in short fragments
(recorder_outputs.py), flushed as written, so the open segment is a live stream on disk. While someone
watches, the feed tails it: the first viewer starts at the segment's last keyframe fragment (at once, no
waiting for the next keyframe), then follows the file as it grows, and at each rollover goes on with the
next segment, re-basing its decode times (segments restart at 0, reset_timestamps=1) so a player's timeline
runs on. Audio, if recorded, is left out (live view is video only). With nobody watching nothing is read.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from pathlib import Path
from typing import Protocol

from rtcc.video.fmp4 import (
    Fmp4Error,
    Fmp4Parser,
    InitSegment,
    MediaFragment,
    UnsupportedCodec,
    VideoTrack,
    fragment_decode_span,
    live_fragment,
    video_only_init,
)
from rtcc.video.recording.storage import RecordingSession

log = logging.getLogger(__name__)
READ_CHUNK_BYTES = 256 * 1024
POLL_SECONDS = 0.04  # how often a watched segment is checked for growth: well under one 100 ms fragment


class FeedListener(Protocol):
    """What a live relay following a recorder feed is told, always on the event loop."""

    def on_feed_init(self, init: InitSegment) -> None: ...

    def on_feed_fragment(self, fragment: MediaFragment) -> None: ...

    def on_feed_status(self, state: str, detail: str | None) -> None: ...


class RecorderLiveFeed:
    """Live view from the segments one recorder writes; lives as long as the recorder, across ffmpeg restarts.

    Reads only while it has listeners; keeps the fragments since the last keyframe meanwhile, so a second
    viewer starts at once too.
    """

    def __init__(self, *, camera_id: int, url: str, mask_png: Path | None = None, gop_cache_fragments: int = 60,
                 poll_seconds: float = POLL_SECONDS) -> None:
        self.camera_id = camera_id
        self.url = url
        self.mask_png = mask_png  # what the recorder burns in; live view may use the feed only with the same mask
        self.gop_cache_fragments = gop_cache_fragments
        self.poll_seconds = poll_seconds
        self.state = "connecting"  # connecting | live | offline | unsupported | stopped
        self.detail: str | None = None
        self.init: InitSegment | None = None
        self.listeners: set[FeedListener] = set()
        self.fragments = 0
        self.bytes = 0
        self.upstream_starts = 0
        self.segments_followed = 0
        self._gop_cache: list[MediaFragment] = []
        self._session: RecordingSession | None = None
        self._session_changed = asyncio.Event()
        self._tail: asyncio.Task | None = None

    def subscribe(self, listener: FeedListener) -> None:
        """Follow the feed from now; the listener first gets the current status, or init and the cached GOP."""
        self.listeners.add(listener)
        if self.init is not None and self.state == "live":
            listener.on_feed_init(self.init)
            for fragment in self._gop_cache:
                listener.on_feed_fragment(fragment)
        else:
            listener.on_feed_status(self.state, self.detail)
        if self._tail is None or self._tail.done():
            self._tail = asyncio.create_task(self._follow_segments(), name=f"live-feed-{self.camera_id}")

    def unsubscribe(self, listener: FeedListener) -> None:
        """Stop following the feed; the last listener to leave stops the reading."""
        self.listeners.discard(listener)
        if not self.listeners and self._tail is not None:
            self._tail.cancel()
            self._tail = None
            self._forget_picture()

    def stats(self) -> dict:
        """Figures for metrics: state, fragments and bytes read, ffmpeg starts, segments followed, listeners."""
        return {"state": self.state, "detail": self.detail, "fragments": self.fragments, "bytes": self.bytes,
                "upstream_starts": self.upstream_starts, "segments_followed": self.segments_followed,
                "listeners": len(self.listeners), "reading": self._tail is not None and not self._tail.done()}

    # --- what the recorder calls ---
    def upstream_status(self, state: str, detail: str | None = None) -> None:
        """The recorder's state changed (connecting, offline, stale, stopped); a readable segment announces itself by init."""
        if state == "recording":
            return
        state = {"stale": "offline"}.get(state, state)
        if (state, detail) == (self.state, self.detail):
            return
        self.state, self.detail = state, detail
        self._forget_picture()
        for listener in list(self.listeners):
            listener.on_feed_status(state, detail)

    async def follow_session(self, session: RecordingSession, process: asyncio.subprocess.Process) -> None:
        """Offer one ffmpeg run's segments to viewers until that ffmpeg exits."""
        self.upstream_starts += 1
        self._session = session
        self._session_changed.set()
        try:
            await process.wait()
        finally:
            if self._session is session:
                self._session = None
                self._session_changed.set()

    # --- inside ---
    def _forget_picture(self) -> None:
        self.init = None
        self._gop_cache = []
        if self.state == "live":
            self.state = "connecting"

    async def _follow_segments(self) -> None:
        """Tail the recorder's sessions, one after another, while anyone listens."""
        try:
            while self.listeners:
                self._session_changed.clear()
                session = self._session
                if session is None:
                    await self._session_changed.wait()
                    continue
                try:
                    await _SessionTail(self, session).run()
                except UnsupportedCodec as error:
                    self.upstream_status("unsupported", str(error))
                    await self._session_changed.wait()  # the relay goes to its own fallback; wait for another run
                except (Fmp4Error, OSError) as error:
                    log.warning("live view of camera %s cannot read its segments (%s); recording goes on",
                                self.camera_id, error)
                    self.upstream_status("offline", f"bad_stream: {error}")
                    await self._session_changed.wait()
        except asyncio.CancelledError:
            pass

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


class _SessionTail:
    """Reading one ffmpeg run's segments in order, as they are written, on one decode timeline."""

    def __init__(self, feed: RecorderLiveFeed, session: RecordingSession) -> None:
        self.feed = feed
        self.session = session
        self.track: VideoTrack | None = None
        self.trex_flags: int | None = None
        self.timeline_end = 0  # decode time (rebased) just after the last fragment sent
        self.fragment_number = 0

    def _segment_path(self, index: int) -> Path:
        return self.session.incoming / f"{self.session.name}_{index:06d}.mp4"

    def _open_segment_index(self) -> int | None:
        """The highest-numbered segment of the session still in incoming: the one being written."""
        pattern = re.compile(re.escape(self.session.name) + r"_(\d{6})\.mp4$")
        numbers = [int(match.group(1)) for entry in os.scandir(self.session.incoming)
                   if (match := pattern.match(entry.name))]
        return max(numbers) if numbers else None

    def _ended(self) -> bool:
        return self.feed._session is not self.session

    async def run(self) -> None:
        index = None
        while index is None:
            if self._ended():
                return
            index = await asyncio.to_thread(self._open_segment_index)
            if index is None:
                await asyncio.sleep(self.feed.poll_seconds * 5)
        first = True
        while self.feed.listeners:
            try:
                handle = open(self._segment_path(index), "rb")  # noqa: SIM115, ASYNC230 - held across awaits; a local file opens at once
            except FileNotFoundError:
                if self._ended():
                    return
                # Closed and moved away before we got to it (we fell a segment behind): go to the open one.
                newest = await asyncio.to_thread(self._open_segment_index)
                if newest is not None and newest > index:
                    index = newest
                else:
                    await asyncio.sleep(self.feed.poll_seconds)
                continue
            with handle:
                if not await self._follow_file(handle, index, start_at_last_keyframe=first):
                    return
            first = False
            index += 1
            self.feed.segments_followed += 1

    async def _follow_file(self, handle, index: int, *, start_at_last_keyframe: bool) -> bool:
        """Send one segment's fragments as they are written; False when the session ended with it."""
        parser = Fmp4Parser()
        offset: int | None = None  # added to this segment's decode times
        # The part already written, read at once; a new viewer starts at its last keyframe.
        pending = self._video_fragments(parser, await asyncio.to_thread(handle.read))
        if start_at_last_keyframe:
            keyframes = [position for position, fragment in enumerate(pending) if fragment.keyframe]
            pending = pending[keyframes[-1]:] if keyframes else []
        while True:
            for fragment in pending:
                start, end = fragment_decode_span(fragment, self.track)
                if offset is None:
                    offset = self.timeline_end - start if self.fragment_number else 0
                self.fragment_number += 1
                self.timeline_end = end + offset
                if offset:
                    fragment = live_fragment(fragment, self.track, offset, self.trex_flags)
                self.feed._publish_fragment(fragment)
            chunk = handle.read(READ_CHUNK_BYTES)  # a regular file: returns at once with what is there
            if chunk:
                pending = self._video_fragments(parser, chunk)
                continue
            pending = []
            # Nothing new: the segment is done once its successor exists (ffmpeg closed this one first).
            if self._segment_path(index + 1).exists() or not self._segment_path(index).exists():
                if not (chunk := handle.read()):
                    return True
                pending = self._video_fragments(parser, chunk)
                continue
            if self._ended():
                pending = self._video_fragments(parser, handle.read())
                if not pending:
                    return False
                continue
            await asyncio.sleep(self.feed.poll_seconds)

    def _video_fragments(self, parser: Fmp4Parser, data: bytes) -> list[MediaFragment]:
        """The video-only fragments these bytes complete (an init among them is taken on the way)."""
        fragments = []
        for item in parser.feed(data) if data else []:
            if isinstance(item, InitSegment):
                self._take_init(item)
            elif self.track is not None and (video := live_fragment(item, self.track, 0, self.trex_flags)):
                fragments.append(video)
        return fragments

    def _take_init(self, init: InitSegment) -> None:
        video_init, track = video_only_init(init)
        if self.feed.init is not None and self.track is not None and video_init.codec == self.feed.init.codec:
            return  # the next segment of the same run: same stream, the player keeps its init
        self.track, self.trex_flags = track, video_init.track_default_flags
        self.feed._publish_init(video_init)

