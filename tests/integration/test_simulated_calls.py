"""The demo's simulated city: its accounts, and calls that open incidents docking the cameras that stream live."""

import json

from sqlalchemy import select

from rtcc.audit import service as audit
from rtcc.auth import service as accounts
from rtcc.cameras.locator import CameraLocator
from rtcc.cameras.models import Camera
from rtcc.incidents.models import IncidentCamera
from rtcc.sim.calls import SimulatedCalls
from rtcc.sim.demo import CREDENTIALS_FILE, attach_live_cameras, prepare_demo

STREAMS = [f"rtsp://127.0.0.1:8554/cam{index}" for index in range(1, 5)]


def test_the_demo_creates_analyst_officer_and_admin_once_with_their_credentials_saved(runtime):
    message = prepare_demo(runtime)
    with runtime.database.session() as db:
        roles = {name: accounts.get_user(db, username=name).role for name in ("analyst", "officer", "supervisor", "admin")}
    assert roles == {"analyst": "analyst", "officer": "field_officer", "supervisor": "supervisor", "admin": "admin"}
    assert message.count("one-time password:") == 4 and "as 'analyst' for the watch floor" in message
    saved = (runtime.settings.data_dir / CREDENTIALS_FILE)
    assert saved.stat().st_mode & 0o077 == 0 and saved.read_text().count("one-time password:") == 4

    again = prepare_demo(runtime)
    assert "one-time password:" not in again and "'analyst'" in again
    assert saved.read_text().count("one-time password:") == 4


def test_simulated_calls_open_incidents_that_dock_the_live_cameras(runtime):
    prepare_demo(runtime)
    attach_live_cameras(runtime, STREAMS, STREAMS)
    with runtime.database.session() as db:
        live = set(db.execute(select(Camera.id).where(Camera.main_stream_url.is_not(None))).scalars())
    assert len(live) == 4
    city = SimulatedCalls(runtime, locator=CameraLocator(), seed=2)
    sent = [city.send_one() for _ in range(24)]

    first, outcome = sent[0]
    assert first.kind == "new" and outcome.opened
    with runtime.database.session() as db:
        docked = db.execute(select(IncidentCamera).order_by(IncidentCamera.incident_id, IncidentCamera.rank)).scalars().all()
        by_incident: dict[int, list[int]] = {}
        for row in docked:
            by_incident.setdefault(row.incident_id, []).append(row.camera_id)
        records = audit.search(db, query=audit.AuditQuery(action="cad.call_receive"))
        actors = {(row.username, row.agency_ori) for row in records}
        opened = [json.loads(row.details) for row in audit.search(db, query=audit.AuditQuery(action="incident.open"))]
    assert by_incident[outcome.incident.id][0] in live  # the first incident's best camera streams live
    with_live = [cameras for cameras in by_incident.values() if live & set(cameras)]
    assert len(with_live) >= 3 and len(opened) >= 5
    assert actors == {("system:simulated-cad", runtime.settings.demo_agency_ori)}
    assert {simulated.kind for simulated, _ in sent} == {"new", "update", "close"}

    # A restarted demo goes on numbering and clears the calls the last run left open.
    restarted = SimulatedCalls(runtime, locator=CameraLocator(), seed=5)
    simulated, _ = restarted.send_one()
    numbers = [int(call.values["call_id"].removeprefix("SIM-")) for call, _ in sent if call.kind == "new"]
    assert int(simulated.values["call_id"].removeprefix("SIM-")) == max(numbers) + 1
    assert restarted.generator.open_calls, "the calls still open were not taken over"
