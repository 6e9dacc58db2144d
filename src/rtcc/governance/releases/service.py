"""Public-records releases: a clip requested, redacted into a release copy, approved by another supervisor, handed out.

Every step is a person's act, audited with the request's purpose. The clip the copy is made from is only read:
a camera's window is first cut (stream copy) into the request's own folder, an export's clip is read where the
bag keeps it, and its SHA-256, taken when the request is made, is checked again before every render. The
render itself, outside any transaction, and the finding of renders cut off are rendering.py.
"""

from __future__ import annotations

import logging
import subprocess
import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rtcc.audit import service as audit
from rtcc.auth import scope
from rtcc.cameras.service import cameras_by_ids, get_visible_camera
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from rtcc.core.runtime import Runtime
from rtcc.governance.releases import redaction
from rtcc.governance.releases.events import (
    ReleaseBoxAdded,
    ReleaseDecided,
    ReleaseRenderStarted,
    ReleaseRequested,
)
from rtcc.governance.releases.models import ReleaseRequest
from rtcc.governance.releases.rendering import (
    _drop_copy,
    _render_is_running,
    release_event,
    releases_root,
    source_file,
)
from rtcc.governance.releases.schemas import BoxIn, DecisionIn, ReleaseIn, ReleaseOut
from rtcc.video.evidence import export as exports
from rtcc.video.pipeline.supervisor import media_store
from rtcc.video.recording import playback
from rtcc.video.recording.storage import sha256_of

log = logging.getLogger(__name__)
LIST_LIMIT = 200
EDITABLE = ("requested", "rendered", "failed", "interrupted")  # boxes may be added and a render started
# A render may also be started again over one still "rendering" whose process is gone (before the recovery job saw
# it). Each render writes to the copy name its start recorded and keeps its result only if that name is still current.
RENDERABLE = (*EDITABLE, "rendering")
def describe(release: ReleaseRequest) -> ReleaseOut:
    return ReleaseOut(
        id=release.id, records_request_number=release.records_request_number, requester=release.requester,
        purpose=release.purpose, agency_ori=release.agency_ori, camera_id=release.camera_id, start=release.starts_at,
        end=release.ends_at, export_id=release.export_id, status=release.status, width=release.width,
        height=release.height, fps=release.fps, original_sha256=release.original_sha256,
        source_segment_sha256=list(release.source_segment_sha256 or []), manual_boxes=list(release.manual_boxes or []),
        redactions=release.redactions, release_sha256=release.release_sha256, release_bytes=release.release_bytes,
        render_seconds=release.render_seconds, render_error=release.render_error, requested_by=release.requested_by,
        requested_at=release.requested_at, rendered_at=release.rendered_at, decided_by=release.decided_by,
        decided_at=release.decided_at, decision_note=release.decision_note,
    )


# --- making a request -------------------------------------------------------------------------------------------

def _cut_camera_window(session: Session, runtime: Runtime, actor: Actor, body: ReleaseIn) -> tuple[str, list[str]]:
    get_visible_camera(session, actor=actor, camera_id=body.camera_id)
    segments = playback.segments_between(session, camera_id=body.camera_id, start=body.start, end=body.end)
    if not segments:
        raise InvalidInput("Nothing was recorded on that camera in that time range.", code="no_recording")
    folder = releases_root(runtime) / uuid.uuid4().hex
    folder.mkdir(parents=True)
    clip = folder / "source.mp4"
    playback.write_clip(media_store(runtime), segments, body.start, body.end, clip, ffmpeg=runtime.settings.ffmpeg_path)
    return str(clip.relative_to(runtime.settings.data_dir)), [segment.sha256 for segment in segments]


def _export_clip(session: Session, runtime: Runtime, actor: Actor, export_id: int) -> tuple[str, int]:
    found = exports.get_export(session, export_id=export_id)
    try:
        get_visible_camera(session, actor=actor, camera_id=found.camera_id)
    except NotFound:  # another agency's export answers as a missing one
        raise NotFound(f"No export {export_id}.", code="export_not_found")
    clips = sorted((exports.exports_root(runtime) / found.path / "data").glob("*.mp4"))
    if not clips:
        raise InvalidInput(f"Export {export_id} holds no clip.", code="no_recording")
    return str(clips[0].relative_to(runtime.settings.data_dir)), found.camera_id


