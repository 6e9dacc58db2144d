"""Camera registry: the records later capabilities (ingest, recording, selection) build on."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc.auth.models import Agency
from rtcc.cameras.models import CAMERA_KINDS, Camera
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import InvalidInput, NotFound


def visible_cameras(session: Session, *, actor: Actor, kind: str | None = None) -> list[tuple[Camera, str]]:
    """Cameras in the actor's scope (agency and camera groups), with their agency's ORI."""
    statement = select(Camera, Agency.ori).join(Agency, Camera.agency_id == Agency.id).order_by(Camera.id)
    if kind:
        statement = statement.where(Camera.kind == kind)
    return [(camera, ori) for camera, ori in session.execute(statement)
            if actor.sees_camera(agency_ori=ori, groups=camera.groups or [])]


def get_visible_camera(session: Session, *, actor: Actor, camera_id: int) -> tuple[Camera, str]:
    """One camera, or NotFound when it does not exist or is outside the actor's scope."""
    row = session.execute(
        select(Camera, Agency.ori).join(Agency, Camera.agency_id == Agency.id).where(Camera.id == camera_id)
    ).one_or_none()
    if row is None or not actor.sees_camera(agency_ori=row[1], groups=row[0].groups or []):
        raise NotFound(f"No camera {camera_id}.", code="camera_not_found")
    return row[0], row[1]


def add_camera(session: Session, *, agency: Agency, name: str, kind: str, latitude: float, longitude: float,
               heading_deg: float = 0.0, fov_deg: float = 60.0, range_m: float = 80.0,
               mounting_height_m: float = 4.0, groups: list[str] | None = None) -> Camera:
    """Register a camera record (no stream yet)."""
    if kind not in CAMERA_KINDS:
        raise InvalidInput(f"Unknown camera kind {kind!r}.", code="invalid_camera_kind")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidInput("Position must be WGS84 latitude/longitude.", code="invalid_position")
    camera = Camera(
        name=name, kind=kind, agency_id=agency.id, groups=groups or [], latitude=latitude, longitude=longitude,
        heading_deg=heading_deg % 360, fov_deg=fov_deg, range_m=range_m, mounting_height_m=mounting_height_m,
        status="unknown", created_at=clock.utcnow(),
    )
    session.add(camera)
    session.flush()
    return camera


def count_cameras(session: Session) -> int:
    from sqlalchemy import func

    return session.execute(select(func.count()).select_from(Camera)).scalar_one()
