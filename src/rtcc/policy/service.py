"""What admins do with the policy engine's data (agencies' kinds, agreements, policies, purposes), and the figures
others read from its decisions. Every change is audited in the caller's transaction."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rtcc.audit import service as audit
from rtcc.auth import scope
from rtcc.auth import service as accounts
from rtcc.auth.models import Agency
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from rtcc.core.runtime import Runtime
from rtcc.policy import presets
from rtcc.policy.events import AgencyProfileSet, AgreementChanged, PolicyLoaded, PurposeAdded
from rtcc.policy.models import AGENCY_KINDS, DATA_CLASSES, AgencyProfile, Agreement, Policy, PolicyDecision, Purpose
from rtcc.policy.purposes import CODE_PATTERN, find_purpose, require_purpose, standard_purposes

# Signed agreements arrive as PDF; the bytes must say so too (a PDF begins with "%PDF-", ISO 32000-1 section 7.5.2).
DOCUMENT_TYPES = {"application/pdf": b"%PDF-"}
DECISION_LIST_LIMIT = 500
STATE_PATTERN = re.compile(r"^[A-Z]{2}$")


# --- agencies' kind and state ------------------------------------------------------------------------------

def profile_of(session: Session, agency: Agency) -> AgencyProfile | None:
    return session.get(AgencyProfile, agency.id)


def set_agency_profile(session: Session, *, runtime: Runtime, actor: Actor, ori: str, kind: str,
                       state: str) -> tuple[Agency, AgencyProfile]:
    """Record what kind of agency this is and its state (the engine refuses to send to one it cannot place)."""
    agency = accounts.get_agency(session, ori=ori.strip().upper())
    state = state.strip().upper()
    if kind not in AGENCY_KINDS:
        raise InvalidInput(f"Agency kind must be one of {', '.join(AGENCY_KINDS)}.", code="invalid_agency_kind")
    if not STATE_PATTERN.match(state):
        raise InvalidInput("State must be a two-letter USPS code such as CA.", code="invalid_state")
    profile = profile_of(session, agency) or AgencyProfile(agency_id=agency.id)
    profile.kind, profile.state = kind, state
    profile.updated_at, profile.updated_by = clock.utcnow(), actor.username
    session.add(profile)
    session.flush()
    audit.record(session, keys=runtime.keys, actor=actor, event=AgencyProfileSet(ori=agency.ori, kind=kind, state=state),
                 object_type="agency", object_id=agency.ori, details={"kind": kind, "state": state})
    return agency, profile


def list_agency_profiles(session: Session) -> list[tuple[Agency, AgencyProfile | None]]:
    rows = session.execute(select(Agency, AgencyProfile).outerjoin(AgencyProfile, AgencyProfile.agency_id == Agency.id)
                           .order_by(Agency.ori)).all()
    return [(agency, profile) for agency, profile in rows]


# --- agreements ----------------------------------------------------------------------------------------------

@dataclass
class AgreementTerms:
    """What an admin states about an agreement (create: all; change: those not None)."""

    title: str | None = None
    data_classes: list[str] | None = None
    purposes: list[str] | None = None
    starts_at: datetime | None = None
    expires_at: datetime | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    declaration_signed: bool | None = None


def _check_terms(session: Session, agreement: Agreement) -> None:
    unknown = sorted(set(agreement.data_classes) - set(DATA_CLASSES))
    if unknown or not agreement.data_classes:
        raise InvalidInput(f"Data classes must be some of {', '.join(DATA_CLASSES)}"
                           + (f" ({', '.join(unknown)} is not)." if unknown else "."), code="invalid_data_class")
    if not agreement.purposes:
        raise InvalidInput("An agreement names the purposes it allows.", code="unknown_purpose_category")
    agreement.purposes = sorted({require_purpose(session, code).code for code in agreement.purposes})
    if agreement.expires_at <= agreement.starts_at:
        raise InvalidInput(f"The agreement expires ({clock.iso(agreement.expires_at)}) before it starts "
                           f"({clock.iso(agreement.starts_at)}): the dates are reversed.", code="invalid_agreement_dates")


def create_agreement(session: Session, *, runtime: Runtime, actor: Actor, agency_ori: str,
                     terms: AgreementTerms) -> Agreement:
    agency = accounts.get_agency(session, ori=agency_ori.strip().upper())
    if agency.ori == actor.agency_ori:
        raise InvalidInput("An agreement is with another agency, not one's own.", code="agreement_with_self")
    agreement = Agreement(agency_id=agency.id, title=terms.title, data_classes=list(terms.data_classes or []),
                          purposes=list(terms.purposes or []), starts_at=terms.starts_at, expires_at=terms.expires_at,
                          contact_name=terms.contact_name, contact_email=terms.contact_email,
                          declaration_signed=bool(terms.declaration_signed), created_at=clock.utcnow(),
                          created_by=actor.username)
    _check_terms(session, agreement)
    session.add(agreement)
    session.flush()
    _audit_agreement(session, runtime=runtime, actor=actor, agreement=agreement, agency=agency, change="created")
    return agreement


def get_agreement(session: Session, agreement_id: int) -> Agreement:
    agreement = session.get(Agreement, agreement_id)
    if agreement is None:
        raise NotFound(f"No agreement {agreement_id}.", code="agreement_not_found")
    return agreement


def agreement_agency(session: Session, agreement: Agreement) -> Agency:
    return session.get(Agency, agreement.agency_id)


def list_agreements(session: Session) -> list[Agreement]:
    return list(session.execute(select(Agreement).order_by(Agreement.id)).scalars())


def change_agreement(session: Session, *, runtime: Runtime, actor: Actor, agreement_id: int,
                     terms: AgreementTerms) -> Agreement:
    """Change the terms; a change that would leave them invalid (reversed dates) is refused and nothing changes."""
    agreement = get_agreement(session, agreement_id)
    before = {field: getattr(agreement, field) for field in vars(terms)}
    changed = {field: value for field, value in vars(terms).items() if value is not None}
    with session.no_autoflush:
        for field, value in changed.items():
            setattr(agreement, field, value)
        try:
            _check_terms(session, agreement)
        except InvalidInput:
            for field, value in before.items():
                setattr(agreement, field, value)
            raise
    _audit_agreement(session, runtime=runtime, actor=actor, agreement=agreement, agency=agreement_agency(session, agreement),
                     change="changed", details={"fields": sorted(changed)})
    return agreement


def end_agreement(session: Session, *, runtime: Runtime, actor: Actor, agreement_id: int) -> Agreement:
    """End an agreement now (kept on record, so past decisions still name it); ending twice changes nothing."""
    agreement = get_agreement(session, agreement_id)
    if agreement.ended_at is None:
        agreement.ended_at, agreement.ended_by = clock.utcnow(), actor.username
        _audit_agreement(session, runtime=runtime, actor=actor, agreement=agreement,
                         agency=agreement_agency(session, agreement), change="ended")
    return agreement


def documents_root(runtime: Runtime) -> Path:
    return runtime.settings.data_dir / "policy" / "agreements"


def attach_document(session: Session, *, runtime: Runtime, actor: Actor, agreement_id: int, content_type: str,
                    data: bytes) -> Agreement:
    """Store the signed document, hashed as it arrived; refused when it is not what its type says."""
    agreement = get_agreement(session, agreement_id)
    content_type = content_type.split(";")[0].strip().lower()
    magic = DOCUMENT_TYPES.get(content_type)
    if magic is None:
        raise InvalidInput(f"Send the signed agreement as {' or '.join(DOCUMENT_TYPES)}.",
                           code="unsupported_media_type", status_code=415)
    # The upload route is held to this limit at the door (app.py's BodySizeLimit); this holds every other caller.
    limit = runtime.settings.policy_document_max_bytes
    if len(data) > limit:
        raise PayloadTooLarge(f"A signed agreement document may be at most {limit} bytes "
                              "(RTCC_POLICY_DOCUMENT_MAX_BYTES).")
    if not data.startswith(magic):
        raise InvalidInput(f"The document says it is {content_type} but its content is not.", code="document_mismatch")
    digest = hashlib.sha256(data).hexdigest()
    folder = documents_root(runtime)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.pdf"
    if not path.exists():  # stored by its hash: written once, atomically, never overwritten
        partial = folder / f".{digest}.partial"
        partial.write_bytes(data)
        os.replace(partial, path)
    agreement.document_sha256, agreement.document_bytes = digest, len(data)
    agreement.document_type, agreement.document_uploaded_at = content_type, clock.utcnow()
    _audit_agreement(session, runtime=runtime, actor=actor, agreement=agreement, agency=agreement_agency(session, agreement),
                     change="document", details={"sha256": digest, "bytes": len(data)})
    return agreement


def document_path(runtime: Runtime, agreement: Agreement) -> Path:
    path = documents_root(runtime) / f"{agreement.document_sha256}.pdf"
    if agreement.document_sha256 is None or not path.exists():
        raise NotFound(f"Agreement {agreement.id} has no signed document on file.", code="document_not_found")
    return path


def _audit_agreement(session: Session, *, runtime: Runtime, actor: Actor, agreement: Agreement, agency: Agency,
                     change: str, details: dict | None = None) -> None:
    audit.record(session, keys=runtime.keys, actor=actor, action=f"policy.agreement_{change}",
                 event=AgreementChanged(agreement_id=agreement.id, recipient_agency_ori=agency.ori, change=change),
                 object_type="agreement", object_id=agreement.id,
                 details={"recipient": agency.ori, "data_classes": agreement.data_classes, "purposes": agreement.purposes,
                          "starts_at": clock.iso(agreement.starts_at), "expires_at": clock.iso(agreement.expires_at),
                          **(details or {})})


# --- policies ------------------------------------------------------------------------------------------------

def load_policy(session: Session, *, runtime: Runtime, actor: Actor, text: str, origin: str = "policy file") -> Policy:
    """Put a policy in force: checked whole (valid file, known purposes, no overlap or contradiction) or not at all."""
    spec, digest = presets.parse_policy(text, origin=origin)
    for rule in spec.rules:
        unknown = [code for code in rule.purposes if find_purpose(session, code) is None]
        if unknown:
            raise InvalidInput(f"{origin}: rule {rule.name} names purposes not on the managed list: {', '.join(unknown)}.",
                               code="invalid_policy_file")
    in_force = [presets.PolicySpec.model_validate(_spec_of(policy)) for policy in list_policies(session)]
    if any(other.name == spec.name for other in in_force):
        raise Conflict(f"Policy {spec.name} is already in force.", code="policy_exists")
    problems = presets.contradictions(spec, in_force)
    if problems:
        raise InvalidInput(f"{origin} cannot be put in force: {'; '.join(problems)}.", code="conflicting_policies")
    policy = Policy(name=spec.name, title=spec.title, jurisdiction=spec.jurisdiction, source=spec.source,
                    rules=[rule.model_dump() for rule in spec.rules], document_sha256=digest,
                    loaded_at=clock.utcnow(), loaded_by=actor.username)
    session.add(policy)
    session.flush()
    audit.record(session, keys=runtime.keys, actor=actor,
                 event=PolicyLoaded(name=spec.name, jurisdiction=spec.jurisdiction,
                                    rules=[rule.name for rule in spec.rules], document_sha256=digest),
                 object_type="policy", object_id=spec.name, details={"source": spec.source, "origin": origin})
    return policy


def load_preset(session: Session, *, runtime: Runtime, actor: Actor, name: str) -> Policy:
    return load_policy(session, runtime=runtime, actor=actor, text=presets.preset_text(name), origin=f"preset {name}")


def _spec_of(policy: Policy) -> dict:
    return {"name": policy.name, "title": policy.title, "jurisdiction": policy.jurisdiction, "source": policy.source,
            "rules": policy.rules}


def list_policies(session: Session) -> list[Policy]:
    return list(session.execute(select(Policy).order_by(Policy.id)).scalars())


def policies_in_force(session: Session) -> list[dict]:
    """The policies in force, as the transparency portal shows them: name, title, jurisdiction, source, rules."""
    return [{"name": policy.name, "title": policy.title, "jurisdiction": policy.jurisdiction, "source": policy.source,
             "rules": [rule["name"] for rule in policy.rules], "loaded_at": clock.iso(policy.loaded_at)}
            for policy in list_policies(session)]


# --- purposes --------------------------------------------------------------------------------------------------

def add_purpose(session: Session, *, runtime: Runtime, actor: Actor, code: str, title: str) -> Purpose:
    """An agency's own purpose category, beside the standard ones."""
    code = code.strip().upper()
    if not CODE_PATTERN.match(code):
        raise InvalidInput("A purpose code is 2 to 16 capital letters, digits or dashes.", code="invalid_purpose_code")
    if code in standard_purposes() or session.get(Purpose, code) is not None:
        raise Conflict(f"Purpose {code} is already on the list.", code="purpose_exists")
    purpose = Purpose(code=code, title=title.strip(), kind="agency", created_at=clock.utcnow(), created_by=actor.username)
    session.add(purpose)
    session.flush()
    audit.record(session, keys=runtime.keys, actor=actor, event=PurposeAdded(code=code, title=purpose.title),
                 object_type="purpose", object_id=code)
    return purpose


