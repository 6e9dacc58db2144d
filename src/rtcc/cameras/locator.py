"""Which cameras see a point, or stand near it: the spatial index kept in step with the registry."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rtcc.auth import scope
from rtcc.auth.models import Agency
from rtcc.cameras.models import Camera
from rtcc.cameras.spatial_index import CameraIndex, Hit
from rtcc.core.actor import Actor


class CameraLocator:
    """A CameraIndex rebuilt whenever the registry changed (in this process or any other)."""

    def __init__(self):
        self._index = CameraIndex()
        self._fingerprint: tuple | None = None
        self._scope: dict[int, tuple[str, list[str]]] = {}  # camera id -> (agency ORI, groups)
        self._lock = threading.Lock()

    def _registry_fingerprint(self, session: Session) -> tuple:
        # Count, newest id and newest change together move on every insert, update and delete.
        return tuple(session.execute(
            select(func.count(Camera.id), func.max(Camera.id), func.max(Camera.updated_at), func.sum(Camera.id))
        ).one())

    def refresh(self, session: Session) -> None:
        """Rebuild the index if the registry changed since the last build."""
        fingerprint = self._registry_fingerprint(session)
        if fingerprint == self._fingerprint:
            return
        with self._lock:
            if fingerprint == self._fingerprint:
                return
            rows = session.execute(
                select(Camera.id, Camera.latitude, Camera.longitude, Camera.heading_deg, Camera.fov_deg,
                       Camera.range_m, Agency.ori, Camera.groups).join(Agency, Camera.agency_id == Agency.id)
            ).all()
            self._index.build([(row[0], row[1], row[2], row[3], row[4], row[5]) for row in rows])
            self._scope = {row[0]: (row[6], row[7] or []) for row in rows}
            self._fingerprint = fingerprint

    def _in_scope(self, hits: list[Hit], actor: Actor, limit: int) -> list[Hit]:
        visible = []
        for hit in hits:
            agency_ori, groups = self._scope.get(hit.camera_id, (None, []))
            if scope.sees_camera(actor, agency_ori=agency_ori, groups=groups):
                visible.append(hit)
                if len(visible) >= limit:
                    break
        return visible

    def cameras_seeing(self, session: Session, *, actor: Actor, latitude: float, longitude: float, limit: int) -> list[Hit]:
        """Cameras in scope whose view cone contains the point, closest and most centred first."""
        self.refresh(session)
        return self._in_scope(self._index.cameras_seeing(latitude, longitude), actor, limit)

    def cameras_near(self, session: Session, *, actor: Actor, latitude: float, longitude: float,
                     radius_m: float, limit: int) -> list[Hit]:
        """Cameras in scope within radius_m of the point, nearest first (each says whether it sees it)."""
        self.refresh(session)
        return self._in_scope(self._index.cameras_within(latitude, longitude, radius_m), actor, limit)
