"""Test factories: records made through the services a user's request goes through (validated, audited, events
queued), with defaults a test overrides only where it matters to it.

factory_boy holds the defaults (`CameraValues.build()` is a valid POST /api/v1/cameras body, names numbered so
they never collide); each make_* function opens and commits its own session and returns the new record's id (for
accounts, the Person who can sign in), so a test never holds an ORM object across sessions.
"""

from __future__ import annotations

import itertools
import json
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import factory
from support import TEST_AGENCY, Person, create_person

from rtcc.alpr import hotlists
from rtcc.auth import service as accounts
from rtcc.auth.service import get_agency
from rtcc.cameras import service as cameras
from rtcc.cameras.locator import CameraLocator
from rtcc.core import clock
from rtcc.core.actor import SYSTEM, Actor
from rtcc.core.runtime import Runtime
from rtcc.incidents import service as incidents
from rtcc.video.models import RecordingSegment
from rtcc.video.pipeline.recording_supervisor import media_store
from rtcc.video.recording.storage import sha256_of

# A street corner in West Hollywood, where the simulated city is.
DEFAULT_LATITUDE, DEFAULT_LONGITUDE = 34.09, -118.36


class CameraValues(factory.Factory):
    """The fields of a new camera, as the API takes them."""

    class Meta:
        model = dict

    name = factory.Sequence(lambda number: f"Camera {number}")
    kind = "city_fixed"
    latitude = DEFAULT_LATITUDE
    longitude = DEFAULT_LONGITUDE


class IncidentValues(factory.Factory):
    """The fields of a new incident, as a call for service that opens one gives them."""

    class Meta:
        model = dict

    title = factory.Sequence(lambda number: f"Incident {number}")
    type = "Shots Fired"
    priority = 1
    latitude = DEFAULT_LATITUDE
    longitude = DEFAULT_LONGITUDE
    address = None
    call_id = None


_numbers = itertools.count(1)  # ORIs, usernames and hotlist names that never collide within a run


def _next_number() -> int:
    return next(_numbers)


def make_agency(runtime: Runtime, *, ori: str | None = None, name: str | None = None) -> str:
    """An agency (created once per ORI); returns its ORI."""
    ori = ori or f"TS{_next_number():07d}"
    with runtime.database.session() as db:
        return accounts.ensure_agency(db, runtime=runtime, ori=ori, name=name or f"Test agency {ori}").ori


def make_user(runtime: Runtime, *, role: str = "analyst", username: str | None = None, agency: str = TEST_AGENCY,
              **extra: Any) -> Person:
    """An account of this role (auth.service.create_user), with the one-time password and TOTP secret its owner gets."""
    return create_person(runtime, username or f"{role.replace('_', '')}-{_next_number()}", role, agency=agency, **extra)


def make_camera(runtime: Runtime, *, agency: str = TEST_AGENCY, actor: Actor = SYSTEM, **fields: Any) -> int:
    """A registered camera (cameras.service.create_camera, as POST /api/v1/cameras does); returns its id.

    `fields` are the API's camera fields (name, kind, main_stream_url, sub_stream_url, groups, reads_plates...).
    """
    with runtime.database.session() as db:
        return cameras.create_camera(db, runtime=runtime, actor=actor, agency_ori=agency,
                                     values=CameraValues.build(**fields)).id


@dataclass(frozen=True)
class RecordedCamera:
    camera_id: int
    started: datetime
    ended: datetime
    segment: Path  # the indexed segment file in the media store


def make_recorded_camera(runtime: Runtime, clip: Path, *, seconds: float, ended_ago_s: float = 5,
                         agency: str = TEST_AGENCY, **fields: Any) -> RecordedCamera:
    """A camera whose stream is `clip`, with that clip recorded as one indexed segment ending `ended_ago_s` ago."""
    camera_id = make_camera(runtime, agency=agency, **{"main_stream_url": f"file://{clip}", **fields})
    ended = clock.utcnow() - timedelta(seconds=ended_ago_s)
    started = ended - timedelta(seconds=seconds)
    relative = f"cam{camera_id}/test/segment.mp4"
    segment = media_store(runtime).absolute(relative)
    segment.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(clip, segment)
    with runtime.database.session() as db:
        db.add(RecordingSegment(camera_id=camera_id, started_at=started, ended_at=ended, duration_s=seconds,
                                bytes=clip.stat().st_size, sha256=sha256_of(clip), path=relative, created_at=ended))
    return RecordedCamera(camera_id=camera_id, started=started, ended=ended, segment=segment)


def make_hotlist(runtime: Runtime, *, name: str | None = None, plates: list[str] | tuple[str, ...] = (),
                 reason: str = "STOLEN VEHICLE", priority: int = 1, source: str = "NCIC", agency: str = TEST_AGENCY,
                 actor: Actor = SYSTEM) -> int:
    """A hotlist holding these plates (imported as a JSON extract, as an upload would be); returns its id."""
    with runtime.database.session() as db:
        hotlist = hotlists.create_hotlist(db, runtime=runtime, actor=actor, name=name or f"Hotlist {_next_number()}",
                                          source=source, priority=priority, agency_ori=agency)
        if plates:
            entries = [{"plate": plate, "state": "CA", "reason": reason} for plate in plates]
            hotlists.import_entries(db, runtime=runtime, actor=actor, hotlist_id=hotlist.id, format="json",
                                    text=json.dumps(entries))
        return hotlist.id


def make_incident(runtime: Runtime, *, agency: str = TEST_AGENCY, actor: Actor = SYSTEM,
                  locator: CameraLocator | None = None, **fields: Any) -> int:
    """An open incident with the cameras that best see it docked (incidents.service.open_incident); returns its id."""
    with runtime.database.session() as db:
        return incidents.open_incident(db, runtime=runtime, locator=locator or CameraLocator(), actor=actor,
                                       agency_id=get_agency(db, ori=agency).id, **IncidentValues.build(**fields)).id