# --- decisions -------------------------------------------------------------------------------------------------

def list_decisions(session: Session, *, actor: Actor, recipient: str | None = None, allowed: bool | None = None,
                   limit: int = 100) -> list[PolicyDecision]:
    """Newest first; decisions are part of the record of what people did, so they are scoped as the audit trail is
    (an auditor sees every agency's, others their own agency's)."""
    statement = select(PolicyDecision).order_by(PolicyDecision.id.desc()).limit(min(limit, DECISION_LIST_LIMIT))
    in_scope = scope.agency_condition(actor, PolicyDecision.actor_agency_ori, kind=scope.AUDIT)
    if in_scope is not None:
        statement = statement.where(in_scope)
    if recipient is not None:
        statement = statement.where(PolicyDecision.recipient_agency_ori == recipient.strip().upper())
    if allowed is not None:
        statement = statement.where(PolicyDecision.allowed.is_(allowed))
    return list(session.execute(statement).scalars())


def decisions_by_recipient(session: Session, since: datetime) -> list[dict]:
    """Per recipient agency and action since then: how many were allowed and how many refused (the portal's figures)."""
    rows = session.execute(
        select(PolicyDecision.recipient_agency_ori, PolicyDecision.action, PolicyDecision.allowed, func.count())
        .where(PolicyDecision.at >= since)
        .group_by(PolicyDecision.recipient_agency_ori, PolicyDecision.action, PolicyDecision.allowed)
    ).all()
    figures: dict[tuple, dict] = {}
    for recipient, action, allowed, count in rows:
        entry = figures.setdefault((recipient, action), {"recipient_agency_ori": recipient, "action": action,
                                                         "allowed": 0, "refused": 0})
        entry["allowed" if allowed else "refused"] += count
    return sorted(figures.values(), key=lambda entry: (entry["recipient_agency_ori"] or "", entry["action"]))
