"""Events of retention: policy changes, holds placed and released, purges."""

from __future__ import annotations

from rtcc.core.events import Event


class RetentionPolicyChanged(Event):
    """An admin set a class's policy (by hand or from a preset): a new version is in force."""

    type = "retention.policy_changed"
    permission = "retention.read"
    audit_action = "retention.policy_change"
    data_class: str
    version: int
    keep_for: str
    clock: str
    action: str
    source: str


class LegalHoldPlaced(Event):
    type = "retention.hold_placed"
    permission = "retention.read"
    audit_action = "retention.hold_place"
    hold_id: int
    kind: str
    review_at: str | None = None


class LegalHoldReleased(Event):
    type = "retention.hold_released"
    permission = "retention.read"
    audit_action = "retention.hold_release"
    hold_id: int
    kind: str


class RetentionPurged(Event):
    """The purge engine finished a class run (the system acts: audited as the system)."""

    type = "retention.purged"
    permission = "retention.read"
    audit_action = "retention.purge"
    data_class: str
    receipt_id: int
    count: int
    bytes: int
    skipped_held: int