def create_request(session: Session, *, runtime: Runtime, actor: Actor, body: ReleaseIn) -> ReleaseRequest:
    """Record a public-records request for a clip; the clip is located (or cut) and fingerprinted now."""
    if not actor.agency_ori:
        raise PermissionDenied("Only a person of an agency may request a release.")
    segment_hashes: list[str] = []
    camera_id = body.camera_id
    if body.export_id is not None:
        source, camera_id = _export_clip(session, runtime, actor, body.export_id)
    else:
        source, segment_hashes = _cut_camera_window(session, runtime, actor, body)
    clip = runtime.settings.data_dir / source
    try:
        info = redaction.probe(clip, ffmpeg=runtime.settings.ffmpeg_path)
        release = ReleaseRequest(
            agency_ori=actor.agency_ori, records_request_number=body.records_request_number, requester=body.requester,
            purpose=body.purpose, camera_id=camera_id, starts_at=body.start, ends_at=body.end,
            export_id=body.export_id, source_path=source, original_sha256=sha256_of(clip),
            source_segment_sha256=segment_hashes, width=info.width, height=info.height, fps=info.fps,
            status="requested", manual_boxes=[], requested_by=actor.username or "unknown",
            requested_at=clock.utcnow(),
        )
        session.add(release)
        session.flush()
        audit.record(session, keys=runtime.keys, actor=actor, event=release_event(ReleaseRequested, release),
                     object_type="release", object_id=release.id, purpose=body.purpose,
                     details={"records_request_number": body.records_request_number, "camera_id": camera_id,
                              "export_id": body.export_id, "start": clock.iso(body.start), "end": clock.iso(body.end),
                              "original_sha256": release.original_sha256})
    except BaseException:
        if body.export_id is None:  # the cut is the request's own; an export's clip is never touched
            clip.unlink(missing_ok=True)
            clip.parent.rmdir()
        raise
    return release


# --- finding one ------------------------------------------------------------------------------------------------

def _sees_source(session: Session, actor: Actor, release: ReleaseRequest) -> bool:
    """A release shows its camera's video: whoever is outside that camera's scope sees no release of it.
    A camera since removed leaves the agency's scope alone to decide."""
    found = cameras_by_ids(session, [release.camera_id]) if release.camera_id is not None else []
    return all(scope.sees_camera(actor, agency_ori=ori, groups=camera.groups or []) for camera, ori in found)


def get_request(session: Session, *, actor: Actor, release_id: int) -> ReleaseRequest:
    """A release of an agency, and of a camera, in the actor's scope; NotFound otherwise (as for a missing id)."""
    release = session.get(ReleaseRequest, release_id)
    if (release is None or not scope.sees_agency(actor, release.agency_ori, kind=scope.RECORDS)
            or not _sees_source(session, actor, release)):
        raise NotFound(f"No release {release_id}.", code="release_not_found")
    return release


def view_request(session: Session, *, runtime: Runtime, actor: Actor, release_id: int) -> ReleaseRequest:
    release = get_request(session, actor=actor, release_id=release_id)
    audit.record(session, keys=runtime.keys, actor=actor, action="release.view", object_type="release",
                 object_id=release.id, purpose=release.purpose)
    return release


def list_requests(session: Session, *, runtime: Runtime, actor: Actor) -> list[ReleaseRequest]:
    """Releases of the agencies in the actor's scope, newest first; the look is audited."""
    statement = select(ReleaseRequest).order_by(ReleaseRequest.requested_at.desc(), ReleaseRequest.id.desc())
    condition = scope.agency_condition(actor, ReleaseRequest.agency_ori, kind=scope.RECORDS)
    if condition is not None:
        statement = statement.where(condition)
    found = [release for release in session.execute(statement.limit(LIST_LIMIT)).scalars()
             if _sees_source(session, actor, release)]
    audit.record(session, keys=runtime.keys, actor=actor, action="release.list", object_type="release",
                 details={"count": len(found)})
    return found


def frame_jpeg(session: Session, *, runtime: Runtime, actor: Actor, release_id: int, index: int) -> bytes:
    """One frame of the source clip (unredacted) as a JPEG, to draw boxes on; a person looks, so it is audited."""
    release = get_request(session, actor=actor, release_id=release_id)
    result = subprocess.run(
        [runtime.settings.ffmpeg_path, "-nostdin", "-hide_banner", "-loglevel", "error",
         "-i", str(source_file(runtime, release)), "-map", "0:v:0", "-vf", f"select=eq(n\\,{int(index)})",
         "-frames:v", "1", "-f", "image2pipe", "-c:v", "mjpeg", "-q:v", "3", "pipe:1"],
        capture_output=True, timeout=120)
    if result.returncode != 0 or not result.stdout.startswith(b"\xff\xd8"):
        raise NotFound(f"The clip has no frame {index}.", code="no_frame")
    audit.record(session, keys=runtime.keys, actor=actor, action="release.view_frame", object_type="release",
                 object_id=release.id, purpose=release.purpose, details={"frame": index})
    return result.stdout


# --- boxes, render ----------------------------------------------------------------------------------------------

def _editable(release: ReleaseRequest, allowed: tuple[str, ...] = EDITABLE) -> None:
    if release.status not in allowed:
        raise Conflict(f"Release {release.id} is {release.status}: it can no longer be changed.",
                       code=f"release_{release.status}")


def add_box(session: Session, *, runtime: Runtime, actor: Actor, release_id: int, body: BoxIn) -> ReleaseRequest:
    """A box a person drew on a frame; the request needs rendering again."""
    release = get_request(session, actor=actor, release_id=release_id)
    _editable(release)
    if body.x + body.width > release.width or body.y + body.height > release.height:
        raise InvalidInput(f"The box is not inside the {release.width}x{release.height} frame.", code="invalid_box")
    box = {"frame": body.frame, "box": [body.x, body.y, body.width, body.height], "last_frame": body.last_frame,
           "note": body.note, "drawn_by": actor.username}
    release.manual_boxes = [*(release.manual_boxes or []), box]
    _drop_copy(runtime, release)
    release.status = "requested"
    audit.record(session, keys=runtime.keys, actor=actor, event=release_event(ReleaseBoxAdded, release, frame=body.frame),
                 object_type="release", object_id=release.id, purpose=release.purpose, details=box)
    return release


