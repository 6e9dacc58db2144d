"""Retention policies, presets, legal holds, cases and receipts in and out."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from rtcc.core import clock
from rtcc.governance.retention.cases import CaseState, state_of
from rtcc.governance.retention.models import Case, DeletionReceipt, LegalHold, RetentionPolicy
from rtcc.governance.retention.purgers import PolicyInForce


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    keep_for: str = Field(min_length=2, max_length=16, description="How long: 3min, 12h, 21d, 18mo (30 days), 1y (365).")
    clock: str | None = Field(default=None, max_length=32, description="What ends the clock; default the class's.")
    action: Literal["delete", "reduce"] | None = Field(default=None, description="delete, or reduce (keep the hit, drop the image).")
    note: str = Field(default="", max_length=500)


class PresetLoadIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    presets: list[str] = Field(min_length=1, max_length=10)
    values: dict[str, str] = Field(default_factory=dict, description="For classes a preset leaves to the agency: class -> keep-for.")


class PolicyOut(BaseModel):
    data_class: str
    version: int
    keep_for: str
    keep_for_seconds: int
    clock: str
    action: str
    source: str
    citation: str
    fields: dict

    @classmethod
    def of(cls, policy: PolicyInForce | RetentionPolicy) -> "PolicyOut":
        if isinstance(policy, RetentionPolicy):
            return cls(data_class=policy.data_class, version=policy.version, keep_for=policy.keep_for,
                       keep_for_seconds=policy.keep_for_seconds, clock=policy.clock, action=policy.action,
                       source=policy.source, citation=policy.citation, fields=policy.fields or {})
        return cls(data_class=policy.data_class, version=policy.version, keep_for=policy.keep_for_text,
                   keep_for_seconds=int(policy.keep_for.total_seconds()), clock=policy.clock, action=policy.action,
                   source=policy.source, citation=policy.citation, fields=policy.fields)


class PresetOut(BaseModel):
    name: str
    title: str
    source: str
    policies: list[dict]


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Literal["case", "incident", "camera", "plate", "community_upload"]
    reason: str = Field(min_length=5, max_length=500, description="Why it is held (required, audited).")
    review_at: AwareDatetime | None = Field(default=None, description="When it is due for review; default in 90 days.")
    case_number: str | None = Field(default=None, min_length=2, max_length=64)
    incident_id: int | None = Field(default=None, ge=1)
    camera_id: int | None = Field(default=None, ge=1, description="camera holds: the camera (none: every camera).")
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    plate: str | None = Field(default=None, min_length=1, max_length=16)
    upload_id: str | None = Field(default=None, min_length=1, max_length=64)


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=5, max_length=500, description="Why it is released (required, audited).")


class HoldOut(BaseModel):
    id: int
    kind: str
    target: str
    reason: str
    review_at: datetime | None
    overdue: bool
    created_by: str
    created_at: datetime
    released_at: datetime | None
    released_by: str | None
    release_reason: str | None

    @classmethod
    def of(cls, hold: LegalHold) -> "HoldOut":
        from rtcc.governance.retention.service import describe_target, is_overdue

        return cls(id=hold.id, kind=hold.kind, target=describe_target(hold), reason=hold.reason, review_at=hold.review_at,
                   overdue=is_overdue(hold), created_by=hold.created_by, created_at=hold.created_at,
                   released_at=hold.released_at, released_by=hold.released_by, release_reason=hold.release_reason)


class ReceiptOut(BaseModel):
    id: int
    data_class: str | None
    status: str
    action: str
    count: int
    bytes: int
    window_start: str | None
    window_end: str | None
    older_than: str | None
    policy_version: int | None
    skipped_held: int
    skipped: list
    breakdown: list
    created_at: str
    finished_at: str | None

    @classmethod
    def of(cls, receipt: DeletionReceipt) -> "ReceiptOut":
        return cls(id=receipt.id, data_class=receipt.data_class, status=receipt.status, action=receipt.reason,
                   count=receipt.segment_count, bytes=receipt.bytes, window_start=clock.iso(receipt.range_start),
                   window_end=clock.iso(receipt.range_end), older_than=clock.iso(receipt.cutoff),
                   policy_version=receipt.policy_version, skipped_held=receipt.skipped_held or 0,
                   skipped=receipt.skipped or [], breakdown=receipt.breakdown or [], created_at=clock.iso(receipt.created_at),
                   finished_at=clock.iso(receipt.finished_at))


class CaseActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    case_number: str = Field(max_length=64, description="The case number, as exports and shares carry it.")
    action: str = Field(max_length=16, description="close (its case_closed clock starts) or reopen (it stops).")
    reason: str = Field(default="", max_length=500, description="Why (required, audited).")


class CaseOut(BaseModel):
    case_number: str
    state: str  # open | closed
    registered: bool  # False: only seen on an export or a field share, never closed
    opened_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    close_reason: str | None

    @classmethod
    def of(cls, case: CaseState | Case) -> "CaseOut":
        state = case if isinstance(case, CaseState) else state_of(case)
        return cls(case_number=state.case_number, state=state.state, registered=state.registered,
                   opened_at=state.opened_at, closed_at=state.closed_at, closed_by=state.closed_by,
                   close_reason=state.close_reason)
