"""Hostile input at every intake: deeply nested JSON, numbers no column holds, ids past 64 bits.
Each gets a 4xx with a specific code, nothing is lost, and the same connection serves the next request."""

import asyncio
import csv
import io
import json
import os
import socket
import subprocess
import sys

import httpx
import pytest
from sqlalchemy import select
from support import create_person, wait_until

from rtcc.core import clock

DEPTH = 1000  # what the probe sent; Python's parser recurses once per level and gives up near 1000
DEEP_JSON = '{"reads": ' + "[" * DEPTH + "]" * DEPTH + "}"
HUGE_ID = "99999999999999999999"  # past 2**63 - 1, the largest BIGINT


def a_read(plate: str, read_id: str, **extra) -> dict:
    return {"reads": [{"plate": plate, "read_at": clock.utcnow().isoformat(), "confidence": 0.9, "camera_id": 1,
                       "read_id": read_id, **extra}]}


def stored_plates(runtime) -> list[str]:
    from rtcc.alpr.models import PlateRead

    with runtime.database.session() as db:
        return sorted(read.plate for read in db.query(PlateRead))


def test_deep_json_gets_422_json_too_deep_on_every_intake_and_the_connection_serves_on(runtime, signed_in_as):
    admin, _ = signed_in_as("admin")
    hotlist = admin.post("/api/v1/alpr/hotlists", json={"name": "Probe list", "source": "local", "priority": 3}).json()
    intakes = [
        ("/api/v1/alpr/reads", "application/json"),
        ("/api/v1/alpr/reads", "text/plain"),  # the ingest route reads any body as JSON
        ("/api/v1/alpr/reads?format=frigate", None),
        (f"/api/v1/alpr/hotlists/{hotlist['id']}/import", "application/json"),
        ("/api/v1/cameras/import", "application/geo+json"),
        ("/api/v1/cameras/import", "application/json"),
        ("/api/v1/cad/calls", "application/json"),
        ("/api/v1/incidents", "application/json"),
        ("/api/v1/auth/sign-in", "application/json"),
    ]
    for path, content_type in intakes:
        headers = {"content-type": content_type} if content_type else {}
        response = admin.post(path, content=DEEP_JSON, headers=headers)
        assert response.status_code == 422, (path, content_type, response.status_code, response.text[:200])
        assert response.json()["code"] == "json_too_deep", (path, response.text[:200])
        # The same client (and connection) goes on working: the next read is stored.
        assert admin.get("/api/v1/auth/me").status_code == 200
    stored = admin.post("/api/v1/alpr/reads", json=a_read("7BAD001", "deep-after"))
    assert stored.status_code == 200 and stored.json()["stored"] == 1, stored.text
    assert stored_plates(runtime) == ["7BAD001"]


def test_json_of_ordinary_depth_still_passes_with_brackets_inside_strings(signed_in_as):
    admin, _ = signed_in_as("admin")
    # 40 brackets inside a string do not nest: only structure counts.
    read = a_read("7BAD002", "[" * 40 + "{" * 40)
    response = admin.post("/api/v1/alpr/reads", json=read)
    assert response.status_code == 200 and response.json()["stored"] == 1, response.text


