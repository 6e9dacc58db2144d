"""Plate reads from devices over MQTT: a subscriber that stores what it can and counts what it cannot."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiomqtt
from starlette.concurrency import run_in_threadpool

from rtcc.alpr.adapters.formats import PARSERS, MalformedRead, parse_batch
from rtcc.alpr.hotlists import HotlistCache
from rtcc.alpr.reads import ingest
from rtcc.core.database import run_write
from rtcc.core.errors import InvalidInput
from rtcc.core.http import load_json
from rtcc.core.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass
class MqttStats:
    messages: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0  # reads (or whole messages) that could not be stored
    alerts: int = 0
    connected: bool = False


def topic_format(topic: str, frigate_topic: str) -> str | None:
    """Which parser a topic's messages need: rtcc/alpr/<format>/... or Frigate's events topic."""
    if topic == frigate_topic:
        return "frigate"
    parts = topic.split("/")
    if len(parts) >= 3 and parts[0] == "rtcc" and parts[1] == "alpr" and parts[2] in PARSERS:
        return parts[2]
    return None


class PlateReadSubscriber:
    """Subscribes to rtcc/alpr/<format>/# (and Frigate's events); reconnects with backoff; never stops on bad input."""

    def __init__(self, runtime: Runtime, hotlists: HotlistCache):
        self.runtime = runtime
        self.hotlists = hotlists
        self.stats = MqttStats()
        url = urlsplit(runtime.settings.mqtt_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 1883
        self.username, self.password = url.username, url.password
        self.frigate_topic = runtime.settings.mqtt_frigate_topic

    async def run(self) -> None:
        backoff = 1.0
        while True:
            try:
                async with aiomqtt.Client(self.host, self.port, username=self.username, password=self.password,
                                          identifier=f"rtcc-alpr-{id(self):x}") as client:
                    await client.subscribe("rtcc/alpr/#", qos=1)
                    if self.frigate_topic:
                        await client.subscribe(self.frigate_topic, qos=0)
                    self.stats.connected, backoff = True, 1.0
                    async for message in client.messages:
                        await self.handle(str(message.topic), message.payload)
            except aiomqtt.MqttError as error:
                self.stats.connected = False
                log.warning("MQTT %s:%s unavailable (%s); retrying in %.0f s", self.host, self.port, error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60)

    async def handle(self, topic: str, payload: bytes | bytearray | str | None) -> None:
        """One message: parse, store, count; a bad message is logged with its reason and skipped."""
        self.stats.messages += 1
        format = topic_format(topic, self.frigate_topic)
        try:
            if format is None:
                raise MalformedRead(f"no reader format for topic {topic!r}")
            document = load_json(payload if isinstance(payload, (str, bytes, bytearray)) else b"",
                                 max_depth=self.runtime.settings.max_json_depth)
            reads, rejected = parse_batch(document, format)
        except (MalformedRead, InvalidInput, json.JSONDecodeError, UnicodeDecodeError) as error:
            self.stats.rejected += 1
            log.warning("MQTT message on %s rejected: %s", topic, error)
            return
        self.stats.rejected += len(rejected)

        def store():
            # A busy database is waited out (run_write's retries): the message has no one to resend it.
            return run_write(self.runtime.database, lambda db: ingest(
                db, runtime=self.runtime, hotlists=self.hotlists, source=f"mqtt-{format}", reads=reads),
                what=f"MQTT reads on {topic}")

        try:
            report = await run_in_threadpool(store)
        except Exception:  # past the retries: this message is lost (and counted), never the subscriber
            self.stats.rejected += len(reads)
            log.exception("MQTT reads on %s could not be stored", topic)
            return
        self.stats.stored += report.stored
        self.stats.duplicates += report.duplicates
        self.stats.alerts += report.alerts
        self.stats.rejected += len(report.rejected)
