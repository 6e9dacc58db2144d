"""Typed events: everything that happens is one, published on the bus after its transaction commits.

Each domain declares its own event classes in its `events.py` (one class per type, with its fields, the permission
to receive it and, where a person acts, the audit action); `rtcc.audit.service.record(event=...)` writes the audit
entry and queues the event in one call. A domain that must react to another's event inside the same transaction
registers a handler for it (`handles`), so the emitting domain never imports the receiving one.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from rtcc.core import clock

_PENDING = "rtcc_pending_events"

# The modules that declare the platform's events or register handlers for them. They are imported on first need
# (a lookup by type, an emit) so that every process, a bus listener or a test included, knows the whole vocabulary
# and runs every handler; core names them but never imports them at load time.
VOCABULARY_MODULES = (
    "rtcc.auth.events", "rtcc.audit.events", "rtcc.cameras.events", "rtcc.video.events", "rtcc.alpr.events",
    "rtcc.incidents.events", "rtcc.sharing.events", "rtcc.governance.retention.events", "rtcc.incidents.handlers", "rtcc.policy.events",
    "rtcc.governance.review.events",
    "rtcc.governance.transparency.events",
    "rtcc.governance.releases.events",
)
# What every event carries besides its own fields; the fields of a type travel under "data".
ENVELOPE_FIELDS = frozenset({"id", "occurred_at", "agency_ori", "camera_groups"})


class EventWire(BaseModel):
    """The wire form on the bus and the WebSocket, identical for every type (the console's JS reads it)."""

    type: str
    id: str
    occurred_at: datetime
    permission: str
    agency_ori: str | None = None
    camera_groups: list[str] | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class Event(BaseModel):
    """Base of every event type: who may see it is part of the event itself.

    A subclass sets `type` (unique, dotted), `permission` (what a subscriber needs) and, where a person's act
    produces it, `audit_action`; its own fields are the event's data."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: ClassVar[str]
    permission: ClassVar[str]
    audit_action: ClassVar[str | None] = None  # None: no person's act, or the act names its own (record(action=...))
    registry: ClassVar[dict[str, type[Event]]] = {}

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    occurred_at: datetime = Field(default_factory=clock.utcnow)
    # Visibility: the agency it belongs to (None: every agency) and the camera groups it concerns (None: no camera).
    agency_ori: str | None = None
    camera_groups: list[str] | None = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "type" not in cls.__dict__:
            return  # a base shared by several types (their common fields), not a type of its own
        event_type, permission = cls.__dict__["type"], getattr(cls, "permission", None)
        if not isinstance(event_type, str) or not event_type:
            raise TypeError(f"{cls.__name__} must declare its event type")
        if not isinstance(permission, str) or not permission:
            raise TypeError(f"{cls.__name__} must declare the permission needed to receive it")
        declared = Event.registry.get(event_type)
        if declared is not None and (declared.__module__, declared.__qualname__) != (cls.__module__, cls.__qualname__):
            raise TypeError(f"event type {event_type} is declared twice ({Event.registry[event_type].__name__}, {cls.__name__})")
        taken = ENVELOPE_FIELDS & {field.alias or name for name, field in cls.model_fields.items()
                                   if name not in ENVELOPE_FIELDS}
        if taken:
            raise TypeError(f"{cls.__name__} fields clash with the envelope: {sorted(taken)}")
        Event.registry[event_type] = cls

    @property
    def data(self) -> dict[str, Any]:
        """The type's own fields as they travel: only those given (as make_event always sent), JSON values."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True, exclude=set(ENVELOPE_FIELDS))

    def subject(self) -> str:
        """The bus subject: rtcc.<type>."""
        return f"rtcc.{self.type}"

    def wire(self) -> EventWire:
        return EventWire(type=self.type, id=self.id, occurred_at=self.occurred_at, permission=self.permission,
                         agency_ori=self.agency_ori, camera_groups=self.camera_groups, data=self.data)

    def to_json(self) -> str:
        return self.wire().model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> Event:
        """The typed event a wire message carries; ValueError for a type this process does not know."""
        wire = EventWire.model_validate_json(text)
        return event_class(wire.type)(id=wire.id, occurred_at=wire.occurred_at, agency_ori=wire.agency_ori,
                                      camera_groups=wire.camera_groups, **wire.data)


def load_vocabulary() -> dict[str, type[Event]]:
    """Every declared event type by name (importing the domains' event modules the first time)."""
    global _vocabulary_loaded
    if not _vocabulary_loaded:
        for module in VOCABULARY_MODULES:
            importlib.import_module(module)
        _vocabulary_loaded = True
    return Event.registry


_vocabulary_loaded = False


def event_class(event_type: str) -> type[Event]:
    """The class declaring an event type; ValueError when none does."""
    known = Event.registry if event_type in Event.registry else load_vocabulary()
    if event_type not in known:
        raise ValueError(f"unknown event type {event_type!r}")
    return known[event_type]


def make_event(event_type: str, *, agency_ori: str | None = None, camera_groups: list[str] | None = None, **data: Any) -> Event:
    """An event of a declared type named by its type string (for tests and tools; services build the class)."""
    return event_class(event_type)(agency_ori=agency_ori, camera_groups=camera_groups, **data)


EventT = TypeVar("EventT", bound=Event)
Handler = Callable[[Session, Any], None]
_HANDLERS: dict[type[Event], list[Handler]] = {}


def handles(event_type: type[EventT]) -> Callable[[Callable[[Session, EventT], None]], Callable[[Session, EventT], None]]:
    """Register an in-transaction handler, run by emit in the emitter's session before it commits."""
    def register(handler: Callable[[Session, EventT], None]) -> Callable[[Session, EventT], None]:
        if handler not in _HANDLERS.setdefault(event_type, []):
            _HANDLERS[event_type].append(handler)
        return handler
    return register


def handlers_of(event_type: type[Event]) -> list[Handler]:
    """The handlers registered for an event type, in registration order."""
    load_vocabulary()
    return list(_HANDLERS.get(event_type, []))


def emit(session: Session, event: Event) -> None:
    """Queue an event to publish when (and only if) the session's transaction commits, then run its handlers."""
    session.info.setdefault(_PENDING, []).append(event)
    for handler in handlers_of(type(event)):
        handler(session, event)


def take_pending(session: Session) -> list[Event]:
    """Remove and return the events queued on a session."""
    return session.info.pop(_PENDING, [])