def start_render(session: Session, *, runtime: Runtime, actor: Actor, release_id: int) -> ReleaseRequest:
    """Mark the request as rendering (the caller then runs `render`, outside this transaction)."""
    release = get_request(session, actor=actor, release_id=release_id)
    _editable(release, RENDERABLE)
    if _render_is_running(runtime, release):
        raise Conflict(f"Release {release.id} is being rendered now: wait for it to end.", code="release_rendering")
    _drop_copy(runtime, release)
    release.status, release.render_error = "rendering", None
    release.release_path = f"copies/{uuid.uuid4().hex}.mp4"  # where this render writes; its hash comes when done
    audit.record(session, keys=runtime.keys, actor=actor, event=release_event(ReleaseRenderStarted, release),
                 object_type="release", object_id=release.id, purpose=release.purpose,
                 details={"manual_boxes": len(release.manual_boxes or [])})
    return release


# --- review, decision, hand-out ---------------------------------------------------------------------------------

def _copy_file(runtime: Runtime, release: ReleaseRequest) -> Path:
    path = releases_root(runtime) / (release.release_path or "")
    if not release.release_path or not path.is_file() or sha256_of(path) != release.release_sha256:
        raise Conflict("The release copy is missing or no longer matches its recorded SHA-256: render it again.",
                       code="release_copy_changed")
    return path


def review_copy(session: Session, *, runtime: Runtime, actor: Actor, release_id: int) -> Path:
    """The rendered copy for a supervisor to check before deciding; audited."""
    release = get_request(session, actor=actor, release_id=release_id)
    if release.status not in ("rendered", "approved", "rejected"):
        raise Conflict(f"Release {release.id} has no rendered copy yet ({release.status}).", code="not_rendered")
    path = _copy_file(runtime, release)
    audit.record(session, keys=runtime.keys, actor=actor, action="release.review", object_type="release",
                 object_id=release.id, purpose=release.purpose, details={"release_sha256": release.release_sha256})
    return path


def decide(session: Session, *, runtime: Runtime, actor: Actor, release_id: int, body: DecisionIn) -> ReleaseRequest:
    """Approve or reject a rendered copy: a supervisor other than the person who requested it."""
    release = get_request(session, actor=actor, release_id=release_id)
    if release.requested_by == actor.username:
        raise PermissionDenied("You requested this release: another supervisor must approve or reject it.",
                               code="own_release")
    if release.status != "rendered":
        raise Conflict(f"Release {release.id} is {release.status}: only a rendered copy can be decided.",
                       code="not_rendered")
    _copy_file(runtime, release)
    release.status = "approved" if body.approve else "rejected"
    release.decided_by, release.decided_at, release.decision_note = actor.username, clock.utcnow(), body.note
    audit.record(session, keys=runtime.keys, actor=actor,
                 event=release_event(ReleaseDecided, release, decided_by=actor.username or "unknown"),
                 action="release.approve" if body.approve else "release.reject", object_type="release",
                 object_id=release.id, purpose=release.purpose,
                 details={"note": body.note, "release_sha256": release.release_sha256,
                          "original_sha256": release.original_sha256})
    return release


def download_copy(session: Session, *, runtime: Runtime, actor: Actor, release_id: int) -> tuple[ReleaseRequest, Path]:
    """The approved copy, to hand to the requester; refused until a supervisor approved it; audited."""
    release = get_request(session, actor=actor, release_id=release_id)
    if release.status != "approved":
        raise Conflict(f"Release {release.id} is {release.status}: only an approved copy may be handed out.",
                       code="not_approved")
    path = _copy_file(runtime, release)
    audit.record(session, keys=runtime.keys, actor=actor, action="release.download", object_type="release",
                 object_id=release.id, purpose=release.purpose,
                 details={"records_request_number": release.records_request_number,
                          "release_sha256": release.release_sha256})
    return release, path


def release_counts(session: Session, since: datetime) -> dict[str, int]:
    """Releases since an instant, for the transparency figures: requested, approved, rejected, and still open."""
    requested = session.execute(select(func.count()).select_from(ReleaseRequest)
                                .where(ReleaseRequest.requested_at >= since)).scalar_one()
    decided = dict(session.execute(
        select(ReleaseRequest.status, func.count()).where(ReleaseRequest.decided_at >= since,
                                                          ReleaseRequest.status.in_(("approved", "rejected")))
        .group_by(ReleaseRequest.status)).all())
    still_open = session.execute(select(func.count()).select_from(ReleaseRequest)
                                 .where(ReleaseRequest.status.not_in(("approved", "rejected")))).scalar_one()
    return {"requested": requested, "approved": decided.get("approved", 0), "rejected": decided.get("rejected", 0),
            "open": still_open}
