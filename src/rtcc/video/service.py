"""The video domain's front door: what was recorded, playback, stills, evidence exports and marks, each audited.

Recording, playback, exports and marks each have their own module; this one holds what sits between a caller and
them (the camera's scope, the audit record of each look) and calls into them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from rtcc.audit import service as audit
from rtcc.auth import scope
from rtcc.cameras.service import cameras_by_ids, get_visible_camera
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import InvalidInput, NotFound
from rtcc.core.runtime import Runtime
from rtcc.video.evidence import export as exports
from rtcc.video.recording import marks, playback
from rtcc.video.evidence.bag_verify import BagReport, verify_bag
from rtcc.video.models import EvidenceExport, RecordingMark, RecordingSegment
from rtcc.video.pipeline.supervisor import media_store


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput(f"Give '{name}' with a time zone, e.g. 2026-11-21T20:00:00Z.", code="validation_error")
    return value


# --- recordings, playback and stills --------------------------------------------------------------------------

@dataclass(frozen=True)
class RecordingsSummary:
    """What a camera recorded between two instants: segment count and bytes, the spans covered and the gaps."""

    segments: int
    bytes: int
    spans: list[playback.Span]
    gaps: list[playback.Span]


def recordings(session: Session, *, runtime: Runtime, actor: Actor, camera_id: int, start: datetime,
               end: datetime) -> RecordingsSummary:
    """Recorded spans and gaps of a camera in the actor's scope between start and end (time-zone aware); audited."""
    start, end = _aware("start", start), _aware("end", end)
    get_visible_camera(session, actor=actor, camera_id=camera_id)
    segments = playback.segments_between(session, camera_id=camera_id, start=start, end=end)
    audit.record(session, keys=runtime.keys, actor=actor, action="video.recordings", object_type="camera",
                 object_id=camera_id, query_terms={"start": clock.iso(start), "end": clock.iso(end)})
    spans = playback.recorded_spans(segments)
    return RecordingsSummary(segments=len(segments), bytes=sum(segment.bytes for segment in segments), spans=spans,
                             gaps=playback.gaps_between(spans, start, end))


def playback_segments(session: Session, *, runtime: Runtime, actor: Actor, camera_id: int, start: datetime,
                      end: datetime, purpose: str | None = None) -> list[RecordingSegment]:
    """The segments to play of a camera in the actor's scope; NotFound when nothing was recorded; audited."""
    start, end = _aware("start", start), _aware("end", end)
    get_visible_camera(session, actor=actor, camera_id=camera_id)
    segments = playback.segments_between(session, camera_id=camera_id, start=start, end=end)
    if not segments:
        raise NotFound("Nothing was recorded in that time range.", code="no_recording")
    audit.record(session, keys=runtime.keys, actor=actor, action="video.playback", object_type="camera",
                 object_id=camera_id, purpose=purpose, query_terms={"start": clock.iso(start), "end": clock.iso(end)})
    return segments


def clip_stream(*, runtime: Runtime, segments: list[RecordingSegment], start: datetime,
                end: datetime) -> Iterator[bytes]:
    """The recording between start and end as fragmented MP4, streamed as ffmpeg writes it."""
    return playback.stream_clip(media_store(runtime), segments, start, end, ffmpeg=runtime.settings.ffmpeg_path)


def snapshot(*, runtime: Runtime, actor: Actor, camera_id: int, at: datetime) -> bytes:
    """A JPEG of what a camera in the actor's scope recorded at an instant; audited.

    Opens its own sessions: decoding takes a few hundred ms and runs outside any write transaction, so a video wall
    of stills never holds the SQLite write lock (the audit record follows in its own short transaction)."""
    at = _aware("at", at)
    with runtime.database.read_session() as session:
        get_visible_camera(session, actor=actor, camera_id=camera_id)
        segments = playback.segments_between(session, camera_id=camera_id, start=at - playback.SPAN_TOLERANCE,
                                             end=at + playback.SPAN_TOLERANCE)
        session.expunge_all()  # keep the rows' loaded values past the read session's rollback
    image = playback.snapshot_jpeg(media_store(runtime), segments, at, ffmpeg=runtime.settings.ffmpeg_path)
    with runtime.database.session() as session:
        audit.record(session, keys=runtime.keys, actor=actor, action="video.snapshot", object_type="camera",
                     object_id=camera_id, query_terms={"at": clock.iso(at)})
    return image


