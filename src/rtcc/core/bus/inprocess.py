"""The embedded default: events go from publisher to subscribers inside one process."""

from rtcc.core.bus.base import EventBus


class InProcessBus(EventBus):
    """Asyncio fan-out within the server process; nothing leaves it."""

    name = "inprocess"
