"""Choose the bus adapter from RTCC_BUS_URL."""

from rtcc.core.bus.base import EventBus
from rtcc.core.config import CoreSettings


def create_bus(settings: CoreSettings) -> EventBus:
    """inprocess:// gives the in-process bus; nats://… gives NATS JetStream."""
    url = settings.bus_url
    if url.startswith("inprocess"):
        from rtcc.core.bus.inprocess import InProcessBus

        return InProcessBus(settings.bus_subscriber_queue)
    if url.startswith(("nats://", "tls://")):
        from rtcc.core.bus.nats import NatsBus

        return NatsBus(url, stream=settings.bus_stream, queue_size=settings.bus_subscriber_queue,
                       subject_prefix=settings.bus_subject_prefix)
    raise ValueError(f"unsupported RTCC_BUS_URL {url!r}: use inprocess:// or nats://host:port")
