"""CAD calls in, incidents out, over HTTP."""

from fastapi import APIRouter, Depends, Request, Response

from rtcc.auth.guard import authorize, get_runtime, needs
from rtcc.cameras.locator import CameraLocator
from rtcc.core.actor import Actor
from rtcc.core.http import RecordId
from rtcc.incidents import calls, service
from rtcc.incidents.schemas import (
    CallIn,
    CallReceivedOut,
    FootageRequestIn,
    IncidentIn,
    IncidentDetailOut,
    IncidentOut,
    NoteIn,
)

router = APIRouter(tags=["incidents"])


def camera_locator(request: Request) -> CameraLocator:
    """The app's one camera locator (shared with the cameras routes through app state)."""
    state = request.app.state
    if getattr(state, "camera_locator", None) is None:
        state.camera_locator = CameraLocator()
    return state.camera_locator


@router.post("/cad/calls", response_model=CallReceivedOut, status_code=201,
             responses={200: {"description": "The call's incident was updated or closed."},
                        202: {"description": "Stored; this call opens no incident."}},
             openapi_extra=needs("cad.ingest"))
def receive_call(body: CallIn, request: Request, response: Response, actor: Actor = Depends(authorize)):
    """Receive a call for service; the same call_id updates it, status 'closed' closes it and its incident."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        outcome = calls.receive_call(db, runtime=runtime, locator=camera_locator(request), actor=actor,
                                     values=calls.call_values(body))
        if outcome.incident is None:
            response.status_code = 202
            return CallReceivedOut(call_id=outcome.call.call_id, incident=None)
        response.status_code = 201 if outcome.opened else 200
        return CallReceivedOut(call_id=outcome.call.call_id,
                               incident=service.describe_incident(db, actor=actor, incident=outcome.incident))


@router.post("/incidents", response_model=IncidentDetailOut, status_code=201, openapi_extra=needs("incidents.manage"))
def open_incident(body: IncidentIn, request: Request, actor: Actor = Depends(authorize)):
    """Open an incident by hand (something seen on camera, a walk-in report); cameras dock as for a call."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        incident = service.open_incident(db, runtime=runtime, locator=camera_locator(request), actor=actor,
                                         agency_id=service.actor_agency_id(db, actor), call_id=None, **body.model_dump())
        return service.describe_incident(db, actor=actor, incident=incident)


@router.get("/incidents", response_model=list[IncidentOut], openapi_extra=needs("incidents.view"))
def list_open_incidents(request: Request, actor: Actor = Depends(authorize)):
    """Open incidents, newest first."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return [IncidentOut(id=incident.id, title=incident.title, type=incident.type, priority=incident.priority,
                            latitude=incident.latitude, longitude=incident.longitude, address=incident.address,
                            status=incident.status, agency_ori=ori, call_id=incident.call_id,
                            opened_at=incident.opened_at, closed_at=incident.closed_at)
                for incident, ori in service.list_open_incidents(db, runtime=runtime, actor=actor)]


@router.get("/incidents/{incident_id}", response_model=IncidentDetailOut, openapi_extra=needs("incidents.view"))
def get_incident(incident_id: RecordId, request: Request, actor: Actor = Depends(authorize)):
    """One incident with its timeline, docked cameras and footage-request candidates."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return service.view_incident(db, runtime=runtime, actor=actor, incident_id=incident_id)


@router.post("/incidents/{incident_id}/notes", response_model=IncidentDetailOut, status_code=201,
             openapi_extra=needs("incidents.manage"))
def add_note(incident_id: RecordId, body: NoteIn, request: Request, actor: Actor = Depends(authorize)):
    """Add a note to the incident's timeline."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return service.add_note(db, runtime=runtime, actor=actor, incident_id=incident_id, text=body.text)


@router.post("/incidents/{incident_id}/footage-requests", response_model=IncidentDetailOut, status_code=201,
             openapi_extra=needs("incidents.manage"))
def request_footage(incident_id: RecordId, body: FootageRequestIn, request: Request, actor: Actor = Depends(authorize)):
    """Ask the owner of a nearby private camera for footage; recorded on the incident's timeline."""
    runtime = get_runtime(request)
    with runtime.database.session() as db:
        return service.request_footage(db, runtime=runtime, actor=actor, incident_id=incident_id,
                                       camera_id=body.camera_id, note=body.note)
