"""One call records a person's act: exactly one audit entry and one event, committed (or discarded) together."""

import pytest
from sqlalchemy import select

from support import create_person, sign_in
from rtcc.audit.models import AuditRecord
from rtcc.auth import service as accounts
from rtcc.core.actor import SYSTEM


def published_to(runtime, monkeypatch) -> list:
    """What the bus is handed after each commit, instead of sending it."""
    published = []
    monkeypatch.setattr(runtime.bus, "publish", published.append)
    return published


def audit_entries(runtime, action: str, object_id: str) -> list[AuditRecord]:
    with runtime.database.session() as db:
        return list(db.execute(select(AuditRecord).where(AuditRecord.action == action,
                                                         AuditRecord.object_id == object_id)).scalars())


def test_a_person_creating_an_account_leaves_one_audit_entry_and_one_event(client, runtime, monkeypatch):
    admin = sign_in(client, create_person(runtime, "root", "admin"))
    client.headers["x-csrf-token"] = admin.csrf_token
    published = published_to(runtime, monkeypatch)

    created = client.post("/api/v1/users", json={"username": "newbie", "role": "analyst", "agency_ori": "CA0199900"})

    assert created.status_code == 201, created.text
    [entry] = audit_entries(runtime, "user.create", "newbie")
    assert entry.username == "root"
    assert [event.type for event in published] == ["audit.recorded", "user.created"]
    recorded, account = published
    assert recorded.data["seq"] == entry.seq and recorded.data["action"] == "user.create"
    assert account.data == {"username": "newbie", "role": "analyst"} and account.agency_ori == "CA0199900"


def test_one_event_type_names_the_act_it_was_audited_as(client, runtime, monkeypatch):
    admin = sign_in(client, create_person(runtime, "root", "admin"))
    client.headers["x-csrf-token"] = admin.csrf_token
    create_person(runtime, "gus", "analyst")
    published = published_to(runtime, monkeypatch)

    assert client.post("/api/v1/users/gus/disable", json={"reason": "left the unit"}).status_code == 200

    assert len(audit_entries(runtime, "user.disable", "gus")) == 1
    assert not audit_entries(runtime, "user.update", "gus")
    assert [(event.type, event.data.get("changed")) for event in published] == [
        ("audit.recorded", None), ("user.updated", ["disabled"])]


def test_a_rolled_back_act_leaves_neither_its_audit_entry_nor_its_event(runtime, monkeypatch):
    published = published_to(runtime, monkeypatch)
    with pytest.raises(RuntimeError):
        with runtime.database.session() as db:
            accounts.ensure_agency(db, runtime=runtime, ori="CA0199900", name="Test")
            accounts.create_user(db, runtime=runtime, actor=SYSTEM, username="ghost", role="analyst",
                                 agency_ori="CA0199900")
            raise RuntimeError("the request failed after the act")
    assert not audit_entries(runtime, "user.create", "ghost")
    assert not [event for event in published if event.type == "user.created"]
