"""Calls for service open incidents, and the cameras that best see the scene are docked with a reason."""

import json

from sqlalchemy import text
from factories import make_camera
from support import OTHER_AGENCY

from rtcc.audit import service as audit
from rtcc.cameras.geometry import offset_point

SCENE = (34.1000, -118.3000)
NORTH, EAST, SOUTH, WEST = 0, 90, 180, 270


def _call(call_id="C-1001", **changes):
    body = {"call_id": call_id, "type": "Shots Fired", "priority": 3, "address": "1200 Vine St",
            "latitude": SCENE[0], "longitude": SCENE[1], "received_at": "2026-11-22T09:15:02.250-08:00",
            "narrative": "Several shots heard near the corner.", "units": ["2A12", "2A14"]}
    return {**body, **changes}


def _add_camera(runtime, name, kind, *, bearing_from_scene, distance, heading, range_m=100, fov=60, groups=None):
    latitude, longitude = offset_point(*SCENE, bearing_from_scene, distance)
    return make_camera(runtime, name=name, kind=kind, latitude=latitude, longitude=longitude, heading_deg=heading,
                       fov_deg=fov, range_m=range_m, groups=groups or [])


def _scene_cameras(runtime) -> dict[str, int]:
    """Around the scene: cameras facing it, cameras facing away, and private ones."""
    return {
        "south, facing it": _add_camera(runtime, "Vine S", "city_fixed", bearing_from_scene=SOUTH, distance=40, heading=NORTH),
        "west, facing it": _add_camera(runtime, "Vine W", "city_fixed", bearing_from_scene=WEST, distance=80, heading=EAST,
                                       range_m=150),
        "north, facing away": _add_camera(runtime, "Vine N", "city_ptz", bearing_from_scene=NORTH, distance=120, heading=NORTH),
        "east, facing away": _add_camera(runtime, "Vine E", "city_fixed", bearing_from_scene=EAST, distance=200, heading=EAST),
        "far away": _add_camera(runtime, "Downtown", "city_fixed", bearing_from_scene=EAST, distance=1500, heading=WEST),
        "shared private": _add_camera(runtime, "Deli porch", "private_integrated", bearing_from_scene=NORTH, distance=60,
                                      heading=SOUTH, groups=["share-with-police"]),
        "unshared private": _add_camera(runtime, "Bar door", "private_integrated", bearing_from_scene=WEST, distance=50,
                                        heading=EAST),
        "registered private": _add_camera(runtime, "Home doorbell", "private_registered", bearing_from_scene=EAST,
                                          distance=30, heading=NORTH),
    }


def _actions(runtime, action):
    with runtime.database.session() as db:
        return audit.search(db, query=audit.AuditQuery(action=action))


def test_a_shots_fired_call_opens_an_incident_with_the_best_cameras_docked_and_explained(runtime, signed_in_as):
    cameras = _scene_cameras(runtime)
    cad, cad_person = signed_in_as("operator")
    opened = cad.post("/api/v1/cad/calls", json=_call())
    assert opened.status_code == 201, opened.text
    incident = opened.json()["incident"]
    assert opened.json()["call_id"] == "C-1001"
    assert incident["status"] == "open" and incident["type"] == "Shots Fired" and incident["call_id"] == "C-1001"
    assert incident["title"] == "Shots fired at 1200 Vine St"
    docked = [(camera["camera_id"], camera["rank"], camera["reason"]) for camera in incident["cameras"]]
    assert docked == [
        (cameras["south, facing it"], 1, "sees the location at 40 m"),
        (cameras["shared private"], 2, "sees the location at 60 m"),
        (cameras["west, facing it"], 3, "sees the location at 80 m"),
        (cameras["north, facing away"], 4, "nearest, 120 m (does not face it)"),
    ]
    candidates = {candidate["camera_id"]: candidate for candidate in incident["footage_request_candidates"]}
    assert set(candidates) == {cameras["registered private"], cameras["unshared private"]}
    assert round(candidates[cameras["registered private"]]["distance_m"]) == 30
    assert round(candidates[cameras["unshared private"]]["distance_m"]) == 50
    assert [entry["kind"] for entry in incident["timeline"]] == ["opened"] + ["camera_docked"] * 4
    assert "Vine S docked: sees the location at 40 m" in incident["timeline"][1]["summary"]

    officer, _ = signed_in_as("field_officer")
    listed = officer.get("/api/v1/incidents")
    assert listed.status_code == 200 and [row["id"] for row in listed.json()] == [incident["id"]]
    shown = officer.get(f"/api/v1/incidents/{incident['id']}")
    assert shown.status_code == 200 and len(shown.json()["cameras"]) == 4

    outsider, _ = signed_in_as("operator", agency=OTHER_AGENCY)
    assert outsider.get(f"/api/v1/incidents/{incident['id']}").status_code == 404
    assert outsider.get("/api/v1/incidents").json() == []

    received = _actions(runtime, "cad.call_receive")
    assert [(row.username, row.object_id) for row in received] == [(cad_person.username, "C-1001")]
    opened_record = _actions(runtime, "incident.open")[0]
    assert json.loads(opened_record.details)["docked_cameras"] == [camera[0] for camera in docked]
    assert len(_actions(runtime, "incident.view")) == 1 and len(_actions(runtime, "incident.list")) == 2


