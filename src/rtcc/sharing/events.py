"""Events of field shares."""

from __future__ import annotations

from rtcc.core import clock
from rtcc.core.events import Event
from rtcc.sharing.models import FieldShare


class ShareEvent(Event):
    """What every share event says about the share; those who may send shares hear of it."""

    permission = "shares.send"
    share_id: int
    kind: str
    camera_id: int
    recipient: str
    sender: str
    incident_id: int | None
    expires_at: str

    @staticmethod
    def fields_of(share: FieldShare) -> dict:
        """The share's own fields as every share event carries them."""
        return {"share_id": share.id, "kind": share.kind, "camera_id": share.camera_id,
                "recipient": share.recipient_username, "sender": share.sender_username,
                "incident_id": share.incident_id, "expires_at": clock.iso(share.expires_at)}


class ShareCreated(ShareEvent):
    type = "share.created"
    audit_action = "share.create"


class ShareRevoked(ShareEvent):
    type = "share.revoked"
    audit_action = "share.revoke"
    revoked_by: str


class ShareOpened(ShareEvent):
    """A recipient opened the link (the recipient acts)."""

    type = "share.opened"
    audit_action = "share.open"
    open_count: int
