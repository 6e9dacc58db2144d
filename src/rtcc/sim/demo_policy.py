"""The demo's sharing partners: a state, a federal and an out-of-state agency, one agreement, the presets that fit a
California city. A share from the city to the federal or out-of-state officer is refused (no agreement); to the
state officer it goes, for the purposes the agreement names."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc.auth import service as accounts
from rtcc.core import clock
from rtcc.core.actor import SYSTEM
from rtcc.core.runtime import Runtime
from rtcc.policy import service as policy
from rtcc.policy.models import Agreement

# (ORI, name, kind, state, the field officer the demo gives it)
PARTNERS = (
    ("CA0349400", "California Highway Patrol, Simulated Division", "state", "CA", "chp.officer"),
    ("DC0010000", "Federal Task Force (simulated)", "federal", "DC", "federal.agent"),
    ("NV0020000", "Reno Police Department (simulated)", "out_of_state", "NV", "reno.officer"),
)
AGREEMENT_WITH = "CA0349400"
AGREEMENT_PURPOSES = ["0900", "1000", "1200", "1300", "2400", "MP"]  # homicide, kidnapping, robbery, assault, stolen vehicle, missing
PRESETS = ("ca-sb34", "no-federal-immigration")  # a California city with a sanctuary ordinance


def seed_partners(session: Session, *, runtime: Runtime, home_ori: str) -> None:
    """Create what is missing (agencies, kinds, officers, the agreement, the presets); a second run changes nothing."""
    home = accounts.get_agency(session, ori=home_ori)
    if policy.profile_of(session, home) is None:
        policy.set_agency_profile(session, runtime=runtime, actor=SYSTEM, ori=home_ori, kind="local", state="CA")
    for ori, name, kind, state, officer in PARTNERS:
        agency = accounts.ensure_agency(session, runtime=runtime, ori=ori, name=name)
        if policy.profile_of(session, agency) is None:
            policy.set_agency_profile(session, runtime=runtime, actor=SYSTEM, ori=ori, kind=kind, state=state)
        if accounts.find_user(session, username=officer) is None:
            accounts.create_user(session, runtime=runtime, actor=SYSTEM, username=officer, role="field_officer",
                                 agency_ori=ori, display_name=f"Demo officer of {name}")
    partner = accounts.get_agency(session, ori=AGREEMENT_WITH)
    if session.execute(select(Agreement.id).where(Agreement.agency_id == partner.id)).first() is None:
        now = clock.utcnow()
        policy.create_agreement(session, runtime=runtime, actor=SYSTEM, agency_ori=AGREEMENT_WITH, terms=policy.AgreementTerms(
            title="Mutual aid: video and plate data for serious crimes", data_classes=["video", "plate_reads", "plate_hits"],
            purposes=AGREEMENT_PURPOSES, starts_at=now - timedelta(days=1), expires_at=now + timedelta(days=365),
            contact_name="Sgt. Demo Liaison", contact_email="liaison@chp.example.gov", declaration_signed=True))
    loaded = {existing.name for existing in policy.list_policies(session)}
    for preset in PRESETS:
        if preset not in loaded:
            policy.load_preset(session, runtime=runtime, actor=SYSTEM, name=preset)