def test_a_low_priority_call_is_kept_but_opens_no_incident_until_it_is_raised(runtime, signed_in_as):
    cad, _ = signed_in_as("operator")
    quiet = _call("C-2002", type="Noise complaint", priority=4, beat="2A", caller={"callback": "withheld"})
    stored = cad.post("/api/v1/cad/calls", json=quiet)
    assert stored.status_code == 202 and stored.json() == {"call_id": "C-2002", "incident": None}
    with runtime.database.engine.connect() as connection:
        extra, units = connection.execute(text("SELECT extra, units FROM cad_calls WHERE call_id = 'C-2002'")).one()
    extra, units = (json.loads(value) if isinstance(value, str) else value for value in (extra, units))
    assert extra == {"beat": "2A", "caller": {"callback": "withheld"}} and units == ["2A12", "2A14"]
    assert cad.get("/api/v1/incidents").json() == []

    raised = cad.post("/api/v1/cad/calls", json={**quiet, "priority": 2})
    assert raised.status_code == 201 and raised.json()["incident"]["priority"] == 2


def test_resending_a_call_updates_its_incident_and_closing_the_call_closes_it(runtime, signed_in_as):
    cad, _ = signed_in_as("operator")
    first = cad.post("/api/v1/cad/calls", json=_call("C-3003", type="Robbery", priority=3)).json()["incident"]
    again = cad.post("/api/v1/cad/calls", json=_call("C-3003", type="Robbery", priority=3))
    assert again.status_code == 200 and again.json()["incident"]["id"] == first["id"]
    assert [entry["kind"] for entry in again.json()["incident"]["timeline"]] == ["opened"]  # nothing changed

    moved = cad.post("/api/v1/cad/calls", json=_call("C-3003", type="Robbery", priority=1, address="1210 Vine St"))
    assert moved.status_code == 200
    incident = moved.json()["incident"]
    assert (incident["id"], incident["priority"], incident["address"]) == (first["id"], 1, "1210 Vine St")
    assert incident["timeline"][-1]["kind"] == "call_updated"
    with runtime.database.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM incidents")).scalar_one() == 1
        assert connection.execute(text("SELECT count(*) FROM cad_calls")).scalar_one() == 1

    closed = cad.post("/api/v1/cad/calls", json=_call("C-3003", type="Robbery", priority=1, address="1210 Vine St",
                                                       status="Closed"))
    assert closed.status_code == 200
    assert closed.json()["incident"]["status"] == "closed" and closed.json()["incident"]["closed_at"]
    assert cad.get("/api/v1/incidents").json() == []
    closed_twice = cad.post("/api/v1/cad/calls", json=_call("C-3003", type="Robbery", priority=1, address="1210 Vine St",
                                                             status="closed"))
    kinds = [entry["kind"] for entry in closed_twice.json()["incident"]["timeline"]]
    assert kinds == ["opened", "call_updated", "closed"]
    assert len(_actions(runtime, "incident.close")) == 1 and len(_actions(runtime, "incident.update")) == 1
    assert len(_actions(runtime, "cad.call_receive")) == 5


