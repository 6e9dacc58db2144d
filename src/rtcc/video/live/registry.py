"""Live view without transcoding: one upstream per watched camera, remuxed to fragmented MP4 for every viewer.

A camera the recording supervisor records has one upstream already, its recorder's ffmpeg; its relay
follows the segment that ffmpeg is writing (RecorderLiveFeed, read only while someone watches) and opens
nothing. Any other camera gets a relay with an ffmpeg of its own, opened on demand and closed when idle.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from rtcc.video.live.commands import live_command, snapshot_command, source_arguments
from rtcc.video.live.relay import LiveRelay, LiveSettings
from rtcc.video.live.viewer import LiveViewer, serve_live_viewer
from rtcc.video.live.recording_feed import RecorderLiveFeed

__all__ = ["LiveRelay", "LiveRelayRegistry", "LiveSettings", "LiveViewer", "RecorderLiveFeed", "live_command",
           "serve_live_viewer", "snapshot_command", "source_arguments"]


class LiveRelayRegistry:
    """The live relays of one server: at most one per camera, started on demand, forgotten when stopped."""

    def __init__(self, settings: LiveSettings | None = None) -> None:
        self.settings = settings or LiveSettings()
        self.relays: dict[int, LiveRelay] = {}
        self.recorder_feeds: dict[int, RecorderLiveFeed] = {}

    def get_or_start(self, camera_id: int, url: str, mask_png: Path | None = None) -> LiveRelay:
        """The camera's running relay, or a new one started now (call from the event loop)."""
        relay = self.relays.get(camera_id)
        if relay is not None and not relay.stopping and (relay.url, relay.mask_png) == (url, mask_png):
            relay.touch()
            return relay
        if relay is not None and not relay.stopping:
            asyncio.create_task(relay.stop())  # the camera's URL changed: its viewers reconnect to the new one
        relay = LiveRelay(camera_id=camera_id, url=url, settings=self.settings, on_stopped=self._forget,
                          mask_png=mask_png, recorder_feed=self._feed_for(camera_id, url, mask_png))
        self.relays[camera_id] = relay
        relay.start()
        return relay

    def new_recorder_feed(self, camera_id: int, url: str, mask_png: Path | None = None) -> RecorderLiveFeed:
        """A feed for a recorder about to start, sized by these live settings (attach it once the recorder runs)."""
        return RecorderLiveFeed(camera_id=camera_id, url=url, mask_png=mask_png,
                                gop_cache_fragments=self.settings.gop_cache_fragments)

    def attach_recorder_feed(self, camera_id: int, feed: RecorderLiveFeed) -> None:
        """From now on the camera's live view comes from its recorder; a relay running its own ffmpeg hands over."""
        self.recorder_feeds[camera_id] = feed
        relay = self.relays.get(camera_id)
        if relay is not None and not relay.stopping and (relay.url, relay.mask_png) == (feed.url, feed.mask_png):
            relay.follow_recorder_feed(feed)

    def detach_recorder_feed(self, camera_id: int, feed: RecorderLiveFeed) -> None:
        """The recorder is going away: a relay that followed it opens an upstream of its own, keeping its viewers."""
        if self.recorder_feeds.get(camera_id) is feed:
            del self.recorder_feeds[camera_id]
        relay = self.relays.get(camera_id)
        if relay is not None and relay.recorder_feed is feed:
            relay.follow_recorder_feed(None)

    def _feed_for(self, camera_id: int, url: str, mask_png: Path | None) -> RecorderLiveFeed | None:
        # Only a feed of the very same source and mask: a recorder not yet restarted after a mask change must
        # never show a viewer less masking than the camera now has.
        feed = self.recorder_feeds.get(camera_id)
        if feed is not None and (feed.url, feed.mask_png) == (url, mask_png) and feed.state != "unsupported":
            return feed
        return None

    def _forget(self, relay: LiveRelay) -> None:
        if self.relays.get(relay.camera_id) is relay:
            del self.relays[relay.camera_id]

    def stats(self) -> dict[int, dict]:
        """Per camera: state, viewers, fragments, drops, bytes, upstream starts, and whose upstream it is."""
        return {camera_id: relay.stats() for camera_id, relay in self.relays.items()}

    async def stop_all(self) -> None:
        """Stop every relay (server shutdown); recorder feeds belong to their recorders."""
        await asyncio.gather(*(relay.stop() for relay in list(self.relays.values())), return_exceptions=True)
