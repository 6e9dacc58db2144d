"""Incident settings: which calls open incidents, which cameras dock, the CAD folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from rtcc.cameras.settings import CameraSettings
from rtcc.core.config import known_time_zone


class IncidentSettings(CameraSettings):
    """Calls for service, incidents, camera selection and the CAD folder."""

    incident_priority_at_most: int = Field(
        default=2, ge=0, le=9,
        description="Calls of this priority or more urgent (1 is the most urgent) open an incident; 0: none by priority.",
    )
    incident_call_types: list[str] = Field(
        default_factory=lambda: ["shots fired", "homicide", "robbery", "carjacking", "amber alert"], max_length=500,
        description="Call types (compared case-insensitively) that open an incident whatever their priority. "
                    'Environment: a JSON list, e.g. ["shots fired","robbery"].',
    )
    camera_selection_radius_m: float = Field(
        default=300, ge=10, le=5000,
        description="How far from an incident a camera that does not face it may stand and still be docked.",
    )
    camera_selection_dock_count: int = Field(
        default=4, ge=1, le=16, description="How many cameras are docked onto a new incident (the video wall's tiles)."
    )
    camera_selection_footage_candidates: int = Field(
        default=20, ge=0, le=500,
        description="How many nearby cameras that cannot be docked are listed for a footage request.",
    )
    cad_watch_dir: Path | None = Field(
        default=None,
        description="Folder watched for CAD export CSV files: each is imported once its size is stable, then moved "
                    "to processed/ (with a .report.json) or rejected/. Empty: off.",
    )
    cad_watch_poll_seconds: float = Field(
        default=5, ge=0.1, le=3600, description="How often the CAD folder is checked for new or finished files."
    )
    cad_agency_ori: str = Field(
        default="", pattern=r"^([A-Z0-9]{9})?$",
        description="ORI of the agency whose calls the CAD folder and `rtcc cad import` bring in; empty: DEMO_AGENCY_ORI.",
    )
    cad_time_zone: str = Field(
        default="UTC", min_length=1, max_length=64,
        description="IANA time zone of CAD times written without an offset (e.g. America/Los_Angeles).",
    )

    @field_validator("cad_watch_dir", mode="before")
    @classmethod
    def _empty_means_off(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("cad_time_zone")
    @classmethod
    def _known_cad_time_zone(cls, value: str) -> str:
        return known_time_zone(value)
