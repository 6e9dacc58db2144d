"""The event vocabulary: one class per type, each declaring who may receive it, all round-tripping through JSON."""

import json

import pytest

from rtcc.core.events import Event, event_class, load_vocabulary, make_event

# The fields every event carries on the wire, in the order the console's JS and the NATS peers read them.
WIRE_KEYS = ["type", "id", "occurred_at", "permission", "agency_ori", "camera_groups", "data"]


def concrete_event_classes() -> list[type[Event]]:
    load_vocabulary()
    found, pending = [], list(Event.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "type" in cls.__dict__:
            found.append(cls)
    return found


def sample_of(cls: type[Event]) -> Event:
    """An instance with every field given a value of its declared kind."""
    values = {"int": 7, "str": "x", "float": 1.5, "bool": True}
    fields = {}
    for name, field in cls.model_fields.items():
        if name in ("id", "occurred_at", "agency_ori", "camera_groups"):
            continue
        annotation = str(field.annotation)
        if annotation.startswith("list"):
            fields[name] = [7] if "int" in annotation else ["x"]
        elif annotation.startswith("dict"):
            fields[name] = {"make": "Ford", "colour": None}
        else:
            fields[name] = next(value for kind, value in values.items() if kind in annotation)
    return cls(agency_ori="CA0199900", camera_groups=["traffic"], **fields)


def test_every_event_class_declares_a_unique_type_and_a_permission():
    classes = concrete_event_classes()
    assert len(classes) >= 18
    types = [cls.type for cls in classes]
    assert len(types) == len(set(types)), "an event type is declared twice"
    for cls in classes:
        assert cls.permission and "." in cls.permission, f"{cls.__name__} names no permission"
        assert event_class(cls.type) is cls
        assert cls.__module__.endswith(".events"), f"{cls.__name__} is declared outside its domain's events.py"


@pytest.mark.parametrize("cls", concrete_event_classes(), ids=lambda cls: cls.type)
def test_every_event_round_trips_through_its_wire_form(cls):
    event = sample_of(cls)
    wire = json.loads(event.to_json())
    assert list(wire) == WIRE_KEYS
    assert wire["type"] == cls.type and wire["permission"] == cls.permission
    again = Event.from_json(event.to_json())
    assert type(again) is cls and again == event and again.data == event.data == wire["data"]


def test_data_carries_only_the_fields_given_as_it_always_did():
    deleted = make_event("camera.updated", agency_ori="CA0199900", camera_id=3, deleted=True)
    assert deleted.data == {"camera_id": 3, "deleted": True}
    incident = make_event("incident.updated", incident_id=1, title="Fire", type="fire", priority=1, latitude=34.1,
                          longitude=-118.3, status="open", change="closed")
    assert json.loads(incident.to_json())["data"]["type"] == "fire"  # the incident's type, as the console reads it


def test_a_declaration_that_breaks_the_vocabulary_is_refused():
    with pytest.raises(TypeError, match="permission"):
        type("Unreceivable", (Event,), {"__module__": __name__, "type": "test.unreceivable"})
    with pytest.raises(TypeError, match="declared twice"):
        type("Twice", (Event,), {"__module__": __name__, "type": "user.created", "permission": "users.read"})
    with pytest.raises(ValueError, match="unknown event type"):
        make_event("no.such.type")
    with pytest.raises(ValueError):
        make_event("user.locked", agency_ori="CA0199900", username="gus", surprise=1)  # a field the type lacks


class FakeSession:
    """emit needs only the session's info dict, where the events wait for the commit."""

    def __init__(self):
        self.info = {}


def test_the_receiving_domain_handles_a_plate_alert_in_the_emitting_transaction():
    from rtcc.alpr.events import PlateAlertRaised
    from rtcc.core.events import emit, handlers_of, take_pending
    from rtcc.incidents import handlers as incident_handlers

    assert incident_handlers.put_plate_alert_on_timelines in handlers_of(PlateAlertRaised)
    session = FakeSession()
    alert = make_event("plate.alert", agency_ori="CA0199900", alert_id=1, read_id=2, plate="7ABC123",
                       matched_plate="7ABC123", method="exact", camera_id=None, read_at="2026-01-01T00:00:00.000Z",
                       crop=None, hotlist="stolen", priority=1, reason=None, vehicle={})
    emit(session, alert)  # no camera: the handler has no timeline to add to, and touches no table
    assert take_pending(session) == [alert]
