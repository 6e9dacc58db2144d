"""Field sharing, the sender's side: send a snapshot, a clip or a time-limited live link to one field officer.

Create, list and revoke act as a console Actor, audited in the same transaction. What the officer does
with the link (verify, open, fetch the media, watch live) is in links.py.
"""

from __future__ import annotations

import secrets
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from rtcc.audit import service as audit
from rtcc.auth import scope
from rtcc.auth.models import Agency, User
from rtcc.auth.permissions import permissions_of
from rtcc.auth.service import account_status, find_user
from rtcc.auth.sessions import hash_token, user_actor
from rtcc.cameras.models import Camera
from rtcc.cameras.service import get_visible_camera
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import InvalidInput, NotFound, PermissionDenied
from rtcc.core.events import emit
from rtcc.core.runtime import Runtime
from rtcc.incidents import service as incidents
from rtcc.policy import engine as policy
from rtcc.policy.purposes import require_category
from rtcc.sharing.events import ShareCreated, ShareEvent, ShareRevoked
from rtcc.sharing.models import FieldShare
from rtcc.sharing.schemas import ShareIn, ShareOut
from rtcc.video.recording import playback
from rtcc.video.evidence.export import CASE_NUMBER
from rtcc.video.models import RecordingSegment
from rtcc.video.recording.storage import sha256_of
from rtcc.video.pipeline.recording_supervisor import media_store

LIST_LIMIT = 200
MEDIA_TYPES = {"snapshot": "image/jpeg", "clip": "video/mp4"}
# What the officer is told, and the HTTP status, for each reason a link is refused.
REFUSALS: dict[str, tuple[int, str]] = {
    "unknown_link": (404, "This link is not valid."),
    "revoked": (410, "This link was revoked by the sender."),
    "expired": (410, "This link has expired."),
    "already_used": (403, "This link has already been used."),
    "wrong_person": (403, "This link was sent to someone else."),
    "wrong_code": (401, "That code is not valid. Enter the current 6-digit code from your authenticator."),
    "account_unavailable": (403, "Your account is locked or disabled."),
    "account_locked": (423, "Too many failed attempts: your account is now locked. An administrator must unlock it."),
    "wrong_kind": (404, "This link has no such content."),
    "media_gone": (410, "The shared content is no longer kept."),
}


def shares_root(runtime: Runtime) -> Path:
    return runtime.settings.data_dir / "shares"


def share_status(share: FieldShare, now: datetime | None = None) -> str:
    now = now or clock.utcnow()
    if share.revoked_at is not None:
        return "revoked"
    if share.expires_at <= now:
        return "expired"
    return "opened" if share.redeemed_at is not None else "pending"


def describe(share: FieldShare) -> ShareOut:
    return ShareOut(
        id=share.id, kind=share.kind, camera_id=share.camera_id, camera_name=share.camera_name,
        recipient=share.recipient_username, sender=share.sender_username, incident_id=share.incident_id,
        purpose=share.purpose, purpose_category=share.purpose_category, case_number=share.case_number,
        message=share.message, at=share.at,
        start=share.starts_at, end=share.ends_at, media_type=share.media_type, media_sha256=share.media_sha256,
        media_bytes=share.media_bytes, created_at=share.created_at, expires_at=share.expires_at,
        status=share_status(share), redeemed_at=share.redeemed_at, revoked_at=share.revoked_at,
        revoked_by=share.revoked_by, open_count=share.open_count, last_opened_at=share.last_opened_at,
    )


def recipient_actor(user: User, *, source_address: str | None) -> Actor:
    """The officer as the audit trail names them when they open a link (not a console session)."""
    return user_actor(user, via="share", permissions=permissions_of(user.role), source_address=source_address)


# --- the sender's side ------------------------------------------------------------------------

