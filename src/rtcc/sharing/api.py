"""Field shares over HTTP: send one to an officer, list them, revoke one."""

from fastapi import APIRouter, Depends, Request

from rtcc.auth.guard import authorize, get_runtime, needs
from rtcc.core.actor import Actor
from rtcc.core.http import RecordId
from rtcc.core.openapi import error_responses
from rtcc.policy.engine import PolicyRefused
from rtcc.sharing import service
from rtcc.sharing.schemas import ShareCreatedOut, ShareIn, ShareOut

router = APIRouter(tags=["field sharing"])


def field_link(request: Request, raw_token: str) -> str:
    """The officer's link: this server's address and /field/<token>."""
    return str(request.base_url).rstrip("/") + f"/field/{raw_token}"


@router.post("/shares", responses=error_responses(404), response_model=ShareCreatedOut, status_code=201, openapi_extra=needs("shares.send"))
def create_share(body: ShareIn, request: Request, actor: Actor = Depends(authorize)):
    """Send a snapshot, a clip or a time-limited live link to a field officer (purpose and case number required).

    The response's `link` carries the link's token: it is shown this once and stored only as a hash.
    """
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        try:
            share, raw_token = service.create_share(db, runtime=runtime, actor=actor, body=body)
        except PolicyRefused:
            db.commit()  # the refusal and its decision stay on record (nothing else was written yet)
            raise
        return ShareCreatedOut(**service.describe(share).model_dump(), link=field_link(request, raw_token))


@router.get("/shares", response_model=list[ShareOut], openapi_extra=needs("shares.send"))
def list_shares(request: Request, actor: Actor = Depends(authorize)):
    """The caller's shares, newest first (a supervisor sees their agency's)."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return [service.describe(share) for share in service.list_shares(db, runtime=runtime, actor=actor)]


@router.get("/shares/{share_id}", response_model=ShareOut, openapi_extra=needs("shares.send"))
def get_share(share_id: RecordId, request: Request, actor: Actor = Depends(authorize)):
    """One share: its status, when it was opened and how often."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return service.describe(service.view_share(db, runtime=runtime, actor=actor, share_id=share_id))


@router.post("/shares/{share_id}/revoke", response_model=ShareOut, openapi_extra=needs("shares.send"))
def revoke_share(share_id: RecordId, request: Request, actor: Actor = Depends(authorize)):
    """End the link now: its page, media and live stream stop working (sender, or a supervisor of the agency)."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return service.describe(service.revoke_share(db, runtime=runtime, actor=actor, share_id=share_id))
