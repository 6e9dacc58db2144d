"""Events of retention: policy changes, holds placed and released, cases closed and reopened, purges."""

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


class CaseClosed(Event):
    """A supervisor closed a case: what carries its number under clock case_closed starts its clock now."""

    type = "retention.case_closed"
    permission = "retention.read"
    audit_action = "retention.case_close"
    case_number: str


class CaseReopened(Event):
    """A supervisor reopened a closed case: its clock stops, and what carries its number is kept again."""

    type = "retention.case_reopened"
    permission = "retention.read"
    audit_action = "retention.case_reopen"
    case_number: str


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