def _recipient(session: Session, *, actor: Actor, username: str, camera: Camera, camera_ori: str) -> User:
    name = username.strip().lower()
    user = find_user(session, username=name)
    if user is None:
        raise InvalidInput(f"No account named {name}.", code="recipient_not_found")
    if not scope.receives_field_links(user.role):
        raise InvalidInput(f"{name} is not a field officer: links are sent to field officers only.",
                           code="recipient_not_field_officer")
    if account_status(user) != "active":
        raise InvalidInput(f"{name}'s account is {account_status(user)}.", code="recipient_unavailable")
    # An officer of another agency is outside the sender's scope: the policy engine decides that share
    # (create_share), and the officer's own camera scope says nothing about this agency's cameras.
    other_agency = not scope.sees_agency(actor, user.agency.ori, kind=scope.RECORDS)
    if not other_agency and not scope.sees_camera(recipient_actor(user, source_address=None), agency_ori=camera_ori, groups=camera.groups or []):
        raise InvalidInput(f"{name} may not see camera {camera.name}.", code="recipient_out_of_scope")
    return user


def _expiry(runtime: Runtime, minutes: int | None) -> timedelta:
    settings = runtime.settings
    if minutes is not None and minutes > settings.share_max_minutes:
        raise InvalidInput(f"A link may work for at most {settings.share_max_minutes} minutes.", code="expiry_too_long")
    return timedelta(minutes=minutes or min(settings.share_default_minutes, settings.share_max_minutes))


def _no_recording(message: str) -> InvalidInput:
    return InvalidInput(message, code="no_recording")


def _freeze_snapshot(session: Session, runtime: Runtime, camera_id: int, at: datetime | None,
                     folder: Path) -> tuple[datetime, Path]:
    store = media_store(runtime)
    if at is None:  # the newest recorded frame
        latest = session.execute(
            select(RecordingSegment).where(RecordingSegment.camera_id == camera_id)
            .order_by(RecordingSegment.ended_at.desc()).limit(1)
        ).scalar_one_or_none()
        if latest is None:
            raise _no_recording("Nothing has been recorded on this camera, so there is no still to share.")
        at = max(latest.started_at, latest.ended_at - timedelta(milliseconds=500))
        segments = [latest]
    else:
        if at > clock.utcnow():
            raise InvalidInput("'at' is in the future.", code="invalid_range")
        segments = playback.segments_between(session, camera_id=camera_id, start=at - playback.SPAN_TOLERANCE,
                                             end=at + playback.SPAN_TOLERANCE)
    try:
        image = playback.snapshot_jpeg(store, segments, at, ffmpeg=runtime.settings.ffmpeg_path)
    except NotFound:
        raise _no_recording("Nothing was recorded at that instant.")
    path = folder / f"{uuid.uuid4().hex}.jpg"
    path.write_bytes(image)
    return at, path


def _freeze_clip(session: Session, runtime: Runtime, camera_id: int, start: datetime | None, end: datetime | None,
                 folder: Path) -> Path:
    if start is None or end is None:
        raise InvalidInput("A clip needs a start and an end.", code="invalid_range")
    segments = playback.segments_between(session, camera_id=camera_id, start=start, end=end)
    if not segments:
        raise _no_recording("Nothing was recorded in that time range.")
    path = folder / f"{uuid.uuid4().hex}.mp4"
    with tempfile.TemporaryDirectory(dir=folder) as work:
        cut = Path(work) / "cut.mp4"
        playback.write_clip(media_store(runtime), segments, start, end, cut, ffmpeg=runtime.settings.ffmpeg_path)
        # A plain MP4 with its index first plays (and seeks) on any phone's <video>, fragmented MP4 not always.
        result = subprocess.run([runtime.settings.ffmpeg_path, "-nostdin", "-hide_banner", "-loglevel", "error",
                                 "-i", str(cut), "-c", "copy", "-movflags", "+faststart", "-f", "mp4", str(path)],
                                capture_output=True, text=True, timeout=600)
        if result.returncode != 0 or not path.exists() or path.stat().st_size == 0:
            path.unlink(missing_ok=True)
            raise playback.MediaError(f"The clip could not be prepared: {result.stderr.strip()[-200:] or 'ffmpeg failed'}")
    return path


