"""Calls for service in, incidents out."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class CallIn(BaseModel):
    """A call for service as a CAD sends it; fields we do not model are kept in `extra`."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    call_id: str = Field(min_length=1, max_length=100, description="The CAD's id; the same id sent again updates the call.")
    type: str = Field(min_length=1, max_length=100, description="Call type, e.g. 'shots fired'.")
    priority: int = Field(ge=1, le=5, description="1 is the most urgent.")
    address: str | None = Field(default=None, max_length=300)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    received_at: AwareDatetime = Field(description="ISO 8601 with a time zone.")
    narrative: str | None = Field(default=None, max_length=20_000)
    units: list[str] = Field(default_factory=list, max_length=100)
    status: str = Field(default="open", min_length=1, max_length=32, description="'closed' closes the call and its incident.")


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=1, max_length=4000)


class IncidentIn(BaseModel):
    """An incident an operator opens by hand (no call for service behind it)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=3, max_length=300)
    type: str = Field(min_length=1, max_length=100, description="e.g. 'suspicious person', 'BOLO follow-up'.")
    priority: int = Field(ge=1, le=5, description="1 is the most urgent.")
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    address: str | None = Field(default=None, max_length=300)


class FootageRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    camera_id: int = Field(description="A nearby private camera listed as a footage-request candidate.")
    note: str = Field("", max_length=2000, description="What is asked of the owner (time range, what to look for).")


class TimelineEntryOut(BaseModel):
    at: datetime
    kind: str
    summary: str
    username: str | None
    data: dict


class DockedCameraOut(BaseModel):
    camera_id: int
    name: str
    rank: int
    reason: str = Field(description="Why this camera, in words: 'sees the location at 40 m'.")
    distance_m: float
    sees_location: bool


class FootageRequestCandidateOut(BaseModel):
    camera_id: int
    name: str
    kind: str
    owner_name: str | None
    distance_m: float
    sees_location: bool
    reason: str


class IncidentOut(BaseModel):
    id: int
    title: str
    type: str
    priority: int
    latitude: float
    longitude: float
    address: str | None
    status: str
    agency_ori: str | None
    call_id: str | None
    opened_at: datetime
    closed_at: datetime | None


class IncidentDetailOut(IncidentOut):
    cameras: list[DockedCameraOut]
    footage_request_candidates: list[FootageRequestCandidateOut]
    timeline: list[TimelineEntryOut]


class CallReceivedOut(BaseModel):
    call_id: str
    incident: IncidentDetailOut | None = Field(description="The incident this call opened or updated; null when it opens none.")
