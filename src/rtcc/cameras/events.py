"""Events of the camera registry."""

from __future__ import annotations

from rtcc.core.events import Event


class CameraCreated(Event):
    type = "camera.created"
    permission = "cameras.view"
    audit_action = "camera.create"
    camera_id: int


class CameraUpdated(Event):
    """A camera's registry entry changed (`changed` names the fields) or was removed (`deleted`, audited as camera.delete)."""

    type = "camera.updated"
    permission = "cameras.view"
    audit_action = "camera.update"
    camera_id: int
    changed: list[str] | None = None
    deleted: bool = False


class CamerasImported(Event):
    type = "cameras.imported"
    permission = "cameras.view"
    audit_action = "camera.import"
    created: int
    updated: int