def create_share(session: Session, *, runtime: Runtime, actor: Actor, body: ShareIn) -> tuple[FieldShare, str]:
    """Check the policy, freeze the content, record the share; returns it and the link's raw token (once)."""
    needed = "video.live" if body.kind == "live" else "video.playback"
    if not actor.can(needed):
        raise PermissionDenied(f"Sharing {'live video' if body.kind == 'live' else 'recorded video'} needs {needed}.")
    if not CASE_NUMBER.match(body.case_number or ""):
        raise InvalidInput("A case number is required (letters, digits, . _ / -).", code="case_number_required")
    camera, camera_ori = get_visible_camera(session, actor=actor, camera_id=body.camera_id)
    recipient = _recipient(session, actor=actor, username=body.recipient, camera=camera, camera_ori=camera_ori)
    category = require_category(session, body.purpose_category).code
    # Every share is decided (same agency: "same agency"); a refusal is on record when PolicyRefused leaves.
    policy.require(session, keys=runtime.keys, actor=actor, recipient_agency=recipient.agency.ori, data_class="video",
                   purpose=category, action="share", subject=f"camera {camera.id}",
                   what=f"Sharing to {recipient.username} of {recipient.agency.ori}")
    lifetime = _expiry(runtime, body.minutes)
    incident = (incidents.get_visible_incident(session, actor=actor, incident_id=body.incident_id)
                if body.incident_id is not None else None)
    if body.kind == "live" and (not camera.main_stream_url or camera.kind == "private_registered"):
        raise InvalidInput(f"Camera {camera.name} has no live stream to share.", code="no_live_stream")
    if body.kind != "clip" and (body.start or body.end):
        raise InvalidInput("'start' and 'end' are for clips.", code="invalid_range")
    if body.kind != "snapshot" and body.at:
        raise InvalidInput("'at' is for snapshots.", code="invalid_range")
    agency = session.execute(select(Agency).where(Agency.ori == actor.agency_ori)).scalar_one_or_none()
    if agency is None:
        raise PermissionDenied("Only a person of an agency may share to the field.")

    folder = shares_root(runtime)
    folder.mkdir(parents=True, exist_ok=True)
    media: Path | None = None
    at = None
    if body.kind == "snapshot":
        at, media = _freeze_snapshot(session, runtime, camera.id, body.at, folder)
    elif body.kind == "clip":
        media = _freeze_clip(session, runtime, camera.id, body.start, body.end, folder)
    try:
        raw_token = secrets.token_urlsafe(32)
        now = clock.utcnow()
        share = FieldShare(
            kind=body.kind, camera_id=camera.id, camera_name=camera.name, agency_id=agency.id,
            sender_username=actor.username or "unknown", recipient_user_id=recipient.id,
            recipient_username=recipient.username, incident_id=incident.id if incident else None,
            purpose=body.purpose, purpose_category=category, case_number=body.case_number,
            message=body.message or None, at=at,
            starts_at=body.start if body.kind == "clip" else None, ends_at=body.end if body.kind == "clip" else None,
            media_path=media.name if media else None, media_type=MEDIA_TYPES.get(body.kind),
            media_sha256=sha256_of(media) if media else None, media_bytes=media.stat().st_size if media else None,
            created_at=now, expires_at=now + lifetime, token_hash=hash_token(raw_token), open_count=0,
        )
        session.add(share)
        session.flush()
        if incident is not None:
            incidents.add_timeline_entry(
                session, incident=incident, actor=actor, kind="shared_to_field",
                summary=f"{body.kind.capitalize()} of camera {camera.name} shared to {recipient.username}: {body.purpose}",
                data={"share_id": share.id, "kind": body.kind, "camera_id": camera.id, "recipient": recipient.username,
                      "case_number": body.case_number, "expires_at": clock.iso(share.expires_at)})
            emit(session, incidents.incident_updated(session, incident=incident, change="shared_to_field"))
        audit.record(session, keys=runtime.keys, actor=actor,
                     event=ShareCreated(agency_ori=actor.agency_ori, camera_groups=camera.groups, **ShareEvent.fields_of(share)),
                     object_type="share", object_id=share.id, purpose=body.purpose, case_number=body.case_number,
                     details={"kind": body.kind, "camera_id": camera.id, "recipient": recipient.username,
                              "recipient_agency": recipient.agency.ori, "purpose_category": category,
                              "incident_id": share.incident_id, "expires_at": clock.iso(share.expires_at),
                              "at": clock.iso(at), "start": clock.iso(share.starts_at), "end": clock.iso(share.ends_at),
                              "media_sha256": share.media_sha256})
    except BaseException:
        if media is not None:
            media.unlink(missing_ok=True)
        raise
    return share, raw_token


