"""Events of the audit chain."""

from __future__ import annotations

from rtcc.core.events import Event


class AuditRecorded(Event):
    """A record was appended to the chain (auditors watch the trail live)."""

    type = "audit.recorded"
    permission = "audit.read"
    seq: int
    action: str
    outcome: str
    username: str | None
    object_type: str | None
    object_id: str | None