def test_bad_calls_are_refused_naming_the_field(signed_in_as):
    cad, _ = signed_in_as("operator")
    body = _call()
    del body["latitude"]
    missing = cad.post("/api/v1/cad/calls", json=body)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "latitude"
    naive = cad.post("/api/v1/cad/calls", json=_call(received_at="2026-11-22T09:15:02"))
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "received_at"
    priority = cad.post("/api/v1/cad/calls", json=_call(priority=9))
    assert priority.status_code == 422 and priority.json()["errors"][0]["field"] == "priority"
    officer, _ = signed_in_as("field_officer")
    assert officer.post("/api/v1/cad/calls", json=_call()).status_code == 403


def test_notes_land_on_the_timeline_with_their_author_and_are_audited(runtime, signed_in_as):
    cad, _ = signed_in_as("operator")
    incident_id = cad.post("/api/v1/cad/calls", json=_call("C-4004", type="Carjacking")).json()["incident"]["id"]
    analyst, analyst_person = signed_in_as("analyst")
    noted = analyst.post(f"/api/v1/incidents/{incident_id}/notes", json={"text": "Suspect vehicle: grey sedan, eastbound."})
    assert noted.status_code == 201, noted.text
    note = noted.json()["timeline"][-1]
    assert (note["kind"], note["username"]) == ("note_added", analyst_person.username)
    assert note["summary"] == "Suspect vehicle: grey sedan, eastbound."
    assert analyst.post(f"/api/v1/incidents/{incident_id}/notes", json={"text": ""}).status_code == 422
    assert analyst.post("/api/v1/incidents/999999/notes", json={"text": "x"}).status_code == 404
    officer, _ = signed_in_as("field_officer")
    assert officer.post(f"/api/v1/incidents/{incident_id}/notes", json={"text": "x"}).status_code == 403
    records = _actions(runtime, "incident.note")
    assert [(row.username, row.object_id) for row in records] == [(analyst_person.username, str(incident_id))]


def test_footage_is_requested_from_a_nearby_private_camera_on_the_timeline(runtime, signed_in_as):
    cameras = _scene_cameras(runtime)
    cad, _ = signed_in_as("operator")
    incident = cad.post("/api/v1/cad/calls", json=_call("C-5005", type="Robbery")).json()["incident"]
    analyst, analyst_person = signed_in_as("analyst")
    asked = analyst.post(f"/api/v1/incidents/{incident['id']}/footage-requests",
                         json={"camera_id": cameras["registered private"], "note": "22:10-22:30, person in grey hoodie"})
    assert asked.status_code == 201, asked.text
    entry = asked.json()["timeline"][-1]
    assert entry["kind"] == "footage_requested" and entry["username"] == analyst_person.username
    assert "Home doorbell" in entry["summary"] and "grey hoodie" in entry["summary"]
    # Only the cameras offered as candidates: a docked city camera is watched, not asked for.
    refused = analyst.post(f"/api/v1/incidents/{incident['id']}/footage-requests", json={"camera_id": cameras["south, facing it"]})
    assert refused.status_code == 422 and refused.json()["code"] == "not_a_footage_candidate"
    records = _actions(runtime, "incident.footage_request")
    assert [json.loads(row.details)["camera_id"] for row in records] == [cameras["registered private"]]


