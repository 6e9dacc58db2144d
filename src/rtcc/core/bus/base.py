"""The bus port: publish from any thread, subscribe from the event loop, bounded everywhere."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator

from rtcc.core.events import Event

log = logging.getLogger(__name__)


class Subscription:
    """One subscriber's bounded queue; when it falls behind the oldest events are dropped and counted."""

    def __init__(self, fanout: "LocalFanout", maxsize: int):
        self._fanout = fanout
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=maxsize)
        # The loop the subscriber waits on; deliveries from any other thread are handed to it.
        self._loop = asyncio.get_running_loop()
        self.dropped = 0
        self.closed = False

    def offer(self, event: Event) -> None:
        try:
            same_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            same_loop = False
        if same_loop:
            self._put(event)
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._put, event)

    def _put(self, event: Event) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
            self._fanout.dropped += 1
        self._queue.put_nowait(event)

    async def get(self) -> Event:
        return await self._queue.get()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        if self.closed:
            raise StopAsyncIteration
        return await self._queue.get()

    def close(self) -> None:
        self.closed = True
        self._fanout.remove(self)


class LocalFanout:
    """Delivers each event to every local subscription, on the loop that owns them."""

    def __init__(self, queue_size: int):
        self.queue_size = queue_size
        self.subscriptions: set[Subscription] = set()
        self.delivered = 0
        self.dropped = 0

    def add(self) -> Subscription:
        subscription = Subscription(self, self.queue_size)
        self.subscriptions.add(subscription)
        return subscription

    def remove(self, subscription: Subscription) -> None:
        self.subscriptions.discard(subscription)

    def deliver(self, event: Event) -> None:
        for subscription in list(self.subscriptions):
            subscription.offer(event)
            self.delivered += 1


class EventBus:
    """Base of the adapters. `publish` is thread-safe and never blocks the caller."""

    name = "base"

    def __init__(self, queue_size: int = 1000):
        self.fanout = LocalFanout(queue_size)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.published = 0
        self.publish_failures = 0
        self._lock = threading.Lock()

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        self.loop = None

    def subscribe(self) -> Subscription:
        """A new subscription; call from the event loop, close it when done."""
        return self.fanout.add()

    def publish(self, event: Event) -> None:
        """Send an event to every subscriber of every process sharing this bus."""
        loop = self.loop
        if loop is None or loop.is_closed():
            # Nothing is listening in this process (a CLI command, say): nothing to deliver locally.
            self._publish_remote(event)
            return
        with self._lock:
            self.published += 1
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._dispatch(event)
        else:
            loop.call_soon_threadsafe(self._dispatch, event)

    def _dispatch(self, event: Event) -> None:
        """Runs on the bus loop: deliver the event (overridden by adapters that go remote)."""
        self.fanout.deliver(event)

    def _publish_remote(self, event: Event) -> None:
        """Publish without a running loop; the in-process bus has nowhere to send it."""

    def health(self) -> tuple[bool, str]:
        return (self.loop is not None, "ok" if self.loop is not None else "not started")

    def stats(self) -> dict[str, int]:
        return {
            "published": self.published,
            "delivered": self.fanout.delivered,
            "dropped": self.fanout.dropped,
            "publish_failures": self.publish_failures,
            "subscribers": len(self.fanout.subscriptions),
        }
