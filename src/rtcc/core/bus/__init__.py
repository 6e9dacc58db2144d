"""The event bus port and its two adapters: in-process (default) and NATS JetStream."""

from rtcc.core.bus.base import EventBus, Subscription
from rtcc.core.bus.factory import create_bus

__all__ = ["EventBus", "Subscription", "create_bus"]
