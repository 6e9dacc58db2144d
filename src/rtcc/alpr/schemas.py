"""Plate reads, hotlists, alerts and searches in and out of the API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class IngestOut(BaseModel):
    stored: int
    duplicates: int
    alerts: int
    rejected: list[dict]


class ReadOut(BaseModel):
    id: int
    plate: str
    plate_raw: str
    confidence: float
    region: str | None
    camera_id: int | None
    device_id: str | None
    read_at: datetime
    latitude: float | None
    longitude: float | None
    direction: str | None
    crop_path: str | None
    source: str
    matched: bool

    @classmethod
    def of(cls, read) -> "ReadOut":
        return cls(**{name: getattr(read, name) for name in cls.model_fields})


class HotlistCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=2, max_length=100)
    source: str = Field(min_length=2, max_length=100, description="e.g. NCIC, state DOJ, local BOLO")
    priority: int = Field(ge=1, le=9, description="1 is the highest")
    agency_ori: str | None = Field(default=None, min_length=9, max_length=9)
    description: str = Field(default="", max_length=500)


class HotlistOut(BaseModel):
    id: int
    name: str
    source: str
    priority: int
    description: str
    created_at: datetime
    active_entries: int = 0


class HotlistImportOut(BaseModel):
    added: int
    updated: int
    rejected: int
    errors: list[dict]


class AlertOut(BaseModel):
    id: int
    read_id: int
    entry_id: int
    hotlist_id: int
    camera_id: int | None
    plate: str
    match_method: str
    priority: int = Field(description="1 is the highest: the hotlist's priority when the alert was raised.")
    hotlist: str = Field(default="", description="The name of the hotlist the entry is on.")
    status: str
    repeats: int
    crop_matches_plate: bool | None
    vehicle_matches: bool | None
    entry_still_active: bool | None
    verified_by: str | None
    verified_at: datetime | None
    disposition: str | None
    disposition_note: str | None
    created_at: datetime
    entry: dict = Field(default_factory=dict, description="The hotlist entry: reason, vehicle, expiry.")
    read: dict = Field(default_factory=dict, description="The read: time, camera, confidence, crop.")


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    crop_matches_plate: bool = Field(description="The crop shows the plate the alert names.")
    vehicle_matches: bool = Field(description="The vehicle matches the entry's description.")
    entry_still_active: bool = Field(description="The entry was confirmed still active at its source.")


class DispositionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    disposition: str = Field(description="confirmed, misread, vehicle_mismatch, entry_inactive or other")
    note: str = Field(default="", max_length=2000)
