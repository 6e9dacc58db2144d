"""Camera registry: add, change, remove and list cameras; stream credentials kept encrypted."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rtcc.audit import service as audit
from rtcc.auth import scope
from rtcc.auth.models import Agency
from rtcc.auth.service import get_agency
from rtcc.cameras.events import CameraCreated, CameraUpdated
from rtcc.cameras.models import CAMERA_KINDS, RECORD_MODES, Camera
from rtcc.cameras.stream_urls import StreamSourcePolicy, parse_stream_url
from rtcc.cameras.streams import with_transport
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from rtcc.core.runtime import Runtime

# Fields a caller may set; everything else is the system's.
EDITABLE_FIELDS = (
    "external_id", "name", "kind", "owner_name", "groups", "latitude", "longitude", "mounting_height_m",
    "heading_deg", "fov_deg", "range_m", "main_stream_url", "sub_stream_url", "rtsp_transport", "record_mode",
    "retention_class", "privacy_masks", "reads_plates",
)


def visible_cameras(session: Session, *, actor: Actor, kind: str | None = None) -> list[tuple[Camera, str]]:
    """Cameras in the actor's scope (agency and camera groups), with their agency's ORI."""
    statement = select(Camera, Agency.ori).join(Agency, Camera.agency_id == Agency.id).order_by(Camera.id)
    if kind:
        statement = statement.where(Camera.kind == kind)
    return [(camera, ori) for camera, ori in session.execute(statement)
            if scope.sees_camera(actor, agency_ori=ori, groups=camera.groups or [])]


MAP_FIELDS = ("id", "name", "kind", "latitude", "longitude", "heading_deg", "fov_deg", "range_m", "status",
              "status_detail", "streams")


def map_rows(session: Session, *, actor: Actor) -> list[list]:
    """Every camera in scope as one short row (MAP_FIELDS order): what the map draws, for tens of thousands.

    Reads plain columns rather than ORM objects, and filters by agency in SQL; camera groups are only
    read (and decoded) when the actor is limited to some groups. At 40,000 cameras this is the difference
    between a tenth of a second and over a second before the map can paint.
    """
    columns = [Camera.id, Camera.name, Camera.kind, Camera.latitude, Camera.longitude, Camera.heading_deg,
               Camera.fov_deg, Camera.range_m, Camera.status, Camera.status_detail, Camera.main_stream_url.is_not(None)]
    # The same rule as scope.sees_camera, in SQL where it can be.
    of_agencies = scope.agency_condition(actor, Agency.ori, kind=scope.CAMERAS)
    limited_to_groups = scope.camera_groups_limit(actor) is not None
    statement = select(*columns, *([Camera.groups] if limited_to_groups else [])).order_by(Camera.id)
    if of_agencies is not None:
        statement = statement.join(Agency, Camera.agency_id == Agency.id).where(of_agencies)
    rows = []
    for row in session.execute(statement):
        if limited_to_groups and not scope.sees_camera_groups(actor, row[-1] or ()):
            continue
        id_, name, kind, latitude, longitude, heading, fov, range_m, status, detail, has_stream = row[:11]
        rows.append([id_, name, kind, round(latitude, 6), round(longitude, 6), heading, fov, range_m, status, detail,
                     bool(has_stream) and kind != "private_registered"])
    return rows


def get_visible_camera(session: Session, *, actor: Actor, camera_id: int) -> tuple[Camera, str]:
    """One camera, or NotFound when it does not exist or is outside the actor's scope."""
    row = session.execute(
        select(Camera, Agency.ori).join(Agency, Camera.agency_id == Agency.id).where(Camera.id == camera_id)
    ).one_or_none()
    if row is None or not scope.sees_camera(actor, agency_ori=row[1], groups=row[0].groups or []):
        raise NotFound(f"No camera {camera_id}.", code="camera_not_found")
    return row[0], row[1]


def cameras_by_ids(session: Session, ids: list[int]) -> list[tuple[Camera, str]]:
    """These cameras with their agency's ORI (no scope check: callers filtered already)."""
    if not ids:
        return []
    return list(session.execute(
        select(Camera, Agency.ori).join(Agency, Camera.agency_id == Agency.id).where(Camera.id.in_(ids))
    ).all())


