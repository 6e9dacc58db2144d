"""The test factories build records the way a user's request does: validated, audited, and usable at once."""

import json

import pytest
from factories import make_agency, make_camera, make_hotlist, make_incident, make_user
from sqlalchemy import select
from support import TEST_AGENCY, sign_in

from rtcc.alpr.hotlists import HotlistCache
from rtcc.audit import service as audit
from rtcc.core import clock
from rtcc.core.errors import InvalidInput
from rtcc.incidents.models import IncidentCamera


def test_a_made_camera_is_registered_audited_and_validated(runtime):
    camera_id = make_camera(runtime, name="Sunset & Vine", reads_plates=True, groups=["alpr"])
    with runtime.database.session() as db:
        created = audit.search(db, query=audit.AuditQuery(action="camera.create", object_id=str(camera_id)))
    assert [json.loads(record.details)["name"] for record in created] == ["Sunset & Vine"]
    with pytest.raises(InvalidInput):  # the service's own checks apply: a registered private camera shares no stream
        make_camera(runtime, kind="private_registered", main_stream_url="rtsp://10.0.0.5/main")


def test_a_made_incident_docks_the_made_camera_that_sees_it(runtime):
    facing = make_camera(runtime, latitude=34.0900, longitude=-118.3600, heading_deg=0, range_m=150)
    incident_id = make_incident(runtime, latitude=34.0905, longitude=-118.3600)
    with runtime.database.session() as db:
        docked = db.execute(select(IncidentCamera.camera_id).where(IncidentCamera.incident_id == incident_id)).scalars()
        assert list(docked) == [facing]


def test_a_made_hotlist_matches_its_plates(runtime):
    hotlist_id = make_hotlist(runtime, plates=["7ABC123"], priority=2)
    with runtime.database.session() as db:
        index = HotlistCache().current(db)
    hits = index.match("7ABC123", clock.utcnow())
    assert [(hit.entry.hotlist_id, hit.entry.priority, hit.method) for hit in hits] == [(hotlist_id, 2, "exact")]
    assert index.match("8XYZ999", clock.utcnow()) == []


def test_a_made_user_of_a_made_agency_signs_in(runtime, client):
    ori = make_agency(runtime)
    person = make_user(runtime, role="analyst", agency=ori)
    sign_in(client, person)
    me = client.get("/api/v1/auth/me").json()
    assert (me["role"], me["agency_ori"]) == ("analyst", ori) and ori != TEST_AGENCY
