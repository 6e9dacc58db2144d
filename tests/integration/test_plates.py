"""Plates from device to verified alert to purpose-bound search, as the watch floor uses them."""

import json
from datetime import UTC, datetime, timedelta

from rtcc.core import clock

NCIC_CSV = """NIC,LIC,LIS,OFF,VMA,VMO,VCO,DOE,EXP
V123456789,7ABC123,CA,STOLEN VEHICLE,TOYT,CAMRY,BLK,20261101,
V123456790,8XYZ777,CA,AMBER ALERT SUSPECT VEHICLE,HOND,CIVIC,WHI,20261115,20270101
V123456791,4GHI555,ZZ,STOLEN VEHICLE,FORD,F150,RED,20261101,
V123456792,,CA,STOLEN VEHICLE,FORD,F150,RED,20261101,
V123456793,5JKL888,NV,,FORD,F150,RED,20261101,
V123456794,6MNO999,AZ,FELONY WARRANT,CHEV,TAHOE,GRY,2026-13-45,
V123456795,3PQR222,CA,STOLEN PLATE,NISS,ALTIMA,SIL,20261101,20261102
"""


def setup_hotlist(client):
    hotlist = client.post("/api/v1/alpr/hotlists", json={"name": "NCIC stolen", "source": "NCIC", "priority": 1}).json()
    report = client.post(f"/api/v1/alpr/hotlists/{hotlist['id']}/import", content=NCIC_CSV, headers={"content-type": "text/csv"}).json()
    return hotlist, report


def reads_of(*plates, camera_id=1, seconds_ago=0, **extra):
    at = clock.utcnow() - timedelta(seconds=seconds_ago)
    return {"reads": [{"plate": plate, "read_at": at.isoformat(), "confidence": 0.93, "camera_id": camera_id,
                       "read_id": f"{camera_id}-{plate}-{seconds_ago}", **extra} for plate in plates]}


def test_an_ncic_extract_imports_with_a_line_by_line_report(signed_in_as):
    supervisor, _ = signed_in_as("supervisor")
    hotlist, report = setup_hotlist(supervisor)
    assert (report["added"], report["rejected"]) == (3, 4)
    problems = {error["line"]: error["message"] for error in report["errors"]}
    assert "unknown state" in problems[4] and problems[5].startswith("plate") and problems[6].startswith("reason")
    assert "not a date" in problems[7]
    again = supervisor.post(f"/api/v1/alpr/hotlists/{hotlist['id']}/import", content=NCIC_CSV, headers={"content-type": "text/csv"}).json()
    assert (again["added"], again["updated"]) == (0, 3)  # re-importing the same extract changes nothing twice
    listed = supervisor.get("/api/v1/alpr/hotlists").json()
    assert listed[0]["active_entries"] == 3
    as_json = supervisor.post(f"/api/v1/alpr/hotlists/{hotlist['id']}/import", headers={"content-type": "application/json"},
                              content=json.dumps([{"plate": "9 TUV 111", "state": "CA", "reason": "BOLO robbery", "colour": "BLU"}])).json()
    assert as_json["added"] == 1


def test_reads_are_stored_once_bad_ones_rejected_with_reasons(signed_in_as):
    operator, _ = signed_in_as("operator")
    good = reads_of("1AAA111", "2BBB222")
    batch = {"reads": list(good["reads"])}
    batch["reads"].append({"plate": "3CCC333"})  # no time
    batch["reads"].append({"plate": "!", "read_at": clock.utcnow().isoformat(), "camera_id": 1})
    batch["reads"].append({"plate": "4DDD444", "read_at": "2026-11-21T10:00:00", "camera_id": 1})  # no zone
    first = operator.post("/api/v1/alpr/reads", json=batch).json()
    assert (first["stored"], first["duplicates"]) == (2, 0)
    assert [item["index"] for item in first["rejected"]] == [2, 3, 4]
    resent = operator.post("/api/v1/alpr/reads", json=good).json()  # a resend: same read ids, same read times
    assert (resent["stored"], resent["duplicates"]) == (0, 2)
    garbage = operator.post("/api/v1/alpr/reads", content=b"{not json", headers={"content-type": "application/json"})
    assert garbage.status_code == 422 and garbage.json()["code"] == "invalid_reads"