def share_agency_ori(session: Session, share: FieldShare) -> str | None:
    agency = session.get(Agency, share.agency_id)
    return agency.ori if agency else None


def _oversees(actor: Actor, share_ori: str | None) -> bool:
    return scope.oversees(actor, share_ori, kind=scope.SHARES)


def get_share(session: Session, *, actor: Actor, share_id: int) -> FieldShare:
    """A share the actor sent, or one of their agency's when they supervise; NotFound otherwise."""
    share = session.get(FieldShare, share_id)
    if share is None or not (share.sender_username == actor.username or _oversees(actor, share_agency_ori(session, share))):
        raise NotFound(f"No share {share_id}.", code="share_not_found")
    return share


def view_share(session: Session, *, runtime: Runtime, actor: Actor, share_id: int) -> FieldShare:
    share = get_share(session, actor=actor, share_id=share_id)
    audit.record(session, keys=runtime.keys, actor=actor, action="share.view", object_type="share", object_id=share.id)
    return share


def list_shares(session: Session, *, runtime: Runtime, actor: Actor) -> list[FieldShare]:
    """The actor's own shares, newest first; a supervisor sees every share of their agency."""
    statement = select(FieldShare).order_by(FieldShare.created_at.desc(), FieldShare.id.desc()).limit(LIST_LIMIT)
    if scope.oversees_own_agency(actor, kind=scope.SHARES):
        statement = statement.join(Agency, FieldShare.agency_id == Agency.id).where(
            or_(Agency.ori == actor.agency_ori, FieldShare.sender_username == actor.username))
    else:
        statement = statement.where(FieldShare.sender_username == actor.username)
    shares = list(session.execute(statement).scalars())
    audit.record(session, keys=runtime.keys, actor=actor, action="share.list", object_type="share",
                 details={"count": len(shares)})
    return shares


def revoke_share(session: Session, *, runtime: Runtime, actor: Actor, share_id: int) -> FieldShare:
    """End a link now (its sender, or a supervisor of its agency); revoking twice changes nothing."""
    share = get_share(session, actor=actor, share_id=share_id)
    if share.revoked_at is not None:
        return share
    was = share_status(share)
    share.revoked_at, share.revoked_by = clock.utcnow(), actor.username
    end_media(session, runtime, share)
    audit.record(session, keys=runtime.keys, actor=actor,
                 event=ShareRevoked(agency_ori=share_agency_ori(session, share), **ShareEvent.fields_of(share),
                                    revoked_by=actor.username),
                 object_type="share", object_id=share.id, case_number=share.case_number,
                 details={"recipient": share.recipient_username, "was": was})
    return share


def delete_media(runtime: Runtime, share: FieldShare) -> None:
    if share.media_path and share.media_deleted_at is None:
        (shares_root(runtime) / share.media_path).unlink(missing_ok=True)
        share.media_deleted_at = clock.utcnow()


# Whether a legal hold covers a share's frozen copy. Holds are governance's, above this domain, so governance
# hands the check in at start-up (bootstrap), as video hands cameras its recording facts.
MediaHoldCheck = Callable[[Session, FieldShare], bool]
_media_hold_check: MediaHoldCheck | None = None


def provide_media_hold_check(check: MediaHoldCheck | None) -> None:
    global _media_hold_check
    _media_hold_check = check


def end_media(session: Session, runtime: Runtime, share: FieldShare) -> None:
    """A link ended (revoked or expired): its frozen copy goes now, unless a legal hold covers it; then the
    retention engine's field-share purge deletes it once the hold is released."""
    if _media_hold_check is not None and _media_hold_check(session, share):
        return
    delete_media(runtime, share)

