"""Tables of the policy engine: what kind of agency each is, agreements with them, policies, purposes, decisions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rtcc.core.database import Base, UTCDateTime
from rtcc.core.types import JSONDocument

AGENCY_KINDS = ("local", "state", "federal", "private", "out_of_state")
# What leaves the agency, by the kind of record (a share of a snapshot, clip or live view is video).
DATA_CLASSES = ("plate_reads", "plate_hits", "video", "evidence_exports", "incidents")
# What a decision is about.
ACTIONS = ("share", "export", "federated_query", "search")


class AgencyProfile(Base):
    """An agency's kind and state, kept beside auth's agency (auth knows ORIs and names only)."""

    __tablename__ = "policy_agency_profiles"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(2))  # USPS code of the agency's state
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Agreement(Base):
    """A sharing agreement between this centre and one agency: what may go to it, why, and for how long."""

    __tablename__ = "policy_agreements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    data_classes: Mapped[list[str]] = mapped_column(JSONDocument)
    purposes: Mapped[list[str]] = mapped_column(JSONDocument)  # purpose codes
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(200))
    # The recipient signed that the data will not serve a prohibited purpose (Illinois asks this of out-of-state).
    declaration_signed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The signed document, stored under the data dir by its SHA-256, hashed as it arrived.
    document_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    document_bytes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    document_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    document_uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # ended early by an admin
    ended_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Policy(Base):
    """A loaded policy (a preset or an admin's file): its rules are data the engine reads."""

    __tablename__ = "policy_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    jurisdiction: Mapped[str] = mapped_column(String(16))  # a state's USPS code, or "city"
    source: Mapped[str] = mapped_column(Text)
    rules: Mapped[list[dict]] = mapped_column(JSONDocument)
    document_sha256: Mapped[str] = mapped_column(String(64))  # of the TOML text it was loaded from
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    loaded_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Purpose(Base):
    """One purpose category a search, export or share may name: a standard one or the agency's own."""

    __tablename__ = "policy_purposes"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # standard | agency
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class PolicyDecision(Base):
    """One decision of the engine, with the rule that decided it."""

    __tablename__ = "policy_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(200), nullable=True)  # what it was about, e.g. "camera 12"
    actor_username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    actor_agency_ori: Mapped[str | None] = mapped_column(String(9), nullable=True)
    recipient_agency_ori: Mapped[str | None] = mapped_column(String(9), nullable=True, index=True)
    data_class: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str | None] = mapped_column(String(16), nullable=True)
    allowed: Mapped[bool] = mapped_column(Boolean)
    rule: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text)
