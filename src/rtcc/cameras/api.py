"""Camera registry over HTTP, limited to each caller's agency and camera groups."""


from fastapi import APIRouter, Depends, Request

from rtcc.audit import service as audit
from rtcc.auth.guard import authorize, get_runtime, needs
from rtcc.cameras import service
from rtcc.cameras.models import CAMERA_KINDS
from rtcc.cameras.schemas import CameraOut
from rtcc.core.actor import Actor
from rtcc.core.errors import InvalidInput

router = APIRouter(tags=["cameras"])


@router.get("/cameras", response_model=list[CameraOut], openapi_extra=needs("cameras.view"))
def list_cameras(request: Request, kind: str | None = None, actor: Actor = Depends(authorize)):
    """Cameras the caller may see, optionally of one kind."""
    if kind and kind not in CAMERA_KINDS:
        raise InvalidInput(f"Unknown camera kind {kind!r}; kinds are {', '.join(CAMERA_KINDS)}.", code="invalid_camera_kind")
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        rows = service.visible_cameras(db, actor=actor, kind=kind)
        audit.record(db, keys=runtime.keys, actor=actor, action="camera.list", object_type="camera",
                     query_terms={"kind": kind} if kind else None, details={"count": len(rows)})
        return [CameraOut.of(camera, ori) for camera, ori in rows]


@router.get("/cameras/{camera_id}", response_model=CameraOut, openapi_extra=needs("cameras.view"))
def get_camera(camera_id: int, request: Request, actor: Actor = Depends(authorize)):
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        camera, ori = service.get_visible_camera(db, actor=actor, camera_id=camera_id)
        audit.record(db, keys=runtime.keys, actor=actor, action="camera.view", object_type="camera", object_id=camera_id)
        return CameraOut.of(camera, ori)