def test_numbers_no_column_holds_get_422_and_lose_nothing_else(runtime, signed_in_as):
    admin, _ = signed_in_as("admin")
    for number in (HUGE_ID, "1e999", "NaN", "-Infinity", "1" * 5000):
        body = json.dumps(a_read("7BAD003", f"n-{number[:5]}")).replace('"camera_id": 1', f'"camera_id": {number}')
        response = admin.post("/api/v1/alpr/reads", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 422, (number[:20], response.status_code, response.text[:200])
        assert response.json()["code"] == "json_number_out_of_range"
    hotlist = admin.post("/api/v1/alpr/hotlists", json={"name": "Too big", "source": "x" * 2, "priority": 10**30})
    assert hotlist.status_code == 422 and hotlist.json()["code"] == "json_number_out_of_range"
    assert stored_plates(runtime) == []
    assert admin.post("/api/v1/alpr/reads", json=a_read("7BAD004", "after-numbers")).json()["stored"] == 1


@pytest.mark.parametrize("role, method, path, largest", [
    ("supervisor", "GET", "/api/v1/alpr/reads/{id}/crop", 2**63 - 1),  # plate reads have BIGINT ids
    ("supervisor", "POST", "/api/v1/alpr/alerts/{id}/acknowledge", 2**31 - 1),  # the rest INTEGER
    ("admin", "GET", "/api/v1/cameras/{id}", 2**31 - 1),
    ("admin", "DELETE", "/api/v1/cameras/{id}", 2**31 - 1),
    ("supervisor", "GET", "/api/v1/incidents/{id}", 2**31 - 1),
    ("supervisor", "GET", "/api/v1/shares/{id}", 2**31 - 1),
    ("supervisor", "GET", "/api/v1/exports/{id}/verify", 2**31 - 1),
    ("admin", "DELETE", "/api/v1/tokens/{id}", 2**31 - 1),
])
def test_an_id_past_what_its_column_holds_gets_422_not_a_server_error(signed_in_as, role, method, path, largest):
    caller, _ = signed_in_as(role)
    for too_large in (HUGE_ID, largest + 1):
        response = caller.request(method, path.format(id=too_large))
        assert response.status_code == 422, (too_large, response.text)
        assert response.json()["code"] == "validation_error" and response.json()["errors"][0]["location"] == "path"
    found = caller.request(method, path.format(id=largest))
    assert found.status_code == 404, found.text  # the largest id a row can have is looked up like any other


def test_a_search_page_cursor_past_64_bits_gets_422(signed_in_as):
    supervisor, _ = signed_in_as("supervisor")
    auditor, _ = signed_in_as("auditor")
    terms = {"plate": "7BAD*", "mode": "wildcard", "purpose": "probe", "case_number": "T-1", "purpose_category": "2400"}
    for extra in ({"before_id": HUGE_ID}, {"camera_id": HUGE_ID}):
        response = supervisor.get("/api/v1/alpr/reads", params={**terms, **extra})
        assert response.status_code == 422 and response.json()["code"] == "validation_error", (extra, response.text)
    audit = auditor.get("/api/v1/audit/records", params={"before_seq": HUGE_ID})
    assert audit.status_code == 422, audit.text


def test_a_deep_privacy_mask_in_a_camera_csv_is_reported_on_its_line(signed_in_as):
    admin, _ = signed_in_as("admin")
    rows = io.StringIO()
    writer = csv.writer(rows, lineterminator="\n")
    writer.writerow(["external_id", "name", "kind", "latitude", "longitude", "privacy_masks"])
    writer.writerow(["D-1", "Deep mask", "city_fixed", "34.09", "-118.36", "[" * DEPTH + "]" * DEPTH])
    writer.writerow(["D-2", "Plain", "city_fixed", "34.091", "-118.361", ""])
    response = admin.post("/api/v1/cameras/import", content=rows.getvalue(), headers={"content-type": "text/csv"})
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["rejected"]) == (1, 1)
    assert report["errors"][0]["line"] == 2 and "deep" in report["errors"][0]["message"]


def test_a_deep_mqtt_message_is_counted_as_rejected_and_the_subscriber_reads_on(runtime):
    from rtcc.alpr.adapters.mqtt import PlateReadSubscriber
    from rtcc.alpr.hotlists import HotlistCache
    from rtcc.alpr.models import PlateRead

    runtime.settings.mqtt_url = "mqtt://127.0.0.1:1883"
    subscriber = PlateReadSubscriber(runtime, HotlistCache())

    async def deliver():
        await subscriber.handle("rtcc/alpr/rtcc/gate-1", DEEP_JSON.encode())
        await subscriber.handle("rtcc/alpr/rtcc/gate-1", json.dumps(a_read("7BAD005", "mqtt-after")).encode())

    asyncio.run(deliver())
    assert (subscriber.stats.messages, subscriber.stats.rejected, subscriber.stats.stored) == (2, 1, 1)
    with runtime.database.session() as db:
        assert [read.plate for read in db.query(PlateRead)] == ["7BAD005"]


def test_a_null_for_a_camera_field_that_must_hold_a_value_gets_422_and_changes_nothing(signed_in_as):
    admin, _ = signed_in_as("admin")
    camera = admin.post("/api/v1/cameras", json={"external_id": "N-1", "name": "Null probe", "kind": "city_fixed",
                                                 "latitude": 34.09, "longitude": -118.36}).json()
    for field in ("record_mode", "rtsp_transport", "latitude"):
        response = admin.patch(f"/api/v1/cameras/{camera['id']}", json={"name": "Renamed", field: None})
        assert response.status_code == 422, (field, response.status_code, response.text)  # was 503 audit_unavailable
        assert response.json()["code"] == "field_required" and field in response.json()["message"]
    assert admin.get(f"/api/v1/cameras/{camera['id']}").json()["name"] == "Null probe"


def test_an_external_id_already_taken_gets_409_on_create_and_on_change(signed_in_as):
    admin, _ = signed_in_as("admin")
    site = {"name": "Taken probe", "kind": "city_fixed", "latitude": 34.09, "longitude": -118.36}
    for external_id in ("", "T-1"):  # an empty id is an id too: the second one collided in the database (500)
        assert admin.post("/api/v1/cameras", json={**site, "external_id": external_id}).status_code == 201
        again = admin.post("/api/v1/cameras", json={**site, "external_id": external_id})
        assert again.status_code == 409 and again.json()["code"] == "camera_exists", again.text
    other = admin.post("/api/v1/cameras", json={**site, "external_id": "T-2"}).json()
    moved = admin.patch(f"/api/v1/cameras/{other['id']}", json={"external_id": "T-1"})
    assert moved.status_code == 409 and moved.json()["code"] == "camera_exists", moved.text  # was 503
    assert admin.get(f"/api/v1/cameras/{other['id']}").json()["external_id"] == "T-2"