def split_credentials(url: str | None, *, policy: StreamSourcePolicy | None = None,
                      field: str = "stream URL") -> tuple[str | None, dict[str, str] | None]:
    """A stream URL without its user:password, and the credentials it carried (if any); checked by `policy`."""
    if not url:
        return None, None
    if policy is not None:
        policy.check_url(url, field=field)
    parts = parse_stream_url(url, field=field, allow_file=True)
    credentials = None
    if parts.username is not None:
        credentials = {"username": unquote(parts.username), "password": unquote(parts.password or "")}
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)), credentials


def stream_url_for_ingest(camera: Camera, *, runtime: Runtime, sub_stream: bool = False,
                          resolve_hosts: bool = True) -> str | None:
    """The URL with credentials put back (and the RTSP transport), for ingest only; never returned by the API.

    Checked again here, right before a worker opens it: a camera stored before the rule, or a name that
    now resolves to loopback, raises StreamSourceRefused rather than being opened.
    """
    field = "sub_stream_url" if sub_stream and camera.sub_stream_url else "main_stream_url"
    url = getattr(camera, field)
    if not url:
        return url
    StreamSourcePolicy.of(runtime.settings).check_url(url, field=field, resolve=resolve_hosts)
    url = with_transport(url, camera.rtsp_transport or "tcp")
    if not camera.stream_credentials_encrypted:
        return url
    credentials = json.loads(runtime.keys.decrypt(camera.stream_credentials_encrypted))
    parts = urlsplit(url)
    userinfo = quote(credentials["username"], safe="") + ":" + quote(credentials["password"], safe="")
    return urlunsplit((parts.scheme, f"{userinfo}@{parts.netloc}", parts.path, parts.query, parts.fragment))


def _validate(values: dict[str, Any]) -> None:
    if values.get("kind") is not None and values["kind"] not in CAMERA_KINDS:
        raise InvalidInput(f"Unknown camera kind {values['kind']!r}; kinds are {', '.join(CAMERA_KINDS)}.", code="invalid_camera_kind")
    if values.get("record_mode") is not None and values["record_mode"] not in RECORD_MODES:
        raise InvalidInput(f"record_mode must be one of {', '.join(RECORD_MODES)}.", code="invalid_record_mode")
    latitude, longitude = values.get("latitude"), values.get("longitude")
    if latitude is not None and not -90 <= latitude <= 90 or longitude is not None and not -180 <= longitude <= 180:
        raise InvalidInput("Position must be WGS84 latitude (-90..90) and longitude (-180..180).", code="invalid_position")
    if values.get("kind") == "private_registered" and values.get("main_stream_url"):
        raise InvalidInput("A private_registered camera shares no stream; use private_integrated.", code="invalid_stream_url")


def _apply(camera: Camera, values: dict[str, Any], *, runtime: Runtime, credentials: dict[str, str] | None) -> list[str]:
    """Set fields on a camera; returns the names changed (credentials reported, never shown)."""
    changed = []
    found_credentials = credentials
    policy = StreamSourcePolicy.of(runtime.settings)
    for field in ("main_stream_url", "sub_stream_url"):
        if field in values:
            clean, embedded = split_credentials(values[field], policy=policy, field=field)
            values[field] = clean
            found_credentials = found_credentials or embedded
    for field, value in values.items():
        if field in EDITABLE_FIELDS and getattr(camera, field) != value:
            setattr(camera, field, value % 360 if field == "heading_deg" and value is not None else value)
            changed.append(field)
    if found_credentials:
        camera.stream_credentials_encrypted = runtime.keys.encrypt(json.dumps(found_credentials))
        changed.append("stream_credentials")
    return changed


def require_manageable(actor: Actor, agency: Agency) -> None:
    if not scope.sees_agency(actor, agency.ori, kind=scope.CAMERAS):
        raise PermissionDenied("You may manage only your own agency's cameras.")


def new_camera(*, runtime: Runtime, agency_id: int, values: dict[str, Any], credentials: dict[str, str] | None = None) -> Camera:
    """A validated, unsaved camera with the model's defaults for whatever is not given."""
    _validate(values)
    camera = Camera(
        agency_id=agency_id, groups=[], privacy_masks=[], mounting_height_m=4.0, heading_deg=0.0, fov_deg=60.0,
        range_m=80.0, rtsp_transport="tcp", record_mode="continuous", retention_class="standard", reads_plates=False,
        status="unknown", created_at=clock.utcnow(),
    )
    _apply(camera, {k: v for k, v in values.items() if v is not None}, runtime=runtime, credentials=credentials)
    return camera


