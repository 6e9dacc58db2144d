"""NATS JetStream adapter: events persist in a stream and reach every process subscribed to it."""

from __future__ import annotations

import asyncio
import logging

import nats
from nats.js.api import DeliverPolicy, StreamConfig

from rtcc.core.bus.base import EventBus
from rtcc.core.events import Event

log = logging.getLogger(__name__)


class NatsBus(EventBus):
    """Publishes to JetStream subject <prefix>.<type>; one ordered consumer per process fans out locally."""

    name = "nats"

    def __init__(self, url: str, stream: str = "RTCC", queue_size: int = 1000, max_age_seconds: int = 86_400,
                 subject_prefix: str = "rtcc"):
        super().__init__(queue_size)
        self.url = url
        self.stream = stream
        # A stream owns its subjects: a second stream on the same subjects is refused by JetStream, so each
        # deployment (or test run) sharing a NATS server has its own prefix.
        self.subject_prefix = subject_prefix
        self.max_age_seconds = max_age_seconds
        self.connection = None
        self.jetstream = None
        self._consumer = None

    async def start(self) -> None:
        await super().start()
        self.connection = await nats.connect(
            self.url, connect_timeout=5, max_reconnect_attempts=-1, reconnect_time_wait=1, name="rtcc"
        )
        self.jetstream = self.connection.jetstream()
        config = StreamConfig(name=self.stream, subjects=[f"{self.subject_prefix}.>"], max_age=float(self.max_age_seconds))
        try:
            await self.jetstream.add_stream(config)
        except Exception:  # already exists with another config: keep it, update what we own
            await self.jetstream.update_stream(config)
        self._consumer = await self.jetstream.subscribe(
            f"{self.subject_prefix}.>", cb=self._on_message, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
        )

    def subject_of(self, event: Event) -> str:
        """The NATS subject an event goes out on: <prefix>.<type> (rtcc.user.created by default)."""
        return f"{self.subject_prefix}.{event.type}"

    async def stop(self) -> None:
        if self.connection is not None:
            try:
                await self.connection.drain()
            except Exception as error:  # closing must not fail shutdown
                log.warning("nats drain failed: %s", error)
        self.connection = None
        await super().stop()

    async def _on_message(self, message) -> None:
        try:
            event = Event.from_json(message.data)
        except Exception as error:  # a foreign or corrupt message must not stop the feed
            log.warning("dropping undecodable bus message on %s: %s", message.subject, error)
            return
        self.fanout.deliver(event)

    def _dispatch(self, event: Event) -> None:
        # Local subscribers hear the event when it comes back from JetStream, like every other process.
        asyncio.ensure_future(self._send(event))

    async def _send(self, event: Event) -> None:
        try:
            await self.jetstream.publish(self.subject_of(event), event.to_json().encode(), timeout=5)
        except Exception as error:
            self.publish_failures += 1
            log.error("event %s not published to NATS: %s", event.type, error)

    def _publish_remote(self, event: Event) -> None:
        # A CLI command has no long-running loop: connect, publish, close.
        async def once() -> None:
            connection = await nats.connect(self.url, connect_timeout=5)
            try:
                await connection.jetstream().publish(self.subject_of(event), event.to_json().encode(), timeout=5)
            finally:
                await connection.close()

        try:
            asyncio.run(once())
            self.published += 1
        except Exception as error:
            self.publish_failures += 1
            log.error("event %s not published to NATS: %s", event.type, error)

    def health(self) -> tuple[bool, str]:
        if self.connection is None:
            return False, "not connected"
        if not self.connection.is_connected:
            return False, "disconnected"
        return True, "ok"