def test_a_body_id_past_its_column_gets_a_4xx_naming_why_on_either_database(signed_in_as):
    supervisor, _ = signed_in_as("supervisor")
    share = {"kind": "snapshot", "camera_id": 2**40, "recipient": "officer@example.org", "purpose": "probe follow-up",
             "case_number": "T-1", "purpose_category": "2400"}
    response = supervisor.post("/api/v1/shares", json=share)
    # SQLite looks the camera up (64-bit keys); PostgreSQL's INTEGER key cannot take it (was 500 there).
    assert (response.status_code, response.json()["code"]) in ((404, "camera_not_found"), (422, "value_out_of_range")), \
        response.text
    assert supervisor.get("/api/v1/shares").json() == []


def test_a_console_alert_form_posted_to_an_id_past_64_bits_gets_a_4xx(signed_in_as):
    analyst, person = signed_in_as("analyst")
    for action, form in (("verify", {"crop_matches_plate": "yes"}), ("disposition", {"disposition": "confirmed"})):
        response = analyst.post(f"/console/alerts/{HUGE_ID}/{action}", data={**form, "csrf_token": person.csrf_token},
                                follow_redirects=False)
        assert response.status_code == 422, (action, response.status_code, response.text[:200])  # was 500


def _ingest_token(runtime) -> str:
    from rtcc.auth import tokens
    from rtcc.auth.models import User
    from rtcc.auth.permissions import permissions_of
    from rtcc.auth.sessions import user_actor

    person = create_person(runtime, "gateway", "operator")
    with runtime.database.session() as db:
        user = db.execute(select(User).where(User.username == person.username)).scalar_one()
        actor = user_actor(user, via="session", permissions=permissions_of(user.role), source_address=None)
        return tokens.create_token(db, runtime=runtime, actor=actor, username=user.username, name="gateway",
                                   permissions=["alpr.ingest"], expires_in_days=1).raw_token


def test_rtcc_serve_answers_deep_json_with_422_and_the_same_connection_serves_the_next_read(runtime, tmp_path):
    token = _ingest_token(runtime)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "RTCC_DATABASE_URL": runtime.settings.database_url.get_secret_value(), "RTCC_RECORDING_ENABLED": "false"}
    server_log = tmp_path / "server.log"
    with server_log.open("w") as log:  # a file, not a pipe nobody reads
        process = subprocess.Popen([sys.executable, "-m", "rtcc.cli", "serve", "--data-dir", str(runtime.settings.data_dir),
                                    "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"authorization": f"Bearer {token}"},
                          limits=httpx.Limits(max_connections=1), timeout=30) as http:
            def up() -> bool:
                if process.poll() is not None:
                    pytest.fail("server did not start: " + server_log.read_text()[-3000:])
                try:
                    return http.get("/healthz").status_code == 200
                except httpx.TransportError:
                    return False

            wait_until(up, timeout=60, poll=0.2, what="rtcc serve to answer /healthz")
            deep = http.post("/api/v1/alpr/reads", content=DEEP_JSON, headers={"content-type": "application/json"})
            assert deep.status_code == 422 and deep.json()["code"] == "json_too_deep", deep.text[:300]
            connection = deep.extensions["network_stream"].get_extra_info("client_addr")
            after = http.post("/api/v1/alpr/reads", json=a_read("7BAD006", "served-after"))
            assert after.status_code == 200 and after.json()["stored"] == 1, after.text
            assert after.extensions["network_stream"].get_extra_info("client_addr") == connection  # not reset
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert stored_plates(runtime) == ["7BAD006"]


def test_a_deep_json_extract_in_the_hotlist_folder_is_refused_and_the_other_extracts_still_import(runtime, tmp_path, caplog):
    from rtcc.alpr.models import HotlistEntry
    from rtcc.alpr.scheduled_imports import ScheduledHotlistImports

    (tmp_path / "hostile.json").write_text('{"entries": ' + "[" * DEPTH + "]" * DEPTH + "}")
    (tmp_path / "ncic.csv").write_text("LIC,LIS,OFF\n7GOOD01,CA,STOLEN VEHICLE\n")
    runtime.settings.hotlist_import_paths = [f"Hostile={tmp_path / 'hostile.json'}", f"NCIC={tmp_path / 'ncic.csv'}"]
    imported = ScheduledHotlistImports(runtime).sweep()
    assert [name for name, _ in imported] == ["NCIC"]
    assert "hostile.json not imported" in caplog.text and "levels deep" in caplog.text
    with runtime.database.session() as db:
        assert [entry.plate for entry in db.query(HotlistEntry)] == ["7GOOD01"]
