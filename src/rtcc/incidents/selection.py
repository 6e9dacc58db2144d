"""Which cameras to dock onto an incident, in what order, and why; and which to ask footage of instead."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from rtcc.cameras import service as cameras
from rtcc.cameras.locator import CameraLocator
from rtcc.core.actor import Actor

# How far a camera may stand, how many are docked and how many are listed for a footage request
# are settings: camera_selection_radius_m, camera_selection_dock_count, camera_selection_footage_candidates.
# A private integrated camera is docked only when its owner put it in this group (the owner's
# sharing rule, until the community domain holds real consent records).
SHARE_WITH_POLICE_GROUP = "share-with-police"
_LOCATOR_LIMIT = 200


@dataclass(frozen=True)
class DockedCamera:
    camera_id: int
    name: str
    rank: int
    reason: str
    distance_m: float
    sees_location: bool


@dataclass(frozen=True)
class CameraSelection:
    docked: list[DockedCamera]
    footage_request_candidates: list[dict]


def _metres(distance_m: float) -> int:
    return round(distance_m)


def _why_docked(sees: bool, distance_m: float) -> str:
    if sees:
        return f"sees the location at {_metres(distance_m)} m"
    return f"nearest, {_metres(distance_m)} m (does not face it)"


def _why_not_docked(kind: str) -> str | None:
    """Why a camera cannot be docked (its footage must be requested), or None when it can."""
    if kind == "private_registered":
        return "registered private camera: no live stream; request its footage"
    if kind == "private_integrated":
        return f"private camera not shared live (owner has not opted into '{SHARE_WITH_POLICE_GROUP}'); request its footage"
    return None


def select_cameras(session: Session, *, locator: CameraLocator, actor: Actor, latitude: float, longitude: float,
                   radius_m: float, limit: int, candidate_limit: int) -> CameraSelection:
    """Cameras covering the point first (closest), then the nearest within radius_m; the top `limit` are docked,
    and up to `candidate_limit` that cannot be docked are listed for a footage request."""
    seeing = locator.cameras_seeing(session, actor=actor, latitude=latitude, longitude=longitude, limit=_LOCATOR_LIMIT)
    near = locator.cameras_near(session, actor=actor, latitude=latitude, longitude=longitude, radius_m=radius_m,
                                limit=_LOCATOR_LIMIT)
    ordered, seen_ids = [], set()
    for hit in sorted(seeing, key=lambda hit: hit.distance_m) + sorted(near, key=lambda hit: (not hit.sees, hit.distance_m)):
        if hit.camera_id not in seen_ids:
            seen_ids.add(hit.camera_id)
            ordered.append(hit)
    rows = {camera.id: camera for camera, _ in cameras.cameras_by_ids(session, [hit.camera_id for hit in ordered])}
    docked: list[DockedCamera] = []
    candidates: list[dict] = []
    for hit in ordered:
        camera = rows.get(hit.camera_id)
        if camera is None:
            continue
        shared_live = camera.kind != "private_integrated" or SHARE_WITH_POLICE_GROUP in (camera.groups or [])
        refusal = _why_not_docked(camera.kind) if camera.kind == "private_registered" or not shared_live else None
        if refusal:
            if len(candidates) < candidate_limit:
                candidates.append({"camera_id": camera.id, "name": camera.name, "kind": camera.kind,
                                   "owner_name": camera.owner_name, "distance_m": round(hit.distance_m, 1),
                                   "sees_location": hit.sees, "reason": refusal})
            continue
        if len(docked) < limit:
            docked.append(DockedCamera(camera_id=camera.id, name=camera.name, rank=len(docked) + 1,
                                       reason=_why_docked(hit.sees, hit.distance_m),
                                       distance_m=round(hit.distance_m, 1), sees_location=hit.sees))
    return CameraSelection(docked=docked, footage_request_candidates=candidates)
