"""Whose plates: the camera and agency scope that every list of reads or alerts, and every one fetched by id, applies.

A read belongs to the camera that made it: an actor sees it where they see that camera (auth/scope.py sees_camera).
An alert belongs to its hotlist's agency (casework: sees_agency) and, for someone limited to some camera groups, only
on cameras of those groups. The rule is auth/scope.py's; these are its queries over reads and alerts. A read from an external reader, or from a camera id the registry does not hold (since
removed, or a device's own numbering), names no camera scope; only the permission then decides.
"""

from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from rtcc.auth import scope
from rtcc.auth.models import Agency
from rtcc.cameras.models import Camera
from rtcc.core.actor import Actor


def camera_scope(session: Session, camera_id: int | None) -> tuple[str, list[str]] | None:
    """The agency ORI and groups of a registered camera; None for no camera or one the registry does not hold."""
    if camera_id is None:
        return None
    row = session.execute(
        select(Agency.ori, Camera.groups).join(Agency, Camera.agency_id == Agency.id).where(Camera.id == camera_id)
    ).one_or_none()
    return (row[0], list(row[1] or [])) if row else None


def sees_read(session: Session, *, actor: Actor, camera_id: int | None) -> bool:
    """Whether a read of this camera is inside the actor's camera scope (agency and camera groups)."""
    found = camera_scope(session, camera_id)
    return found is None or scope.sees_camera(actor, agency_ori=found[0], groups=found[1])


def sees_alert_camera(session: Session, *, actor: Actor, camera_id: int | None) -> bool:
    """Whether an alert on this camera shows to the actor (whose agency owns the alert's hotlist)."""
    found = camera_scope(session, camera_id)
    # The alert is the hotlist agency's even on a neighbour's camera; only the actor's group limits apply.
    return found is None or scope.sees_camera_groups(actor, found[1])


def camera_condition(session: Session, *, actor: Actor, column, same_agency: bool):
    """A SQL condition keeping rows whose camera (`column`) is in scope, or None when nothing is excluded.

    `same_agency`: the camera must also be of the actor's agency (reads); alerts apply the group limits only.
    """
    agencies = scope.agencies_visible_to(actor, kind=scope.CAMERAS) if same_agency else None
    groups = scope.camera_groups_limit(actor)
    if agencies is None and groups is None:
        return None
    unregistered = ~exists(select(Camera.id).where(Camera.id == column))
    if groups is None:
        foreign = exists(select(Camera.id).join(Agency, Camera.agency_id == Agency.id)
                         .where(Camera.id == column, Agency.ori.not_in(sorted(agencies))))
        return ~foreign
    # Limited to some groups: the cameras that qualify are named by id (groups are JSON, matched the same way on both
    # engines). Only candidates are read: the agency's own cameras for reads, cameras that alerted for alerts.
    candidates = select(Camera.id, Camera.groups).join(Agency, Camera.agency_id == Agency.id)
    if agencies is not None:
        candidates = candidates.where(Agency.ori.in_(sorted(agencies)))
    else:
        candidates = candidates.where(Camera.id.in_(select(column).where(column.is_not(None)).distinct()))
    visible = [camera_id for camera_id, camera_groups in session.execute(candidates)
               if scope.sees_camera_groups(actor, camera_groups or [])]
    return or_(column.is_(None), column.in_(visible), unregistered)
