"""The wired-up process: settings, database, keys and bus, built once and handed to services."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import event as sqlalchemy_event

from rtcc.core.bus import EventBus, create_bus
from rtcc.core.config import Settings
from rtcc.core.database import Database
from rtcc.core.events import take_pending
from rtcc.core.keys import KeyRing


@dataclass
class Runtime:
    """Everything a service may need from the outside world."""

    settings: Settings
    database: Database
    keys: KeyRing
    bus: EventBus

    def close(self) -> None:
        self.database.dispose()


def build_runtime(settings: Settings, *, bus: EventBus | None = None) -> Runtime:
    """Wire the adapters named by the settings; events leave only after their transaction commits."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings)
    runtime = Runtime(settings=settings, database=database, keys=KeyRing(settings.keys_dir), bus=bus or create_bus(settings))

    @sqlalchemy_event.listens_for(database.session_factory, "after_commit")
    def _publish_committed(session):
        for pending in take_pending(session):
            runtime.bus.publish(pending)

    @sqlalchemy_event.listens_for(database.session_factory, "after_rollback")
    def _discard_rolled_back(session):
        take_pending(session)

    return runtime
