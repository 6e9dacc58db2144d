"""Recording, playback and export bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give a time zone (e.g. 2026-11-21T20:00:00Z)")
    return value


class SpanOut(BaseModel):
    start: datetime
    end: datetime


class RecordingsOut(BaseModel):
    camera_id: int
    start: datetime
    end: datetime
    spans: list[SpanOut]
    gaps: list[SpanOut]
    segments: int
    bytes: int


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    start: datetime
    end: datetime
    case_number: str = Field(min_length=2, max_length=64)
    purpose: str = Field(min_length=5, max_length=500, description="Why the clip is exported.")
    purpose_category: str | None = Field(default=None, max_length=16,
                                         description="Required: a code of the managed purpose list "
                                                     "(GET /api/v1/policy/purposes); a prohibited one is refused by policy.")
    recipient_agency: str | None = Field(default=None, min_length=9, max_length=9,
                                         description="ORI of the agency the export is for, when it leaves the agency.")

    _check_start = field_validator("start", "end")(classmethod(lambda cls, value: _aware(value)))


class ExportOut(BaseModel):
    id: int
    camera_id: int
    starts_at: datetime
    ends_at: datetime
    case_number: str
    purpose: str
    requested_by: str
    created_at: datetime
    path: str = Field(description="Bag directory, relative to DATA_DIR/exports.")
    fingerprint: str = Field(description="SHA-256 of the bag's tag manifest, recorded in the audit trail.")
    source_segments: int

    @classmethod
    def of(cls, export) -> "ExportOut":
        return cls(id=export.id, camera_id=export.camera_id, starts_at=export.starts_at, ends_at=export.ends_at,
                   case_number=export.case_number, purpose=export.purpose, requested_by=export.requested_by,
                   created_at=export.created_at, path=export.path, fingerprint=export.fingerprint,
                   source_segments=len(export.source_segments or []))


class BagReportOut(BaseModel):
    ok: bool
    problems: list[str]
    files_checked: int
    bytes_checked: int


class MarkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=2, max_length=200)
    at: datetime | None = Field(default=None, description="When it happened (default: now).")

    _check_at = field_validator("at")(classmethod(lambda cls, value: value if value is None else _aware(value)))


class MarkOut(BaseModel):
    id: int
    camera_id: int
    at: datetime
    reason: str
    source: str
