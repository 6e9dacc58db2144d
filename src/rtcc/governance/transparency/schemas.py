"""The public transparency document (GET /api/v1/public/transparency) and what the admin enters for a year.

The document is versioned by `schema_version`: a field may be added within a version, never renamed, retyped or
removed (that is a new version). Every section says whether it could be counted (`available`) and, when not,
why (`reason`): a figure the system cannot count is absent, never made up.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, model_validator

SCHEMA_VERSION = "1"


class Count(BaseModel):
    """A figure that could identify an investigation: exact from 0 and from the threshold up, else a bucket."""

    count: int | None = Field(description="The exact count, or null when it is bucketed.")
    fewer_than: int | None = Field(default=None, description="Set when bucketed: the count is 1 to fewer_than - 1.")
    text: str = Field(description="As a person reads it: '12', or 'fewer than 5'.")


class Section(BaseModel):
    available: bool = True
    reason: str | None = Field(default=None, description="Why the section could not be counted (available false).")


class CameraKind(BaseModel):
    kind: str
    cameras: int
    streaming: int = Field(description="Cameras of this kind that deliver video to the center.")
    working_now: int = Field(description="Streaming cameras recording now, their index up to date.")
    working_now_percent: float | None = Field(description="working_now of streaming; null with none streaming.")
    uptime_30d_percent: float | None = Field(description="Mean recorded share of the last 30 days over the "
                                                         "streaming cameras; null with none streaming.")


class CamerasSection(Section):
    total: int = 0
    streaming: int = 0
    working_now: int = 0
    working_now_percent: float | None = None
    uptime_30d_percent: float | None = None
    by_kind: list[CameraKind] = []


class PlatesSection(Section):
    reads: int = Field(default=0, description="Plate reads stored in the window.")
    hotlist_hits: Count | None = Field(default=None, description="Reads that matched a hotlist (plate alerts raised).")
    confirmed_hits: Count | None = Field(default=None, description="Alerts a person verified and confirmed.")


class CallsSection(Section):
    calls_received: int = Field(default=0, description="Calls for service the CAD sent in the window.")
    incidents_opened: int = Field(default=0, description="Incidents the center worked (opened in the window).")


class LooksSection(Section):
    """Looks at surveillance data by people, from the audit trail (each one audited with its purpose)."""

    plate_searches: int = 0
    video_playbacks: int = 0
    live_views: int = 0
    evidence_exports: int = 0
    field_shares: int = 0


class PurposeCount(BaseModel):
    category: str
    label: str | None = None
    count: Count


class PurposesSection(Section):
    by_purpose: list[PurposeCount] = []


class RecipientCount(BaseModel):
    agency: str = Field(description="The recipient agency's name (an agency, never a person).")
    kind: str | None = Field(default=None, description="local, state, federal, private or out_of_state.")
    action: str = Field(description="share, export, federated_query or search.")
    allowed: Count
    refused: Count


class SharingSection(Section):
    by_recipient: list[RecipientCount] = []


class RetentionClass(BaseModel):
    data_class: str
    keep: str = Field(description="How long, in words (e.g. '30 days', '3 minutes').")
    clock_starts: str | None = None
    action: str | None = None
    policy_version: int | None = None
    source: str | None = Field(default=None, description="The preset or law the policy came from.")
    last_purge_at: datetime | None = Field(default=None, description="When the last deletion receipt was written.")


class RetentionSection(Section):
    classes: list[RetentionClass] = []


class HoldsSection(Section):
    open: Count | None = None
    overdue_for_review: Count | None = None


class ReviewSection(Section):
    flags_raised: int = 0
    flags_reviewed: int = 0
    referred: Count | None = Field(default=None, description="Flags referred on as possible misuse.")
    weekly_reviews_done: int = 0
    weekly_reviews_due: int = 0


class PolicyInForce(BaseModel):
    name: str
    description: str | None = None
    source: str | None = None


class PoliciesSection(Section):
    policies: list[PolicyInForce] = []


class ReleasesSection(Section):
    requested: int = 0
    released: int = 0


class Window(BaseModel):
    start: datetime
    end: datetime
    days: int


class TransparencyDocument(BaseModel):
    """Everything the public portal shows, counted from the database when it was generated."""

    schema_version: str = SCHEMA_VERSION
    generated_at: datetime
    cache_seconds: float = Field(description="Figures are at most this old.")
    window: Window = Field(description="The rolling window the 30-day figures cover.")
    small_count_threshold: int = Field(description="Bucketed figures show 'fewer than' this from 1 up.")
    cameras: CamerasSection
    plates: PlatesSection
    calls: CallsSection
    looks: LooksSection
    searches_by_purpose: PurposesSection
    sharing: SharingSection
    retention: RetentionSection
    holds: HoldsSection
    audit_review: ReviewSection
    policies: PoliciesSection
    releases: ReleasesSection


# --- the annual surveillance report ----------------------------------------------------------------------


class CostLine(BaseModel):
    item: str = Field(min_length=2, max_length=200)
    cents: int = Field(ge=0, le=10**13, description="Whole cents (USD).")


class YearEntryIn(BaseModel):
    """What the admin enters for a year; published as entered."""

    complaints_received: int = Field(ge=0, le=1_000_000)
    complaints_sustained: int = Field(ge=0, le=1_000_000)
    cost_lines: list[CostLine] = Field(default=[], max_length=100)
    notes: str | None = Field(default=None, max_length=5000, description="Public explanation printed in the report.")

    @model_validator(mode="after")
    def _sustained_within_received(self) -> YearEntryIn:
        if self.complaints_sustained > self.complaints_received:
            raise ValueError("complaints_sustained cannot exceed complaints_received")
        return self


class YearEntryOut(YearEntryIn):
    year: int
    total_cost_cents: int
    updated_by: str
    updated_at: datetime


class Effectiveness(BaseModel):
    confirmed_hits: Count
    arrests: Count = Field(description="Calls for service closed with an arrest disposition (CAD).")


class DataVolumes(BaseModel):
    plate_reads: int
    calls_received: int
    incidents_opened: int
    hotlist_hits: Count
    video_hours_recorded: float
    evidence_exports: int


class AuditsSection(BaseModel):
    chain_verifications: int = Field(description="Times the audit chain was verified in the year.")
    audit_records: int = Field(description="Records appended to the audit trail in the year.")
    review: ReviewSection = Field(description="Audit-review flags and what came of them (violations: referred).")


class ComplaintsSection(Section):
    received: int = 0
    sustained: int = 0
    notes: str | None = None


class CostsSection(Section):
    lines: list[CostLine] = []
    total_cents: int = 0


class AnnualReport(BaseModel):
    """What a surveillance-use ordinance (Oakland's, for one) asks of a yearly report."""

    schema_version: str = SCHEMA_VERSION
    year: int
    generated_at: datetime
    window: Window
    small_count_threshold: int
    uses: LooksSection
    data_volumes: DataVolumes
    cameras: CamerasSection
    sharing: SharingSection
    searches_by_purpose: PurposesSection
    complaints: ComplaintsSection
    audits: AuditsSection
    effectiveness: Effectiveness
    costs: CostsSection
    retention: RetentionSection
    policies: PoliciesSection
    releases: ReleasesSection
