"""Objects fetched by id answer within the scope of their list (IDOR): another agency's camera, read, crop, alert,
hotlist, incident, export, share or account answers as a missing one does (404), or 403 where the role may not call
the route at all, and never with its content; the owner gets it. Real sign-ins, on SQLite and PostgreSQL."""

import json
from datetime import timedelta

import pytest

from rtcc.core import clock
from support import OTHER_AGENCY, TEST_AGENCY

CROP_BYTES = b"\xff\xd8\xff\xe0 crop of a plate, not for outsiders \xff\xd9"
HOTLIST_CSV = "NIC,LIC,LIS,OFF,VMA,VMO,VCO\nV1,7ABC123,CA,STOLEN VEHICLE,TOYT,CAMRY,BLK\n"
MISSING = 999999
BOUND = {"purpose": "stolen vehicle follow-up", "case_number": "GTA-2026-0042", "purpose_category": "2400"}


def _reads(camera_id, *plates):
    at = clock.utcnow()
    return {"reads": [{"plate": plate, "read_at": at.isoformat(), "confidence": 0.95, "camera_id": camera_id,
                       "read_id": f"scope-{plate}"} for plate in plates]}


def _give_crops(runtime, read_ids):
    """Crops as the video reader saves them: a file under DATA_DIR/plates named by the read."""
    from rtcc.alpr.models import PlateRead

    folder = runtime.settings.data_dir / "plates" / "scope"
    folder.mkdir(parents=True, exist_ok=True)
    with runtime.database.session() as db:
        for read_id in read_ids:
            (folder / f"{read_id}.jpg").write_bytes(CROP_BYTES)
            db.get(PlateRead, read_id).crop_path = f"plates/scope/{read_id}.jpg"


