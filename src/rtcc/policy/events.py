"""Events of the policy engine: its decisions and the changes admins make to what it reads."""

from __future__ import annotations

from rtcc.core.events import Event


class PolicyDecided(Event):
    """The engine decided whether something may leave (or be used for a purpose); refusals are audited as denied."""

    type = "policy.decided"
    permission = "policy.read"
    audit_action = "policy.decide"
    decision_id: int
    action: str
    about: str | None  # what the decision was about, e.g. "camera 12"
    recipient_agency_ori: str | None
    data_class: str
    purpose: str | None
    allowed: bool
    rule: str
    reason: str


class AgencyProfileSet(Event):
    type = "policy.agency_profile_set"
    permission = "policy.read"
    audit_action = "policy.agency_profile_set"
    ori: str
    kind: str
    state: str


class AgreementChanged(Event):
    """An agreement was made, changed, given its document or ended (the audit action says which)."""

    type = "policy.agreement_changed"
    permission = "policy.read"
    agreement_id: int
    recipient_agency_ori: str
    change: str


class PolicyLoaded(Event):
    type = "policy.loaded"
    permission = "policy.read"
    audit_action = "policy.load"
    name: str
    jurisdiction: str
    rules: list[str]
    document_sha256: str


class PurposeAdded(Event):
    type = "policy.purpose_added"
    permission = "policy.read"
    audit_action = "policy.purpose_add"
    code: str
    title: str
