"""Camera records as the API returns them (stream credentials never appear here)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from rtcc.cameras.models import Camera


class CameraOut(BaseModel):
    id: int
    name: str
    kind: str
    agency_ori: str
    groups: list[str]
    latitude: float
    longitude: float
    mounting_height_m: float
    heading_deg: float
    fov_deg: float
    range_m: float
    status: str
    created_at: datetime

    @classmethod
    def of(cls, camera: Camera, agency_ori: str) -> "CameraOut":
        return cls(
            id=camera.id, name=camera.name, kind=camera.kind, agency_ori=agency_ori, groups=camera.groups or [],
            latitude=camera.latitude, longitude=camera.longitude, mounting_height_m=camera.mounting_height_m,
            heading_deg=camera.heading_deg, fov_deg=camera.fov_deg, range_m=camera.range_m,
            status=camera.status, created_at=camera.created_at,
        )
