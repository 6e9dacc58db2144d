"""Response bodies of the audit API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class AuditRecordOut(BaseModel):
    seq: int
    occurred_at: datetime
    username: str | None
    agency_ori: str | None
    source_address: str | None
    action: str
    object_type: str | None
    object_id: str | None
    outcome: str
    purpose: str | None
    case_number: str | None
    query_terms: str | None
    details: str | None
    prev_hash: str
    record_hash: str


class AuditPage(BaseModel):
    records: list[AuditRecordOut]
    next_before_seq: int | None


class VerifyOut(BaseModel):
    ok: bool
    records_checked: int
    first_bad_seq: int | None
    problem: str | None
    checkpoints_checked: int = 0
    latest_checkpoint_seq: int | None = None
    checkpoint_problems: list[str] = []


class CheckpointOut(BaseModel):
    """The latest signed checkpoint of the audit chain, for the transparency page and peer centres."""

    seq: int
    head_hash: str
    created_at: str
    key_id: str
    signature: str
    public_key: str
