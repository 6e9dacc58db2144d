"""The policy engine's data in and out of the API."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from rtcc.policy.models import Agreement, PolicyDecision


class AgencyProfileIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: str = Field(description="local | state | federal | private | out_of_state")
    state: str = Field(min_length=2, max_length=2, description="The agency's state, two-letter USPS code.")


class AgencyProfileOut(BaseModel):
    ori: str
    name: str
    kind: str | None = Field(description="None until an admin records it: nothing is shared to it before.")
    state: str | None


class AgreementIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    agency_ori: str = Field(min_length=9, max_length=9)
    title: str = Field(min_length=3, max_length=200)
    data_classes: list[str] = Field(min_length=1, max_length=10)
    purposes: list[str] = Field(min_length=1, max_length=100, description="Purpose codes from the managed list.")
    starts_at: AwareDatetime
    expires_at: AwareDatetime
    contact_name: str = Field(min_length=2, max_length=200)
    contact_email: str = Field(min_length=3, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")
    declaration_signed: bool = Field(default=False, description="The recipient signed that no prohibited purpose is served.")


class AgreementChange(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str | None = Field(default=None, min_length=3, max_length=200)
    data_classes: list[str] | None = Field(default=None, min_length=1, max_length=10)
    purposes: list[str] | None = Field(default=None, min_length=1, max_length=100)
    starts_at: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None
    contact_name: str | None = Field(default=None, min_length=2, max_length=200)
    contact_email: str | None = Field(default=None, min_length=3, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")
    declaration_signed: bool | None = None


class AgreementOut(BaseModel):
    id: int
    agency_ori: str
    title: str
    data_classes: list[str]
    purposes: list[str]
    starts_at: datetime
    expires_at: datetime
    contact_name: str
    contact_email: str
    declaration_signed: bool
    document_sha256: str | None
    document_bytes: int | None
    document_uploaded_at: datetime | None
    created_at: datetime
    ended_at: datetime | None

    @classmethod
    def of(cls, agreement: Agreement, agency_ori: str) -> AgreementOut:
        return cls(id=agreement.id, agency_ori=agency_ori, title=agreement.title, data_classes=agreement.data_classes,
                   purposes=agreement.purposes, starts_at=agreement.starts_at, expires_at=agreement.expires_at,
                   contact_name=agreement.contact_name, contact_email=agreement.contact_email,
                   declaration_signed=agreement.declaration_signed, document_sha256=agreement.document_sha256,
                   document_bytes=agreement.document_bytes, document_uploaded_at=agreement.document_uploaded_at,
                   created_at=agreement.created_at, ended_at=agreement.ended_at)


class PolicyLoad(BaseModel):
    model_config = ConfigDict(extra="forbid")

    preset: str | None = Field(default=None, max_length=64, description="A shipped preset: ca-sb34, illinois, no-federal-immigration.")
    toml: str | None = Field(default=None, max_length=100_000, description="Or a policy file's text.")


class PolicyOut(BaseModel):
    name: str
    title: str
    jurisdiction: str
    source: str
    rules: list[dict]
    document_sha256: str
    loaded_at: datetime
    loaded_by: str | None


class PurposeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=2, max_length=16)
    title: str = Field(min_length=3, max_length=200)


class PurposeOut(BaseModel):
    code: str
    title: str
    kind: str = Field(description="standard (NCIC offense categories and a few others) | agency (the agency's own)")


class DecisionOut(BaseModel):
    id: int
    at: datetime
    action: str
    subject: str | None
    actor: str | None
    actor_agency_ori: str | None
    recipient_agency_ori: str | None
    data_class: str
    purpose: str | None
    allowed: bool
    rule: str
    reason: str

    @classmethod
    def of(cls, row: PolicyDecision) -> DecisionOut:
        return cls(id=row.id, at=row.at, action=row.action, subject=row.subject, actor=row.actor_username,
                   actor_agency_ori=row.actor_agency_ori, recipient_agency_ori=row.recipient_agency_ori,
                   data_class=row.data_class, purpose=row.purpose, allowed=row.allowed, rule=row.rule, reason=row.reason)