def test_a_plate_hit_on_a_docked_camera_goes_on_the_incidents_timeline(runtime, signed_in_as):
    admin, _ = signed_in_as("admin")
    cameras = _scene_cameras(runtime)
    hotlist = admin.post("/api/v1/alpr/hotlists", json={"name": "Robbery BOLO", "source": "local", "priority": 1}).json()
    admin.post(f"/api/v1/alpr/hotlists/{hotlist['id']}/import", content='[{"plate": "6ROB123", "reason": "ROBBERY SUSPECT"}]',
               headers={"content-type": "application/json"})
    cad, _ = signed_in_as("operator")
    incident = cad.post("/api/v1/cad/calls", json=_call("C-6006", type="Robbery")).json()["incident"]
    docked = cameras["south, facing it"]

    def read(plate, camera_id):
        return cad.post("/api/v1/alpr/reads", json={"reads": [{
            "plate": plate, "read_at": "2026-11-22T17:20:00Z", "confidence": 0.9, "camera_id": camera_id}]}).json()

    assert read("6ROB123", docked)["alerts"] == 1
    assert read("6ROB123", cameras["far away"])["alerts"] == 1  # not docked: not this incident's business
    timeline = admin.get(f"/api/v1/incidents/{incident['id']}").json()["timeline"]
    hits = [entry for entry in timeline if entry["kind"] == "plate_alert"]
    assert len(hits) == 1 and hits[0]["data"]["camera_id"] == docked
    assert "6ROB123" in hits[0]["summary"] and "ROBBERY SUSPECT" in hits[0]["summary"]


def test_another_agencys_plate_hit_on_a_shared_docked_camera_stays_off_the_incidents_timeline(runtime, signed_in_as):
    admin, _ = signed_in_as("admin")
    cameras = _scene_cameras(runtime)
    their_admin, _ = signed_in_as("admin", agency=OTHER_AGENCY)
    theirs = their_admin.post("/api/v1/alpr/hotlists", json={"name": "Their narcotics list", "source": "local",
                                                             "priority": 1}).json()
    ours = admin.post("/api/v1/alpr/hotlists", json={"name": "Our BOLO", "source": "local", "priority": 2}).json()
    for owner, hotlist, plate in ((their_admin, theirs, "8NAR001"), (admin, ours, "8OUR001")):
        imported = owner.post(f"/api/v1/alpr/hotlists/{hotlist['id']}/import", content=f'[{{"plate": "{plate}", "reason": "WANTED"}}]',
                              headers={"content-type": "application/json"})
        assert imported.status_code == 200 and imported.json()["added"] == 1, (hotlist, imported.text)
    cad, _ = signed_in_as("operator")
    incident = cad.post("/api/v1/cad/calls", json=_call("C-6007", type="Robbery")).json()["incident"]
    for plate in ("8NAR001", "8OUR001"):
        stored = cad.post("/api/v1/alpr/reads", json={"reads": [{
            "plate": plate, "read_at": "2026-11-22T17:20:00Z", "confidence": 0.9, "camera_id": cameras["south, facing it"]}]})
        assert stored.json()["alerts"] == 1, stored.text
    analyst, _ = signed_in_as("analyst")
    timeline = analyst.get(f"/api/v1/incidents/{incident['id']}").json()["timeline"]
    hits = [entry["data"]["plate"] for entry in timeline if entry["kind"] == "plate_alert"]
    assert hits == ["8OUR001"]


def test_an_operator_opens_an_incident_by_hand_and_its_cameras_dock(runtime, signed_in_as):
    cameras = _scene_cameras(runtime)
    operator, operator_person = signed_in_as("operator")
    opened = operator.post("/api/v1/incidents", json={"title": "Man with a knife seen on camera", "type": "Assault",
                                                     "priority": 1, "latitude": SCENE[0], "longitude": SCENE[1]})
    assert opened.status_code == 201, opened.text
    incident = opened.json()
    assert incident["call_id"] is None and incident["agency_ori"] is not None
    assert incident["cameras"][0]["camera_id"] == cameras["south, facing it"]
    assert incident["timeline"][0]["username"] == operator_person.username
    assert operator.post("/api/v1/incidents", json={"title": "x", "type": "Assault", "priority": 9,
                                                    "latitude": 0, "longitude": 0}).status_code == 422
    officer, _ = signed_in_as("field_officer")
    assert officer.post("/api/v1/incidents", json={"title": "Seen it", "type": "Assault", "priority": 1,
                                                   "latitude": SCENE[0], "longitude": SCENE[1]}).status_code == 403
    assert [json.loads(row.details)["call_id"] for row in _actions(runtime, "incident.open")] == [None]
