"""One live viewer: a bounded queue that skips to the next keyframe when its reader falls behind, and its WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from rtcc.video.fmp4 import InitSegment, MediaFragment

if TYPE_CHECKING:
    from starlette.websockets import WebSocket

    from rtcc.video.live.relay import LiveRelay

log = logging.getLogger(__name__)

# What a viewer's queue holds: ("init", InitSegment), ("fragment", MediaFragment), ("status", dict),
# ("snapshot", JPEG bytes) or ("end", None) when the relay goes away.
QueueItem = tuple[str, Any]


class LiveViewer:
    """What one viewer has yet to receive; never more than `capacity` fragments, whatever the reader does."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.waiting_for_keyframe = True  # a decoder can only start (or restart) at a sync sample
        self.fragments_received = 0
        self.drops = 0
        self._items: deque[QueueItem] = deque()
        self._fragments_queued = 0
        self._ready = asyncio.Event()

    def push_control(self, kind: str, value: Any) -> None:
        """Queue an init segment, a status or the end; these are rare and never dropped."""
        if kind == "init":
            self.waiting_for_keyframe = True  # a new upstream: its first fragment may not be decodable
        self._items.append((kind, value))
        self._ready.set()

    def push_fragment(self, fragment: MediaFragment) -> None:
        """Queue a fragment, or count it dropped: when full, discard the backlog and resume at a keyframe."""
        if self._fragments_queued >= self.capacity:
            self._discard_fragments()
            self.waiting_for_keyframe = True
        if self.waiting_for_keyframe:
            if not fragment.keyframe:
                self.drops += 1
                return
            self.waiting_for_keyframe = False
        self._items.append(("fragment", fragment))
        self._fragments_queued += 1
        self.fragments_received += 1
        self._ready.set()

    def push_snapshot(self, jpeg: bytes) -> None:
        """Queue a still; an unsent older still is replaced (and counted dropped)."""
        before = len(self._items)
        self._items = deque(item for item in self._items if item[0] != "snapshot")
        self.drops += before - len(self._items)
        self._items.append(("snapshot", jpeg))
        self._ready.set()

    def _discard_fragments(self) -> None:
        kept = deque(item for item in self._items if item[0] != "fragment")
        self.drops += len(self._items) - len(kept)
        self._items = kept
        self._fragments_queued = 0

    def pending_fragments(self) -> int:
        """Fragments queued and not yet taken."""
        return self._fragments_queued

    async def next(self) -> QueueItem:
        """The next item to send, waiting until there is one."""
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        kind, value = self._items.popleft()
        if kind == "fragment":
            self._fragments_queued -= 1
        return kind, value

    def take_nowait(self) -> QueueItem | None:
        """The next item, or None when nothing is queued (for tests and benchmarks)."""
        if not self._items:
            return None
        kind, value = self._items.popleft()
        if kind == "fragment":
            self._fragments_queued -= 1
        return kind, value


def init_message(init: InitSegment) -> dict:
    """The JSON a player needs before the init segment's bytes: codec and MIME type for MediaSource."""
    return {"type": "init", "codec": init.codec, "mime": init.mime}


async def serve_live_viewer(websocket: WebSocket, relay: LiveRelay) -> None:
    """Send one accepted WebSocket the relay's stream until either side goes away; never raises for a lost client.

    Messages: text JSON {"type": "init", "codec", "mime"} then the init segment as binary, then one binary
    message per fragment; text JSON {"type": "status", "state", "detail"} when the upstream changes state;
    {"type": "snapshots", "mime": "image/jpeg"} then binary JPEGs when the codec cannot be played live.
    """
    viewer = relay.add_viewer()
    closed = asyncio.create_task(_wait_for_client_close(websocket))
    in_snapshot_mode = False
    try:
        while True:
            upcoming = asyncio.ensure_future(viewer.next())
            done, _ = await asyncio.wait({upcoming, closed}, return_when=asyncio.FIRST_COMPLETED)
            if upcoming not in done:
                upcoming.cancel()
                break
            kind, value = upcoming.result()
            if kind == "fragment":
                await websocket.send_bytes(value.data)
            elif kind == "init":
                in_snapshot_mode = False
                await websocket.send_text(json.dumps(init_message(value)))
                await websocket.send_bytes(value.data)
            elif kind == "status":
                await websocket.send_text(json.dumps({"type": "status", **value}))
            elif kind == "snapshot":
                if not in_snapshot_mode:
                    in_snapshot_mode = True
                    await websocket.send_text(json.dumps({"type": "snapshots", "mime": "image/jpeg"}))
                await websocket.send_bytes(value)
            elif kind == "end":
                with contextlib.suppress(Exception):
                    await websocket.close(code=1001)
                break
    except Exception as error:  # a client that vanished mid-send is the normal way a viewer leaves
        if not (_is_disconnect(error) or closed.done()):
            log.warning("live viewer of camera %s ended by %r", relay.camera_id, error)
    finally:
        closed.cancel()
        relay.remove_viewer(viewer)


async def _wait_for_client_close(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, returning when it disconnects."""
    with contextlib.suppress(Exception):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return


def _is_disconnect(error: Exception) -> bool:
    from starlette.websockets import WebSocketDisconnect

    return isinstance(error, (WebSocketDisconnect, ConnectionError, OSError)) or (
        isinstance(error, RuntimeError) and "close" in str(error).lower())
