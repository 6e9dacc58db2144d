"""Events of recording, camera pipelines and evidence."""

from __future__ import annotations

from rtcc.core.events import Event


class CameraStatusChanged(Event):
    """A camera's pipeline settled in a new state (the system acts, nothing is audited)."""

    type = "camera.status"
    permission = "cameras.view"
    camera_id: int
    status: str
    detail: str | None = None


class MotionDetected(Event):
    type = "camera.motion"
    permission = "cameras.view"
    camera_id: int


class EvidenceExported(Event):
    type = "evidence.exported"
    permission = "video.export"
    audit_action = "video.export"
    export_id: int
    camera_id: int
    case_number: str | None = None