def create_camera(session: Session, *, runtime: Runtime, actor: Actor, agency_ori: str | None, values: dict[str, Any],
                  credentials: dict[str, str] | None = None) -> Camera:
    """Register a camera, audited."""
    agency = get_agency(session, ori=agency_ori or actor.agency_ori or "")
    require_manageable(actor, agency)
    if values.get("external_id") is not None and _by_external_id(session, agency.id, values["external_id"]):
        raise Conflict(f"Agency {agency.ori} already has a camera with id {values['external_id']}.", code="camera_exists")
    camera = new_camera(runtime=runtime, agency_id=agency.id, values=values, credentials=credentials)
    session.add(camera)
    session.flush()
    audit.record(session, keys=runtime.keys, actor=actor,
                 event=CameraCreated(agency_ori=agency.ori, camera_groups=camera.groups, camera_id=camera.id),
                 object_type="camera", object_id=camera.id,
                 details={"name": camera.name, "kind": camera.kind, "agency": agency.ori})
    return camera


def _by_external_id(session: Session, agency_id: int, external_id: str) -> Camera | None:
    return session.execute(
        select(Camera).where(Camera.agency_id == agency_id, Camera.external_id == external_id)
    ).scalar_one_or_none()


def update_camera(session: Session, *, runtime: Runtime, actor: Actor, camera_id: int, values: dict[str, Any],
                  credentials: dict[str, str] | None = None) -> Camera:
    """Change a camera's fields; the audit record lists which fields changed."""
    camera, ori = get_visible_camera(session, actor=actor, camera_id=camera_id)
    require_manageable(actor, session.get(Agency, camera.agency_id))
    _validate({**{"kind": camera.kind}, **values})
    # A null sent for a column that must hold a value would fail at the audit record's flush (503).
    emptied = sorted(field for field, value in values.items()
                     if value is None and field in Camera.__table__.c and not Camera.__table__.c[field].nullable)
    if emptied:
        raise InvalidInput(f"{', '.join(emptied)} cannot be null; leave a field out to keep it.", code="field_required")
    taken = values.get("external_id")
    if taken is not None and taken != camera.external_id and _by_external_id(session, camera.agency_id, taken):
        raise Conflict(f"Agency {ori} already has a camera with id {taken}.", code="camera_exists")
    changed = _apply(camera, values, runtime=runtime, credentials=credentials)
    if changed:
        camera.updated_at = clock.utcnow()
        audit.record(session, keys=runtime.keys, actor=actor,
                     event=CameraUpdated(agency_ori=ori, camera_groups=camera.groups, camera_id=camera.id, changed=changed),
                     object_type="camera", object_id=camera.id, details={"changed": changed})
    return camera


def delete_camera(session: Session, *, runtime: Runtime, actor: Actor, camera_id: int) -> None:
    """Remove a camera from the registry (its recordings follow their own retention)."""
    camera, ori = get_visible_camera(session, actor=actor, camera_id=camera_id)
    require_manageable(actor, session.get(Agency, camera.agency_id))
    audit.record(session, keys=runtime.keys, actor=actor, action="camera.delete",
                 event=CameraUpdated(agency_ori=ori, camera_groups=camera.groups, camera_id=camera.id, deleted=True),
                 object_type="camera", object_id=camera.id, details={"name": camera.name})
    session.delete(camera)


def cameras_by_external_id(session: Session, *, agency_id: int, external_ids: list[str]) -> dict[str, Camera]:
    """The agency's cameras with these external ids (looked up in chunks)."""
    found: dict[str, Camera] = {}
    for start in range(0, len(external_ids), 900):
        chunk = external_ids[start:start + 900]
        for camera in session.execute(
            select(Camera).where(Camera.agency_id == agency_id, Camera.external_id.in_(chunk))
        ).scalars():
            found[camera.external_id] = camera
    return found


def apply_changes(camera: Camera, *, runtime: Runtime, values: dict[str, Any]) -> list[str]:
    """Validate and set fields on an existing camera; returns the names changed."""
    _validate({"kind": camera.kind, **values})
    changed = _apply(camera, values, runtime=runtime, credentials=None)
    if changed:
        camera.updated_at = clock.utcnow()
    return changed


def count_cameras(session: Session) -> int:
    return session.execute(select(func.count()).select_from(Camera)).scalar_one()
