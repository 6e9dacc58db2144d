"""The policy engine: default deny, rules as data, every decision recorded with the rule that decided it.

`decide` answers whether data of one class may go to one agency for one purpose. Rules are evaluated in this
order, and the first that decides names itself in the decision:

1. `unknown purpose`: a purpose that is not on the managed list is refused;
2. each policy's `prohibit_purposes` rules (the centre's own use included, unless the rule names recipient kinds);
3. `same agency`: the actor's own agency is allowed (nothing leaves);
4. `purpose required`: nothing leaves without a purpose category;
5. `recipient on file`: the recipient's kind and state must be on file;
6. each policy's `recipient_must_be` rules;
7. the recipient's agreements: none is `default deny`; an agreement that ended, has not begun, or does not cover
   the data class or purpose refuses by its own name (`agreement 3`);
8. each policy's `declaration_required` rules, against the covering agreement;
9. the covering agreement allows, by its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc.audit import service as audit
from rtcc.auth.models import Agency
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import InvalidInput, PermissionDenied
from rtcc.core.keys import KeyRing
from rtcc.policy.events import PolicyDecided
from rtcc.policy.models import ACTIONS, DATA_CLASSES, AgencyProfile, Agreement, Policy, PolicyDecision
from rtcc.policy.presets import RuleSpec
from rtcc.policy.purposes import find_purpose, require_category

SAME_AGENCY = "same agency"
DEFAULT_DENY = "default deny"
UNKNOWN_PURPOSE = "unknown purpose"
PURPOSE_REQUIRED = "purpose required"
RECIPIENT_ON_FILE = "recipient on file"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str
    reason: str
    decision_id: int | None = None


class PolicyRefused(PermissionDenied):
    """Refused by policy: the message names the rule; the decision is already on record in the caller's session.

    The caller commits its session before answering (it wrote nothing else), so the refusal stays in the trail."""

    code = "policy_refused"

    def __init__(self, decision: Decision, *, what: str):
        super().__init__(f"{what} refused by rule '{decision.rule}': {decision.reason}.",
                         details={"rule": decision.rule, "decision_id": decision.decision_id})
        self.decision = decision


def agreement_name(agreement: Agreement) -> str:
    return f"agreement {agreement.id}"


def rules_in_force(session: Session) -> list[RuleSpec]:
    """Every rule of every loaded policy, in the order the policies were loaded."""
    policies = session.execute(select(Policy).order_by(Policy.id)).scalars()
    return [RuleSpec.model_validate(rule) for policy in policies for rule in policy.rules]


def evaluate(session: Session, *, actor_agency_ori: str | None, recipient_agency_ori: str | None, data_class: str,
             purpose: str | None, now: datetime | None = None) -> Decision:
    """What the rules say, without recording anything (decide records it)."""
    now = now or clock.utcnow()
    rules = rules_in_force(session)
    recipient = session.execute(select(Agency).where(Agency.ori == recipient_agency_ori)).scalar_one_or_none()
    profile = session.get(AgencyProfile, recipient.id) if recipient else None
    if purpose is not None and find_purpose(session, purpose) is None:
        return Decision(False, UNKNOWN_PURPOSE, f"purpose {purpose} is not on the managed list")
    for rule in rules:
        if (rule.kind == "prohibit_purposes" and rule.covers(data_class) and purpose in rule.purposes
                and (not rule.agency_kinds or (profile is not None and profile.kind in rule.agency_kinds))):
            return Decision(False, rule.name, rule.reason)
    if recipient_agency_ori == actor_agency_ori:
        return Decision(True, SAME_AGENCY, "the data stays inside the agency")
    if purpose is None:
        return Decision(False, PURPOSE_REQUIRED, "data leaving the agency needs a purpose category")
    if recipient is None or profile is None:
        return Decision(False, RECIPIENT_ON_FILE, f"agency {recipient_agency_ori} has no kind and state on file")
    for rule in rules:
        if rule.kind == "recipient_must_be" and rule.covers(data_class):
            if (rule.states and profile.state not in rule.states) or (rule.agency_kinds and profile.kind not in rule.agency_kinds):
                return Decision(False, rule.name, f"{rule.reason} ({recipient.ori} is {profile.kind}, {profile.state})")
    agreement, refusal = _covering_agreement(session, recipient=recipient, data_class=data_class, purpose=purpose, now=now)
    if agreement is None:
        return refusal
    for rule in rules:
        if (rule.kind == "declaration_required" and rule.covers(data_class) and profile.state not in rule.outside_states
                and not agreement.declaration_signed):
            return Decision(False, rule.name, f"{rule.reason}; {agreement_name(agreement)} has none")
    return Decision(True, agreement_name(agreement), f"{agreement.title} covers {data_class} for purpose {purpose}")


def _covering_agreement(session: Session, *, recipient: Agency, data_class: str, purpose: str,
                        now: datetime) -> tuple[Agreement | None, Decision]:
    agreements = list(session.execute(
        select(Agreement).where(Agreement.agency_id == recipient.id).order_by(Agreement.id)).scalars())
    if not agreements:
        return None, Decision(False, DEFAULT_DENY, f"no sharing agreement with {recipient.ori}")
    refusal = None
    for agreement in agreements:
        if agreement.ended_at is not None and agreement.ended_at <= now:
            why = f"it was ended on {clock.iso(agreement.ended_at)}"
        elif agreement.expires_at <= now:
            why = f"it expired on {clock.iso(agreement.expires_at)}"
        elif agreement.starts_at > now:
            why = f"it begins on {clock.iso(agreement.starts_at)}"
        elif data_class not in agreement.data_classes:
            why = f"it covers {', '.join(agreement.data_classes)}, not {data_class}"
        elif purpose not in agreement.purposes:
            why = f"it allows purposes {', '.join(agreement.purposes)}, not {purpose}"
        else:
            return agreement, Decision(True, agreement_name(agreement), "")
        refusal = refusal or Decision(False, agreement_name(agreement), f"{agreement_name(agreement)} does not allow it: {why}")
    return None, refusal


def decide(session: Session, *, keys: KeyRing, actor: Actor, recipient_agency: str | None, data_class: str,
           purpose: str | None, action: str, subject: str | None = None) -> Decision:
    """Decide, record the decision and audit it (a refusal as denied), all in the caller's transaction."""
    if data_class not in DATA_CLASSES:
        raise InvalidInput(f"Unknown data class {data_class!r}.", code="unknown_data_class")
    if action not in ACTIONS:
        raise InvalidInput(f"Unknown policy action {action!r}.", code="unknown_policy_action")
    decision = evaluate(session, actor_agency_ori=actor.agency_ori, recipient_agency_ori=recipient_agency,
                        data_class=data_class, purpose=purpose)
    row = PolicyDecision(at=clock.utcnow(), action=action, subject=subject, actor_username=actor.username,
                         actor_agency_ori=actor.agency_ori, recipient_agency_ori=recipient_agency, data_class=data_class,
                         purpose=purpose, allowed=decision.allowed, rule=decision.rule, reason=decision.reason)
    session.add(row)
    session.flush()
    audit.record(session, keys=keys, actor=actor, outcome="success" if decision.allowed else "denied",
                 event=PolicyDecided(agency_ori=actor.agency_ori, decision_id=row.id, action=action, about=subject,
                                     recipient_agency_ori=recipient_agency, data_class=data_class, purpose=purpose,
                                     allowed=decision.allowed, rule=decision.rule, reason=decision.reason),
                 object_type="policy_decision", object_id=row.id,
                 details={"action": action, "recipient": recipient_agency, "data_class": data_class, "purpose_category": purpose,
                          "rule": decision.rule, "allowed": decision.allowed})
    return Decision(decision.allowed, decision.rule, decision.reason, row.id)


