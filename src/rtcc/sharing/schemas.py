"""Field shares in and out."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class ShareIn(BaseModel):
    """What the console's "Share to field" sends."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Literal["snapshot", "clip", "live"]
    camera_id: int
    recipient: str = Field(min_length=1, max_length=64, description="Username of an active field officer.")
    purpose: str = Field(min_length=5, max_length=500, description="Why this is shared (policy: required).")
    purpose_category: str | None = Field(
        default=None, max_length=16,
        description="Required: a code of the managed purpose list (GET /api/v1/policy/purposes); a prohibited one "
                    "is refused by policy.")
    case_number: str = Field(min_length=2, max_length=64, description="The case it is shared for (policy: required).")
    incident_id: int | None = Field(default=None, description="The incident whose timeline records the share.")
    message: str | None = Field(default=None, max_length=1000, description="Shown to the officer with the item.")
    minutes: int | None = Field(default=None, ge=1, description="How long the link works; default and maximum are settings.")
    at: AwareDatetime | None = Field(default=None, description="snapshot: the instant; default the newest recorded frame.")
    start: AwareDatetime | None = Field(default=None, description="clip: where it starts.")
    end: AwareDatetime | None = Field(default=None, description="clip: where it ends.")


class ShareOut(BaseModel):
    id: int
    kind: str
    camera_id: int
    camera_name: str
    recipient: str
    sender: str
    incident_id: int | None
    purpose: str
    purpose_category: str | None
    case_number: str
    message: str | None
    at: datetime | None
    start: datetime | None
    end: datetime | None
    media_type: str | None
    media_sha256: str | None
    media_bytes: int | None
    created_at: datetime
    expires_at: datetime
    status: str = Field(description="pending (not yet opened) | opened | expired | revoked")
    redeemed_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None
    open_count: int
    last_opened_at: datetime | None


class ShareCreatedOut(ShareOut):
    link: str = Field(description="The officer's link, with its token: shown this once, never again.")