def _export_of(runtime, camera_id):
    """An evidence export of the camera, as the export job leaves it (a bag on disk, a row)."""
    from rtcc.video.evidence.export import exports_root
    from rtcc.video.models import EvidenceExport

    bag = exports_root(runtime) / "GTA-2026-0042" / f"cam{camera_id}-scope"
    bag.mkdir(parents=True, exist_ok=True)
    (bag / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    now = clock.utcnow()
    with runtime.database.session() as db:
        export = EvidenceExport(camera_id=camera_id, starts_at=now - timedelta(minutes=1), ends_at=now,
                                case_number="GTA-2026-0042", purpose="stolen vehicle", requested_by="someone",
                                created_at=now, path=f"GTA-2026-0042/cam{camera_id}-scope", fingerprint="0" * 64,
                                source_segments=[])
        db.add(export)
        db.flush()
        return export.id


def _release_of(runtime, camera_id):
    """A public-records release of the camera's video, as a clerk of agency A requested it."""
    from rtcc.governance.releases.models import ReleaseRequest

    now = clock.utcnow()
    with runtime.database.session() as db:
        release = ReleaseRequest(agency_ori=TEST_AGENCY, records_request_number="PRR-1", requester="a paper",
                                 purpose="public records request", camera_id=camera_id, starts_at=now - timedelta(minutes=1),
                                 ends_at=now, source_path="releases/scope/source.mp4", original_sha256="0" * 64,
                                 source_segment_sha256=[], width=320, height=180, fps=10.0, status="requested",
                                 manual_boxes=[], requested_by="someone", requested_at=now)
        db.add(release)
        db.flush()
        return release.id


@pytest.fixture
def agency_a(runtime, signed_in_as):
    """Agency A's camera (group north) with a hotlist hit and a read behind no alert (both with crops), an incident,
    an export, a live share to one of its officers; and the people of A who own them."""
    admin, _ = signed_in_as("admin")
    supervisor, supervisor_person = signed_in_as("supervisor")
    analyst, _ = signed_in_as("analyst")
    operator, _ = signed_in_as("operator")
    officer, officer_person = signed_in_as("field_officer")
    camera = admin.post("/api/v1/cameras", json={"name": "Sunset & Vine", "kind": "city_fixed", "latitude": 34.098,
                                                 "longitude": -118.326, "groups": ["north"],
                                                 "main_stream_url": "rtsp://127.0.0.1:8554/none"}).json()
    hotlist = supervisor.post("/api/v1/alpr/hotlists", json={"name": "A stolen", "source": "NCIC", "priority": 1}).json()
    assert supervisor.post(f"/api/v1/alpr/hotlists/{hotlist['id']}/import", content=HOTLIST_CSV,
                           headers={"content-type": "text/csv"}).json()["added"] == 1
    assert operator.post("/api/v1/alpr/reads", json=_reads(camera["id"], "7ABC123", "5PLAIN5")).json()["alerts"] == 1
    alert = analyst.get("/api/v1/alpr/alerts").json()[0]
    plain_read = next(r["id"] for r in analyst.get("/api/v1/alpr/reads", params={"plate": "5PLAIN5", **BOUND}).json())
    _give_crops(runtime, [alert["read_id"], plain_read])
    incident = analyst.post("/api/v1/incidents", json={"title": "Stolen car seen", "type": "BOLO follow-up", "priority": 2,
                                                        "latitude": 34.098, "longitude": -118.326}).json()
    share = analyst.post("/api/v1/shares", json={"kind": "live", "camera_id": camera["id"], "recipient": officer_person.username,
                                                 **BOUND, "minutes": 10})
    assert share.status_code == 201, share.text
    token = analyst.post("/api/v1/auth/tokens", json={"name": "analyst's script", "permissions": ["cameras.view"]}).json()
    return {"token": token["id"], "admin": admin, "supervisor": supervisor, "analyst": analyst, "operator": operator, "officer": officer,
            "supervisor_name": supervisor_person.username, "camera": camera["id"], "hotlist": hotlist["id"],
            "alert": alert["id"], "alert_read": alert["read_id"], "plain_read": plain_read, "incident": incident["id"],
            "export": _export_of(runtime, camera["id"]), "share": share.json()["id"],
            "release": _release_of(runtime, camera["id"])}


def _routes(a):
    """Every by-id route: (name, method, path with {id}, the object's id, body, params, owner, owner's answer ok?)."""
    window = {"start": (clock.utcnow() - timedelta(minutes=5)).isoformat(), "end": clock.utcnow().isoformat()}
    camera = "/api/v1/cameras/{id}"
    not_found_of_camera = lambda response: response.json().get("code") != "camera_not_found"  # noqa: E731
    not_found_of_release = lambda response: response.json().get("code") != "release_not_found"  # noqa: E731
    ok = lambda response: 200 <= response.status_code < 300  # noqa: E731
    crop_ok = lambda response: response.status_code == 200 and response.content == CROP_BYTES  # noqa: E731
    return [
        ("camera", "GET", camera, a["camera"], None, None, "analyst", ok),
        ("camera patch", "PATCH", camera, a["camera"], {"name": "Sunset & Vine NE"}, None, "admin", ok),
        ("recordings", "GET", camera + "/recordings", a["camera"], None, window, "analyst", ok),
        ("playback", "GET", camera + "/playback", a["camera"], None, window, "analyst", not_found_of_camera),
        ("snapshot", "GET", camera + "/snapshot", a["camera"], None, {"at": window["end"]}, "analyst", not_found_of_camera),
        ("export clip", "POST", camera + "/exports", a["camera"], {**window, **BOUND}, None, "analyst", not_found_of_camera),
        ("mark", "POST", camera + "/marks", a["camera"], {"reason": "probe"}, None, "analyst", ok),
        ("crop via alert", "GET", "/api/v1/alpr/reads/{id}/crop", a["alert_read"], None, None, "officer", crop_ok),
        ("crop via search", "GET", "/api/v1/alpr/reads/{id}/crop", a["plain_read"], None, BOUND, "analyst", crop_ok),
        ("crop, no purpose", "GET", "/api/v1/alpr/reads/{id}/crop", a["plain_read"], None, None, None, None),
        ("hotlist import", "POST", "/api/v1/alpr/hotlists/{id}/import", a["hotlist"], HOTLIST_CSV, None, "supervisor", ok),
        ("acknowledge", "POST", "/api/v1/alpr/alerts/{id}/acknowledge", a["alert"], None, None, "operator", ok),
        ("verify", "POST", "/api/v1/alpr/alerts/{id}/verify", a["alert"],
         {"crop_matches_plate": True, "vehicle_matches": True, "entry_still_active": True}, None, "analyst", ok),
        ("disposition", "POST", "/api/v1/alpr/alerts/{id}/disposition", a["alert"], {"disposition": "other"}, None, "analyst", ok),
        ("incident", "GET", "/api/v1/incidents/{id}", a["incident"], None, None, "officer", ok),
        ("incident note", "POST", "/api/v1/incidents/{id}/notes", a["incident"], {"text": "probe"}, None, "analyst", ok),
        ("footage request", "POST", "/api/v1/incidents/{id}/footage-requests", a["incident"],
         {"camera_id": a["camera"]}, None, "analyst", lambda response: response.json().get("code") != "incident_not_found"),
        ("export verify", "GET", "/api/v1/exports/{id}/verify", a["export"], None, None, "analyst", ok),
        ("share", "GET", "/api/v1/shares/{id}", a["share"], None, None, "analyst", ok),
        ("share revoke", "POST", "/api/v1/shares/{id}/revoke", a["share"], None, None, "analyst", ok),
        ("account", "GET", "/api/v1/users/{id}", a["supervisor_name"], None, None, "supervisor", ok),
        ("own token revoke", "DELETE", "/api/v1/auth/tokens/{id}", a["token"], None, None, "analyst", ok),
        ("release", "GET", "/api/v1/releases/{id}", a["release"], None, None, "analyst", ok),
        ("release frame", "GET", "/api/v1/releases/{id}/frame", a["release"], None, {"index": 0}, "analyst", not_found_of_release),
        ("release box", "POST", "/api/v1/releases/{id}/boxes", a["release"], {"frame": 0, "x": 0, "y": 0, "width": 10,
                                                                             "height": 10}, None, "analyst", ok),
        ("release render", "POST", "/api/v1/releases/{id}/render", a["release"], None, None, "analyst", ok),
        ("release review", "GET", "/api/v1/releases/{id}/review", a["release"], None, None, "supervisor", not_found_of_release),
        ("release decision", "POST", "/api/v1/releases/{id}/decision", a["release"], {"approve": True, "note": "probe"},
         None, "supervisor", not_found_of_release),
        ("release copy", "GET", "/api/v1/releases/{id}/copy", a["release"], None, None, "analyst", not_found_of_release),
        ("camera delete", "DELETE", camera, a["camera"], None, None, "admin", ok),  # last: the others need the camera
    ]


def _call(client, method, path, object_id, body, params):
    url = path.replace("{id}", str(object_id))
    if isinstance(body, str):
        return client.request(method, url, content=body, params=params, headers={"content-type": "text/csv"})
    return client.request(method, url, json=body, params=params)


# Who must be refused what: everyone of agency B (each route), and people of A outside camera group north
# (the routes of the camera's things, and the analyst's own token; A's incidents, hotlists and accounts are theirs
# by agency).
CAMERA_THINGS = {"own token revoke", "camera", "camera patch", "recordings", "playback", "snapshot", "export clip", "mark", "crop via alert",
                 "crop via search", "crop, no purpose", "acknowledge", "verify", "disposition", "export verify",
                 "release", "release frame", "release box", "release render", "release review", "release decision",
                 "release copy", "camera delete"}


def test_no_by_id_route_lets_anyone_reach_an_object_outside_their_scope(agency_a, signed_in_as, runtime):
    outsiders = {f"{role} of B": signed_in_as(role, agency=OTHER_AGENCY)[0]
                 for role in ("supervisor", "analyst", "operator", "field_officer")}
    south = {f"{role} of A, south only": signed_in_as(role, agency=TEST_AGENCY, camera_groups=["south"])[0]
             for role in ("supervisor", "analyst", "field_officer")}
    routes = _routes(agency_a)
    failures = []
    for who, client in {**outsiders, **south}.items():
        for name, method, path, object_id, body, params, _, _ in routes:
            if who in south and name not in CAMERA_THINGS:
                continue
            response = _call(client, method, path, object_id, body, params)
            if response.status_code not in (403, 404) or CROP_BYTES in response.content:
                failures.append(f"{who}: {name} answered {response.status_code}")
            elif response.status_code == 404:  # exactly as for an id that does not exist: ids enumerate nothing
                missing = _call(client, method, path, MISSING, body, params)
                if (missing.status_code, missing.json().get("code")) != (404, response.json().get("code")):
                    failures.append(f"{who}: {name} answered {response.json()} but {missing.json()} for no such id")
    # The same-agency field officer, who may not search plates, sees the crop behind an alert but not the others.
    officer = agency_a["officer"]
    for params in (None, BOUND):
        plain = _call(officer, "GET", "/api/v1/alpr/reads/{id}/crop", agency_a["plain_read"], None, params)
        if plain.status_code != 404 or CROP_BYTES in plain.content:
            failures.append(f"field officer of A: a crop behind no alert answered {plain.status_code}")
    assert not failures, "\n".join(failures)
    # The owners do get each (so the refusals above are scope, not a broken route).
    for name, method, path, object_id, body, params, owner, owner_ok in routes:
        if owner is None:
            continue
        response = _call(agency_a[owner], method, path, object_id, body, params)
        assert owner_ok(response), f"{owner} of A: {name} answered {response.status_code} {response.text[:200]}"


def test_refused_crops_are_audited_and_seen_crops_carry_their_purpose(agency_a, signed_in_as, runtime):
    from rtcc.audit import service as audit

    outsider, outsider_person = signed_in_as("analyst", agency=OTHER_AGENCY)
    assert outsider.get(f"/api/v1/alpr/reads/{agency_a['plain_read']}/crop", params=BOUND).status_code == 404
    assert agency_a["analyst"].get(f"/api/v1/alpr/reads/{agency_a['plain_read']}/crop", params=BOUND).status_code == 200
    bad = agency_a["analyst"].get(f"/api/v1/alpr/reads/{agency_a['plain_read']}/crop", params={"purpose": "x"})
    assert bad.status_code == 422 and bad.json()["code"] == "purpose_required"
    uncategorised = {key: value for key, value in BOUND.items() if key != "purpose_category"}
    bad = agency_a["analyst"].get(f"/api/v1/alpr/reads/{agency_a['plain_read']}/crop", params=uncategorised)
    assert bad.status_code == 422 and bad.json()["code"] == "purpose_category_required"
    with runtime.database.session() as db:
        records = audit.search(db, query=audit.AuditQuery(action="alpr.crop_view"))
    denied = [r for r in records if r.outcome == "denied"]
    assert [(r.username, r.object_id, r.case_number) for r in denied] == [
        (outsider_person.username, str(agency_a["plain_read"]), BOUND["case_number"])]
    seen = [r for r in records if r.outcome == "success"]
    assert [(r.purpose, r.case_number) for r in seen] == [(BOUND["purpose"], BOUND["case_number"])]
    assert json.loads(seen[0].details)["purpose_category"] == "2400"
    # So is an attempt on another agency's alert or hotlist.
    assert outsider.post(f"/api/v1/alpr/alerts/{agency_a['alert']}/acknowledge").status_code == 404
    supervisor_b, supervisor_b_person = signed_in_as("supervisor", agency=OTHER_AGENCY)
    assert supervisor_b.post(f"/api/v1/alpr/hotlists/{agency_a['hotlist']}/import", content=HOTLIST_CSV,
                             headers={"content-type": "text/csv"}).status_code == 404
    with runtime.database.session() as db:
        attempts = audit.search(db, query=audit.AuditQuery(outcome="denied"))
    assert {(r.username, r.action, r.object_id) for r in attempts} >= {
        (outsider_person.username, "alert.acknowledge", str(agency_a["alert"])),
        (supervisor_b_person.username, "hotlist.import", str(agency_a["hotlist"]))}


def test_lists_hold_only_what_their_objects_allow(agency_a, signed_in_as):
    supervisor_b, _ = signed_in_as("supervisor", agency=OTHER_AGENCY)
    plate_search = {"plate": "7ABC123", **BOUND}
    assert len(agency_a["analyst"].get("/api/v1/alpr/reads", params=plate_search).json()) == 1
    assert supervisor_b.get("/api/v1/alpr/reads", params=plate_search).json() == []
    assert [h["name"] for h in agency_a["supervisor"].get("/api/v1/alpr/hotlists").json()] == ["A stolen"]
    assert supervisor_b.get("/api/v1/alpr/hotlists").json() == []
    assert supervisor_b.get("/api/v1/alpr/alerts").json() == []
    assert len(agency_a["analyst"].get("/api/v1/exports").json()) == 1
    assert supervisor_b.get("/api/v1/exports").json() == []
    created = supervisor_b.post("/api/v1/alpr/hotlists", json={"name": "Planted", "source": "NCIC", "priority": 1,
                                                               "agency_ori": TEST_AGENCY})
    assert created.status_code == 403 and created.json()["code"] == "hotlist_other_agency"
    agency_a["analyst"].post(f"/api/v1/alpr/alerts/{agency_a['alert']}/verify",
                             json={"crop_matches_plate": False, "vehicle_matches": True, "entry_still_active": True})
    assert str(agency_a["camera"]) in agency_a["analyst"].get("/api/v1/alpr/alerts/false-hits").json()["by_camera"]
    assert supervisor_b.get("/api/v1/alpr/alerts/false-hits").json() == {"by_camera": {}, "by_hotlist": {}}
    south, _ = signed_in_as("field_officer", camera_groups=["south"])
    assert south.get("/api/v1/alpr/alerts").json() == []


def test_everyone_who_sees_an_alert_sees_its_own_priority(client, runtime, signed_in_as):
    """A field officer, who may not read hotlists, gets the P1 of a stolen-vehicle hit as the analyst does."""
    from support import create_person, sign_in

    supervisor, _ = signed_in_as("supervisor")
    hotlist = supervisor.post("/api/v1/alpr/hotlists", json={"name": "A stolen", "source": "NCIC", "priority": 1}).json()
    supervisor.post(f"/api/v1/alpr/hotlists/{hotlist['id']}/import", content=HOTLIST_CSV, headers={"content-type": "text/csv"})
    sign_in(client, create_person(runtime, "ana", "analyst"))
    officer, _ = signed_in_as("field_officer")
    assert officer.get("/api/v1/alpr/hotlists").status_code == 403  # the officer cannot look the priority up
    operator, _ = signed_in_as("operator")
    with client.websocket_connect("/api/v1/events?types=plate.") as analyst_feed, \
            officer.websocket_connect("/api/v1/events?types=plate.") as officer_feed:
        analyst_feed.receive_json(), officer_feed.receive_json()  # hello
        assert operator.post("/api/v1/alpr/reads", json=_reads(7, "7ABC123")).status_code == 200
        heard = [feed.receive_json() for feed in (analyst_feed, officer_feed)]
    assert [(event["type"], event["data"]["priority"], event["data"]["hotlist"]) for event in heard] == \
        [("plate.alert", 1, "A stolen")] * 2
    listed = [reader.get("/api/v1/alpr/alerts").json() for reader in (client, officer)]
    assert [[(alert["priority"], alert["hotlist"]) for alert in alerts] for alerts in listed] == [[(1, "A stolen")]] * 2


def test_the_plate_search_page_shows_the_crops_it_found_under_its_purpose(agency_a):
    import html
    import re

    page = agency_a["analyst"].get("/console/plates", params={"plate": "5PLAIN5", "mode": "exact", **BOUND})
    source = re.search(r'<img class="crop small" src="([^"]+)"', page.text).group(1)
    crop = agency_a["analyst"].get(html.unescape(source))
    assert crop.status_code == 200 and crop.content == CROP_BYTES  # a read behind no alert: through the search's purpose


def test_alert_events_reach_only_those_who_may_see_the_alert(client, agency_a, signed_in_as):
    """Each feed's first plate event is the one meant for it: nothing of agency A's north camera came before."""
    supervisor_b, _ = signed_in_as("supervisor", agency=OTHER_AGENCY)
    operator_b, _ = signed_in_as("operator", agency=OTHER_AGENCY)
    analyst_b, _ = signed_in_as("analyst", agency=OTHER_AGENCY)
    south_officer, _ = signed_in_as("field_officer", camera_groups=["south"])
    south_camera = agency_a["admin"].post("/api/v1/cameras", json={"name": "Fountain & La Brea", "kind": "city_fixed",
                                                                   "latitude": 34.09, "longitude": -118.34,
                                                                   "groups": ["south"]}).json()["id"]
    hotlist_b = supervisor_b.post("/api/v1/alpr/hotlists", json={"name": "B stolen", "source": "NCIC", "priority": 2}).json()
    supervisor_b.post(f"/api/v1/alpr/hotlists/{hotlist_b['id']}/import", content="LIC,LIS,OFF\n6BBB666,NY,STOLEN VEHICLE\n",
                      headers={"content-type": "text/csv"})
    agency_a["supervisor"].post(f"/api/v1/alpr/hotlists/{agency_a['hotlist']}/import", content="LIC,LIS,OFF\n8NRTH88,CA,WARRANT\n",
                                headers={"content-type": "text/csv"})
    with analyst_b.websocket_connect("/api/v1/events?types=plate.") as feed_b, \
            south_officer.websocket_connect("/api/v1/events?types=plate.") as feed_south:
        feed_b.receive_json(), feed_south.receive_json()  # hello
        agency_a["operator"].post(f"/api/v1/alpr/alerts/{agency_a['alert']}/acknowledge")  # A's north alert changes
        assert agency_a["operator"].post("/api/v1/alpr/reads", json=_reads(agency_a["camera"], "8NRTH88")).json()["alerts"] == 1
        # What each may see, after the rest: B's own hit; A's hit on a south camera.
        assert operator_b.post("/api/v1/alpr/reads", json=_reads(55, "6BBB666")).json()["alerts"] == 1
        assert agency_a["operator"].post("/api/v1/alpr/reads", json=_reads(south_camera, "7ABC123")).json()["alerts"] == 1
        first_b, first_south = feed_b.receive_json(), feed_south.receive_json()
    assert (first_b["type"], first_b["data"].get("plate")) == ("plate.alert", "6BBB666")
    assert (first_south["type"], first_south["data"].get("plate"), first_south["data"]["camera_id"]) == \
        ("plate.alert", "7ABC123", south_camera)


def test_live_view_of_another_agencys_camera_closes_as_for_a_missing_one(agency_a, signed_in_as):
    from starlette.websockets import WebSocketDisconnect

    outsider, _ = signed_in_as("analyst", agency=OTHER_AGENCY)
    closes = []
    for camera_id in (agency_a["camera"], MISSING):  # the camera has a stream: only scope keeps the outsider out
        with pytest.raises(WebSocketDisconnect) as closed:
            with outsider.websocket_connect(f"/api/v1/cameras/{camera_id}/live") as feed:
                feed.receive_json()
        closes.append((closed.value.code, closed.value.reason))
    assert closes == [(4404, "camera_not_found")] * 2