def require(session: Session, *, keys: KeyRing, actor: Actor, recipient_agency: str | None, data_class: str,
            purpose: str | None, action: str, what: str, subject: str | None = None) -> Decision:
    """decide, and raise PolicyRefused (naming the rule) when refused."""
    decision = decide(session, keys=keys, actor=actor, recipient_agency=recipient_agency, data_class=data_class,
                      purpose=purpose, action=action, subject=subject)
    if not decision.allowed:
        raise PolicyRefused(decision, what=what)
    return decision


def check_use(session: Session, *, keys: KeyRing, actor: Actor, data_class: str, purpose: str | None, action: str,
              subject: str | None = None) -> str:
    """A use inside the agency (a search, an export) under a purpose category; returns the category's code.

    A missing or unknown category is bad input, refused before anything is recorded; a prohibited one is refused
    (recorded, then PolicyRefused naming the rule). An allowed use is recorded by the caller's own audit record,
    which carries the category, not as a decision."""
    code = require_category(session, purpose).code
    decision = evaluate(session, actor_agency_ori=actor.agency_ori, recipient_agency_ori=actor.agency_ori,
                        data_class=data_class, purpose=code)
    if not decision.allowed:
        require(session, keys=keys, actor=actor, recipient_agency=actor.agency_ori, data_class=data_class,
                purpose=code, action=action, subject=subject, what=f"A {action} for purpose {code}")
    return code