def stored_reads(runtime) -> dict[str, dict]:
    """plate -> the stored read's fields, as search and the alert queue get them."""
    from rtcc.alpr.models import PlateRead

    fields = ("plate", "plate_raw", "confidence", "read_at", "region", "camera_id", "device_id", "latitude", "longitude",
              "direction", "source", "source_read_id")
    with runtime.database.session() as db:
        return {read.plate: {name: getattr(read, name) for name in fields} for read in db.query(PlateRead)}


def test_openalpr_and_frigate_messages_are_understood(runtime, signed_in_as):
    operator, _ = signed_in_as("operator")
    # Whole milliseconds: OpenALPR sends epoch milliseconds; Frigate sends epoch seconds with a fraction.
    now = clock.utcnow()
    seen_at = now.replace(microsecond=now.microsecond // 1000 * 1000) - timedelta(minutes=3)
    epoch_ms = (seen_at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    group = {"data_type": "alpr_group", "epoch_start": epoch_ms, "best_plate_number": "7ABC124",
             "best_confidence": 91.5, "best_region": "ca", "agent_uid": "agent-9", "camera_id": 42, "best_uuid": "u-1",
             "travel_direction": 92.0, "gps_latitude": 34.09, "gps_longitude": -118.36}
    assert operator.post("/api/v1/alpr/reads?format=openalpr", json=group).json()["stored"] == 1
    frigate_at = seen_at + timedelta(seconds=1, milliseconds=500)
    event = {"type": "update", "after": {"id": "1718-abc", "camera": "driveway", "recognized_license_plate": "ABC 123",
                                         "recognized_license_plate_score": 0.88, "start_time": epoch_ms / 1000 + 1.5}}
    assert operator.post("/api/v1/alpr/reads?format=frigate", json=event).json()["stored"] == 1
    no_plate = {"type": "new", "after": {"id": "1718-def", "camera": "driveway", "start_time": clock.utcnow().timestamp()}}
    rejected = operator.post("/api/v1/alpr/reads?format=frigate", json=no_plate).json()
    assert rejected["stored"] == 0 and "no recognized plate" in rejected["rejected"][0]["message"]

    reads = stored_reads(runtime)
    assert sorted(reads) == ["7ABC124", "ABC123"]
    # OpenALPR's camera_id is the agent's own camera number, not ours: it goes into the device id, with the agent.
    assert reads["7ABC124"] == {
        "plate": "7ABC124", "plate_raw": "7ABC124", "confidence": 0.915, "read_at": seen_at, "region": "us-ca",
        "camera_id": None, "device_id": "openalpr:agent-9:42", "latitude": 34.09, "longitude": -118.36, "direction": "E",
        "source": "openalpr", "source_read_id": "u-1"}
    assert reads["ABC123"] == {
        "plate": "ABC123", "plate_raw": "ABC 123", "confidence": 0.88, "read_at": frigate_at, "region": None,
        "camera_id": None, "device_id": "frigate:driveway", "latitude": None, "longitude": None, "direction": None,
        "source": "frigate", "source_read_id": "1718-abc"}


def test_a_hotlisted_plate_raises_one_alert_that_a_person_verifies(client, runtime, signed_in_as):
    from support import create_person, sign_in

    supervisor, _ = signed_in_as("supervisor")
    hotlist, _ = setup_hotlist(supervisor)
    analyst = sign_in(client, create_person(runtime, "ana", "analyst"))
    client.headers["x-csrf-token"] = analyst.csrf_token
    operator, _ = signed_in_as("operator")
    with client.websocket_connect("/api/v1/events?types=plate.") as feed:
        feed.receive_json()
        stored = operator.post("/api/v1/alpr/reads", json=reads_of("7ABC123", "7ABC999")).json()
        assert (stored["stored"], stored["alerts"]) == (2, 1)
        alert_event = feed.receive_json()
    assert alert_event["type"] == "plate.alert" and alert_event["data"]["plate"] == "7ABC123"
    assert alert_event["data"]["vehicle"] == {"make": "TOYT", "model": "CAMRY", "colour": "BLK", "state": "CA"}
    assert alert_event["data"]["method"] == "exact" and alert_event["data"]["reason"] == "STOLEN VEHICLE"

    # The same plate past the same camera a minute later folds into the open alert.
    assert operator.post("/api/v1/alpr/reads", json=reads_of("7ABC123", seconds_ago=-1)).json()["alerts"] == 0
    alerts = client.get("/api/v1/alpr/alerts", params={"status": "new"}).json()
    assert len(alerts) == 1 and alerts[0]["repeats"] == 1 and alerts[0]["entry"]["reason"] == "STOLEN VEHICLE"
    alert_id = alerts[0]["id"]
    confirm_early = client.post(f"/api/v1/alpr/alerts/{alert_id}/disposition", json={"disposition": "confirmed"})
    assert confirm_early.status_code == 409  # nobody verified it yet
    # Another agency's analyst neither sees the alert nor can act on it (it belongs to the hotlist's agency).
    from support import OTHER_AGENCY

    outsider, _ = signed_in_as("analyst", agency=OTHER_AGENCY)
    assert outsider.get("/api/v1/alpr/alerts").json() == []
    for action, body in (("acknowledge", None), ("verify", {"crop_matches_plate": True, "vehicle_matches": True,
                                                             "entry_still_active": True})):
        assert outsider.post(f"/api/v1/alpr/alerts/{alert_id}/{action}", json=body).status_code == 404
    verified = client.post(f"/api/v1/alpr/alerts/{alert_id}/verify",
                           json={"crop_matches_plate": True, "vehicle_matches": True, "entry_still_active": True}).json()
    assert verified["status"] == "actionable" and verified["verified_by"] == "ana"
    closed = client.post(f"/api/v1/alpr/alerts/{alert_id}/disposition", json={"disposition": "confirmed", "note": "stopped, arrested"}).json()
    assert closed["status"] == "closed" and closed["disposition"] == "confirmed"


def test_fuzzy_matches_expired_entries_and_false_hit_rates(signed_in_as):
    supervisor, _ = signed_in_as("supervisor")
    setup_hotlist(supervisor)
    operator, _ = signed_in_as("operator")
    misread = operator.post("/api/v1/alpr/reads", json=reads_of("8XYZ7T7", camera_id=5)).json()  # T is no confusable of 7
    assert misread["alerts"] == 0
    fuzzy = operator.post("/api/v1/alpr/reads", json=reads_of("BXYZ777", camera_id=5)).json()  # B read for 8
    assert fuzzy["alerts"] == 1
    expired = operator.post("/api/v1/alpr/reads", json=reads_of("3PQR222", camera_id=5)).json()  # expired 2026-11-02
    assert expired["alerts"] == 0
    alert = supervisor.get("/api/v1/alpr/alerts").json()[0]
    assert alert["match_method"] == "fuzzy" and alert["plate"] == "BXYZ777"
    checked = supervisor.post(f"/api/v1/alpr/alerts/{alert['id']}/verify",
                              json={"crop_matches_plate": False, "vehicle_matches": True, "entry_still_active": True}).json()
    assert checked["status"] == "closed" and checked["disposition"] == "misread"
    rates = supervisor.get("/api/v1/alpr/alerts/false-hits").json()
    assert rates["by_camera"]["5"] == {"disposed": 1, "false_hits": 1, "false_hit_rate": 1.0}


def test_an_entry_updated_in_place_stops_matching_at_its_new_expiry(signed_in_as):
    supervisor, _ = signed_in_as("supervisor")
    hotlist, _ = setup_hotlist(supervisor)
    operator, _ = signed_in_as("operator")
    assert operator.post("/api/v1/alpr/reads", json=reads_of("7ABC123", camera_id=4, seconds_ago=600)).json()["alerts"] == 1
    # The car is recovered: the next extract carries the same record with an expiry already past.
    recovered = NCIC_CSV.replace("V123456789,7ABC123,CA,STOLEN VEHICLE,TOYT,CAMRY,BLK,20261101,",
                                 "V123456789,7ABC123,CA,STOLEN VEHICLE,TOYT,CAMRY,BLK,20261101,20261102")
    assert recovered != NCIC_CSV
    report = supervisor.post(f"/api/v1/alpr/hotlists/{hotlist['id']}/import", content=recovered,
                             headers={"content-type": "text/csv"}).json()
    assert report["updated"] >= 1
    assert operator.post("/api/v1/alpr/reads", json=reads_of("7ABC123", camera_id=6)).json()["alerts"] == 0
    # Put back with no expiry, it matches again.
    supervisor.post(f"/api/v1/alpr/hotlists/{hotlist['id']}/import", content=NCIC_CSV, headers={"content-type": "text/csv"})
    assert operator.post("/api/v1/alpr/reads", json=reads_of("7ABC123", camera_id=7)).json()["alerts"] == 1


def test_searches_need_a_purpose_and_case_and_find_earlier_passes(runtime, signed_in_as, monkeypatch):
    from rtcc.alpr import search

    operator, _ = signed_in_as("operator")
    for camera, seconds, lat, lon in ((1, 3600, 34.090, -118.370), (2, 1800, 34.091, -118.360), (3, 60, 34.200, -118.100)):
        operator.post("/api/v1/alpr/reads", json=reads_of("7ABC123", camera_id=camera, seconds_ago=seconds, latitude=lat, longitude=lon))
    operator.post("/api/v1/alpr/reads", json=reads_of("7ABC128", camera_id=1, seconds_ago=10, latitude=34.09, longitude=-118.37))
    analyst, person = signed_in_as("analyst")
    bound = {"purpose": "homicide investigation, suspect vehicle", "case_number": "HOM-2026-0117", "purpose_category": "0900"}
    refused = analyst.get("/api/v1/alpr/reads", params={"plate": "7ABC123"})
    assert refused.status_code == 422 and refused.json()["code"] == "purpose_required"
    no_case = analyst.get("/api/v1/alpr/reads", params={"plate": "7ABC123", "purpose": bound["purpose"]})
    assert no_case.json()["code"] == "case_number_required"
    for blank in ({}, {"purpose_category": ""}, {"purpose_category": "  "}):
        no_category = analyst.get("/api/v1/alpr/reads", params={"plate": "7ABC123", "purpose": bound["purpose"],
                                                                "case_number": bound["case_number"], **blank})
        assert no_category.status_code == 422 and no_category.json()["code"] == "purpose_category_required", blank
        assert "GET /api/v1/policy/purposes" in no_category.json()["message"]
    exact = analyst.get("/api/v1/alpr/reads", params={"plate": "7abc-123", **bound}).json()
    assert [read["camera_id"] for read in exact] == [3, 2, 1]  # newest first
    wildcard = analyst.get("/api/v1/alpr/reads", params={"plate": "7ABC12*", "mode": "wildcard", **bound}).json()
    assert {read["plate"] for read in wildcard} == {"7ABC123", "7ABC128"}
    # A leading wildcard goes through the list of seen plates; both ways of serving it find the same reads.
    for pattern in ("*BC12*", "?ABC12?"):
        found = analyst.get("/api/v1/alpr/reads", params={"plate": pattern, "mode": "wildcard", **bound}).json()
        assert sorted(read["plate"] for read in found) == ["7ABC123"] * 3 + ["7ABC128"], pattern
    monkeypatch.setattr(search, "SEEN_PLATES_MOST", 1)  # two plates match: too many, so the reads are scanned
    scanned = analyst.get("/api/v1/alpr/reads", params={"plate": "*BC12*", "mode": "wildcard", **bound}).json()
    assert [read["id"] for read in scanned] == [read["id"] for read in found]
    fuzzy = analyst.get("/api/v1/alpr/reads", params={"plate": "7A8C123", "mode": "fuzzy", **bound}).json()
    assert {read["plate"] for read in fuzzy} == {"7ABC123"}
    area = "-118.38,34.08;-118.35,34.08;-118.35,34.10;-118.38,34.10"
    inside = analyst.get("/api/v1/alpr/reads", params={"plate": "7ABC123", "area": area, **bound}).json()
    assert sorted(read["camera_id"] for read in inside) == [1, 2]
    for hostile in ("7%", "' OR 1=1 --", "7AB_", "**"):
        response = analyst.get("/api/v1/alpr/reads", params={"plate": hostile, "mode": "wildcard", **bound})
        assert response.status_code == 422, hostile
    from rtcc.audit import service as audit

    with runtime.database.session() as db:
        searches = audit.search(db, query=audit.AuditQuery(action="alpr.search", username=person.username))
    # Only the searches made are on record (the refused ones, before anything was looked up, are not), each with its category.
    assert len(searches) == 7 and all(s.case_number == "HOM-2026-0117" and s.purpose == bound["purpose"] for s in searches)
    assert {json.loads(s.details)["purpose_category"] for s in searches} == {"0900"}
    assert json.loads(searches[-1].query_terms)["plate"] == "7abc-123"


def test_unmatched_reads_are_purged_after_the_retention_days_alert_reads_stay(runtime, signed_in_as):
    from sqlalchemy import select

    from rtcc.alpr.models import PlateRead, SeenPlate
    from rtcc.governance.retention import engine

    supervisor, _ = signed_in_as("supervisor")
    setup_hotlist(supervisor)
    operator, _ = signed_in_as("operator")
    old = 40 * 86400
    operator.post("/api/v1/alpr/reads", json=reads_of("1OLD111", "7ABC123", camera_id=3, seconds_ago=old))
    operator.post("/api/v1/alpr/reads", json=reads_of("2NEW222", camera_id=3))
    purged = engine.run_class(runtime, "plate_reads")
    with runtime.database.session() as db:
        left = sorted(read.plate for read in db.query(PlateRead))
    assert [(line["camera_id"], line["count"], line["reason"]) for line in purged.breakdown_json()] == [(3, 1, "unmatched_reads")]
    assert left == ["2NEW222", "7ABC123"]  # the hotlisted read stays with its alert
    # The purged plate is gone from the list leading-wildcard searches scan, too; the kept ones stay findable.
    analyst, _ = signed_in_as("analyst")
    bound = {"mode": "wildcard", "purpose": "retention check of purged plates", "case_number": "RET-1",
             "purpose_category": "2400"}
    assert analyst.get("/api/v1/alpr/reads", params={"plate": "*OLD*", **bound}).json() == []
    assert [read["plate"] for read in analyst.get("/api/v1/alpr/reads", params={"plate": "*NEW*", **bound}).json()] == ["2NEW222"]
    with runtime.database.session() as db:
        assert sorted(db.scalars(select(SeenPlate.plate))) == ["2NEW222", "7ABC123"]


def test_the_console_alert_queue_takes_an_analyst_through_verification(runtime, client, signed_in_as):
    import re

    from support import create_person, sign_in

    from rtcc.audit import service as audit

    supervisor, _ = signed_in_as("supervisor")
    setup_hotlist(supervisor)
    operator, _ = signed_in_as("operator")
    operator.post("/api/v1/alpr/reads", json=reads_of("8XYZ777", camera_id=4))
    analyst = sign_in(client, create_person(runtime, "ana", "analyst"))
    page = client.get("/console/alerts")
    assert page.status_code == 200 and "AMBER ALERT SUSPECT VEHICLE" in page.text and "WHI HOND CIVIC" in page.text
    alert_id = int(re.search(r'data-testid="alert-(\d+)"', page.text).group(1))
    done = client.post(f"/console/alerts/{alert_id}/verify", data={
        "crop_matches_plate": "yes", "vehicle_matches": "yes", "entry_still_active": "yes", "csrf_token": analyst.csrf_token},
        follow_redirects=False)
    assert done.status_code == 303 and "actionable" in done.headers["location"]
    closed = client.post(f"/console/alerts/{alert_id}/disposition", data={
        "disposition": "confirmed", "note": "vehicle stopped", "csrf_token": analyst.csrf_token}, follow_redirects=True)
    assert "No open alerts" in closed.text
    unbound = client.get("/console/plates", params={"plate": "8XYZ777", "purpose": "", "case_number": ""})
    assert "Say why you search" in unbound.text and 'data-testid="reads"' not in unbound.text
    # The form offers the managed list; without a category nothing is searched, and what was typed stays.
    bound = {"plate": "8XYZ777", "purpose": "amber alert follow-up", "case_number": "AMB-7"}
    uncategorised = client.get("/console/plates", params=bound)
    assert 'data-testid="reads"' not in uncategorised.text
    assert "Choose a purpose category" in uncategorised.text and "GET /api/v1/policy/purposes" in uncategorised.text
    assert 'value="amber alert follow-up"' in uncategorised.text and 'value="AMB-7"' in uncategorised.text
    offered = re.findall(r'<option value="([^"]*)"\s*(selected)?>', uncategorised.text)
    assert ("", "") in offered and {("MP", ""), ("0900", ""), ("1200", "")} <= set(offered)
    found = client.get("/console/plates", params={**bound, "purpose_category": "MP"})
    assert "1 read(s)" in found.text and "8XYZ777" in found.text
    assert [code for code, chosen in re.findall(r'<option value="([^"]*)"\s*(selected)?>', found.text)
            if chosen] == ["MP"]  # the category chosen stays chosen
    with runtime.database.session() as db:
        [search] = audit.search(db, query=audit.AuditQuery(action="alpr.search", username=analyst.username))
    assert json.loads(search.details)["purpose_category"] == "MP"


def test_hotlists_refresh_from_a_file_whenever_the_extract_changes(runtime, tmp_path, caplog):
    from rtcc.alpr.models import Hotlist, HotlistEntry
    from rtcc.alpr.scheduled_imports import ScheduledHotlistImports

    extract = tmp_path / "stolen.csv"
    extract.write_text(NCIC_CSV)
    runtime.settings.hotlist_import_paths = [f"NCIC nightly={extract}", f"Missing={tmp_path / 'absent.csv'}"]
    imports = ScheduledHotlistImports(runtime)
    first = imports.sweep()
    assert [(name, report.added, len(report.errors)) for name, report in first] == [("NCIC nightly", 3, 4)]
    assert "cannot read" in caplog.text  # the missing file is reported, the other imported
    assert imports.sweep() == []  # unchanged file: nothing to do
    extract.write_text("LIC,LIS,OFF\n7ABC123,CA,STOLEN VEHICLE\n")
    second = imports.sweep()
    assert (second[0][1].added, second[0][1].updated) == (1, 0)
    with runtime.database.session() as db:
        hotlist = db.query(Hotlist).filter_by(name="NCIC nightly").one()
        active = [e.plate for e in db.query(HotlistEntry).filter_by(hotlist_id=hotlist.id, removed_at=None)]
    assert active == ["7ABC123"]  # a full extract: entries no longer in it stop matching