# --- evidence exports -----------------------------------------------------------------------------------------

def create_export(session: Session, *, runtime: Runtime, actor: Actor, camera_id: int, start: datetime,
                  end: datetime, case_number: str, purpose: str, purpose_category: str | None = None,
                  recipient_agency: str | None = None) -> EvidenceExport:
    """Export a clip of a camera in the actor's scope for a case as an evidence bag (needs case number, purpose and
    purpose category); one for another agency (recipient_agency) is decided by the policy engine."""
    return exports.create_export(session, runtime=runtime, actor=actor, camera_id=camera_id, start=start, end=end,
                                 case_number=case_number, purpose=purpose, purpose_category=purpose_category,
                                 recipient_agency=recipient_agency)


def _visible_exports(session: Session, *, actor: Actor, found: list[EvidenceExport]) -> list[EvidenceExport]:
    """Exports of cameras in the actor's scope; one of a camera since removed only to its requester (or to whoever
    sees every agency's cameras)."""
    camera_scopes = {camera.id: (ori, camera.groups or [])
                     for camera, ori in cameras_by_ids(session, list({export.camera_id for export in found}))}

    def visible(export: EvidenceExport) -> bool:
        if export.camera_id in camera_scopes:
            agency_ori, groups = camera_scopes[export.camera_id]
            return scope.sees_camera(actor, agency_ori=agency_ori, groups=groups)
        return scope.sees_every_agency(actor, kind=scope.CAMERAS) or export.requested_by == actor.username

    return [export for export in found if visible(export)]


def list_exports(session: Session, *, runtime: Runtime, actor: Actor,
                 case_number: str | None = None) -> list[EvidenceExport]:
    """Evidence exports in the actor's scope (optionally of one case), newest first; the look is audited."""
    found = _visible_exports(session, actor=actor, found=exports.list_exports(session, case_number=case_number))
    audit.record(session, keys=runtime.keys, actor=actor, action="video.export_list", object_type="export",
                 query_terms={"case_number": case_number} if case_number else None, details={"count": len(found)})
    return found


def verify_export(session: Session, *, runtime: Runtime, actor: Actor, export_id: int) -> BagReport:
    """Re-check an export in the actor's scope: its bag, custody chain and the fingerprint recorded at export; audited."""
    found = exports.get_export(session, export_id=export_id)
    if not _visible_exports(session, actor=actor, found=[found]):  # another agency's export answers as a missing one
        raise NotFound(f"No export {export_id}.", code="export_not_found")
    report = verify_bag(exports.exports_root(runtime) / found.path)
    problems = list(report.problems)
    if report.fingerprint and report.fingerprint != found.fingerprint:
        problems.append("tagmanifest-sha256.txt: differs from the fingerprint recorded at export")
    audit.record(session, keys=runtime.keys, actor=actor, action="video.export_verify", object_type="export",
                 object_id=export_id, case_number=found.case_number, outcome="success" if not problems else "failure",
                 details={"problems": problems[:20]})
    return dataclasses.replace(report, ok=not problems, problems=problems)


# --- marks ----------------------------------------------------------------------------------------------------

def mark_event(session: Session, *, runtime: Runtime, actor: Actor, camera_id: int, reason: str,
               at: datetime | None = None) -> RecordingMark:
    """Mark an event on a camera in the actor's scope: event-only cameras keep the video around it."""
    return marks.mark_event(session, runtime=runtime, actor=actor, camera_id=camera_id, reason=reason, at=at)
