"""Evidence exports: a clip for a case, packaged as a BagIt bag whose source segments are then kept."""

from __future__ import annotations

import hashlib
import re
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from rtcc.audit import service as audit
from rtcc.cameras.service import get_visible_camera
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.errors import InvalidInput, NotFound
from rtcc.core.runtime import Runtime
from rtcc.policy import engine as policy
from rtcc.video.events import EvidenceExported
from rtcc.video.evidence.bag import CustodyEvent, PayloadFile, write_bag
from rtcc.video.models import EvidenceExport
from rtcc.video.recording.playback import REORDER_ALLOWANCE_S, segments_between, write_clip
from rtcc.video.pipeline.recording_supervisor import media_store

CASE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{1,63}$")


def exports_root(runtime: Runtime) -> Path:
    return runtime.settings.data_dir / "exports"


def create_export(session: Session, *, runtime: Runtime, actor: Actor, camera_id: int, start: datetime, end: datetime,
                  case_number: str, purpose: str, purpose_category: str | None = None,
                  recipient_agency: str | None = None) -> EvidenceExport:
    """Cut the clip, bag it with its provenance, record the export; fails before anything is kept if any step fails."""
    if not CASE_NUMBER.match(case_number or ""):
        raise InvalidInput("A case number is required (letters, digits, . _ / -).", code="case_number_required")
    if len((purpose or "").strip()) < 5:
        raise InvalidInput("Say why the clip is exported (at least a few words).", code="purpose_required")
    camera, ori = get_visible_camera(session, actor=actor, camera_id=camera_id)
    category = policy.check_use(session, keys=runtime.keys, actor=actor, data_class="evidence_exports",
                                purpose=purpose_category, action="export", subject=f"camera {camera_id}")
    if recipient_agency is not None:  # an export leaving the agency: the policy engine decides
        policy.require(session, keys=runtime.keys, actor=actor, recipient_agency=recipient_agency.strip().upper(),
                       data_class="evidence_exports", purpose=category, action="export", subject=f"camera {camera_id}",
                       what=f"Exporting to {recipient_agency.strip().upper()}")
    segments = segments_between(session, camera_id=camera_id, start=start, end=end)
    store = media_store(runtime)
    now = clock.utcnow()
    safe_case = case_number.replace("/", "_")
    destination = exports_root(runtime) / safe_case / f"cam{camera_id}-{now.strftime('%Y%m%dT%H%M%S%f')[:18]}Z"
    with tempfile.TemporaryDirectory(dir=runtime.settings.data_dir) as work:
        clip = Path(work) / f"camera-{camera_id}_{start.strftime('%Y%m%dT%H%M%SZ')}.mp4"
        write_clip(store, segments, start, end, clip, ffmpeg=runtime.settings.ffmpeg_path)
        write_bag(
            destination,
            payload=[PayloadFile(source=clip, name=clip.name)],
            bag_info={
                "Case-Number": case_number,
                "Requester": f"{actor.username} ({actor.agency_ori})",
                "Reason": " ".join(purpose.split()),
                "Export-Time": clock.iso(now),
                "Source-Organization": ori,
                "External-Description": f"Camera {camera_id} '{camera.name}' from {clock.iso(start)} to {clock.iso(end)}",
                # Stream copy cuts at keyframes: the clip holds every frame of the window and a little around it.
                "Clip-Bounds": "stream copy, never re-encoded: starts at the keyframe at or before the window's start "
                               f"(up to one keyframe interval early) and runs up to {REORDER_ALLOWANCE_S} s past its end",
                "Source-Segment-SHA256": [segment.sha256 for segment in segments],
            },
            custody_events=[CustodyEvent(actor=actor.username or "unknown", action="exported", details={
                "camera_id": camera_id, "start": clock.iso(start), "end": clock.iso(end), "case_number": case_number,
                "purpose": purpose, "source_segments": len(segments)}, at=now)],
        )
    fingerprint = hashlib.sha256((destination / "tagmanifest-sha256.txt").read_bytes()).hexdigest()
    export = EvidenceExport(
        camera_id=camera_id, starts_at=start, ends_at=end, case_number=case_number, purpose=purpose,
        requested_by=actor.username or "unknown", created_at=now,
        path=str(destination.relative_to(exports_root(runtime))), fingerprint=fingerprint,
        source_segments=[segment.id for segment in segments],
    )
    session.add(export)
    session.flush()
    audit.record(session, keys=runtime.keys, actor=actor,
                 event=EvidenceExported(agency_ori=ori, camera_groups=camera.groups, export_id=export.id,
                                        camera_id=camera_id, case_number=case_number),
                 object_type="camera", object_id=camera_id, purpose=purpose, case_number=case_number,
                 details={"export": export.id, "start": clock.iso(start), "end": clock.iso(end), "fingerprint": fingerprint,
                          "purpose_category": category, "recipient_agency": recipient_agency})
    return export


def get_export(session: Session, *, export_id: int) -> EvidenceExport:
    export = session.get(EvidenceExport, export_id)
    if export is None:
        raise NotFound(f"No export {export_id}.", code="export_not_found")
    return export


def list_exports(session: Session, *, case_number: str | None = None) -> list[EvidenceExport]:
    statement = select(EvidenceExport).order_by(EvidenceExport.id.desc())
    if case_number:
        statement = statement.where(EvidenceExport.case_number == case_number)
    return list(session.execute(statement).scalars())
