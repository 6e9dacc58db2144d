"""Audit review as supervisors meet it: people search, export, look and get refused through the real endpoints, the
flagging job runs, and the queue holds one explained flag per rule broken (and nothing for clean work); reviews are
recorded and audited; weekly reviews go overdue on the clock. SQLite and PostgreSQL."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from factories import make_camera
from support import OTHER_AGENCY, make_test_clip, sign_in

from rtcc.audit import service as audit
from rtcc.bootstrap import declare_jobs
from rtcc.cameras.geometry import offset_point
from rtcc.core import clock
from rtcc.governance.review.service import review_status

SCENE = (34.1000, -118.3000)
LINKED_CASE = "CFS-2026-0001"  # a call for service the CAD sent
PURPOSE = "stolen vehicle follow-up"


def run_flagging(runtime) -> str:
    """The flagging job as the scheduler runs it."""
    job = next(job for job in declare_jobs(runtime) if getattr(job, "key", None) == "governance.audit_review")
    return job.run()


def send_call(runtime, signed_in_as, call_id=LINKED_CASE):
    cad, _ = signed_in_as("operator")
    response = cad.post("/api/v1/cad/calls", json={
        "call_id": call_id, "type": "Robbery", "priority": 1, "address": "1200 Vine St", "latitude": SCENE[0],
        "longitude": SCENE[1], "received_at": clock.iso(clock.utcnow())})
    assert response.status_code in (200, 201), response.text
    return response.json()


def search(client, plate, *, case_number=LINKED_CASE, mode="exact"):
    response = client.get("/api/v1/alpr/reads", params={"plate": plate, "mode": mode, "purpose": PURPOSE,
                                                         "case_number": case_number, "purpose_category": "2400"})
    assert response.status_code == 200, response.text
    return response.json()


def flags(client, **params) -> list[dict]:
    response = client.get("/api/v1/audit-review/flags", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def of_rule(found: list[dict], rule: str) -> list[dict]:
    return [flag for flag in found if flag["rule"] == rule]


def move_clock_to(hour: int, minute: int = 0) -> None:
    """Advance the test clock to the next time of day (UTC, the review time zone by default)."""
    now = clock.utcnow()
    target = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= now:
        target += timedelta(days=1)
    clock.advance(target - now)


def test_plate_searches_are_flagged_by_case_and_repetition_and_clean_ones_are_not(runtime, signed_in_as):
    move_clock_to(10)  # office hours: the after-hours rule stays out of this test
    send_call(runtime, signed_in_as)
    careful, careful_person = signed_in_as("analyst")
    fixated, fixated_person = signed_in_as("analyst")
    unlinked, unlinked_person = signed_in_as("analyst")
    search(careful, "7ABC123")
    search(careful, "7ABC124")
    for _ in range(5):
        search(fixated, "8xyz-999")  # the same plate, however it is typed
    search(unlinked, "5DEF456", case_number="JUST-CURIOUS")

    assert run_flagging(runtime).startswith("raised 2 flags")
    supervisor, _ = signed_in_as("supervisor")
    queue = flags(supervisor)
    assert {flag["username"] for flag in queue} == {fixated_person.username, unlinked_person.username}

    [repeated] = of_rule(queue, "repeated_plate_search")
    assert repeated["username"] == fixated_person.username and repeated["record_count"] == 5
    assert "searched plate 8XYZ999 5 times" in repeated["explanation"]
    assert "threshold is 5 searches of one plate by one user in 24 h" in repeated["explanation"]
    [no_case] = of_rule(queue, "search_without_case")
    assert no_case["username"] == unlinked_person.username
    assert "'JUST-CURIOUS', which names no call for service or incident on record" in no_case["explanation"]

    # The flag links the very searches that made it.
    detail = supervisor.get(f"/api/v1/audit-review/flags/{repeated['id']}").json()
    assert [record["action"] for record in detail["records"]] == ["alpr.search"] * 5
    assert {json.loads(record["query_terms"])["plate"] for record in detail["records"]} == {"8xyz-999"}
    assert {record["username"] for record in detail["records"]} == {fixated_person.username}

    # Running again flags nothing twice; one more search is not a new burst on its own.
    search(fixated, "8XYZ999")
    assert run_flagging(runtime).startswith("raised 0 flags")
    assert len(flags(supervisor, status="all")) == 2

    # Another agency's supervisor sees none of it; an auditor sees it all but may not review.
    outsider, _ = signed_in_as("supervisor", agency=OTHER_AGENCY)
    assert flags(outsider) == []
    assert outsider.get(f"/api/v1/audit-review/flags/{repeated['id']}").status_code == 404
    auditor, _ = signed_in_as("auditor")
    assert {flag["id"] for flag in flags(auditor)} == {flag["id"] for flag in queue}
    refused = auditor.post(f"/api/v1/audit-review/flags/{repeated['id']}/reviews",
                           json={"outcome": "cleared", "notes": "looks fine to me"})
    assert refused.status_code == 403


def test_wildcard_searches_are_flagged_after_hours_only(runtime, signed_in_as):
    send_call(runtime, signed_in_as)
    move_clock_to(14)
    day, _ = signed_in_as("analyst")
    search(day, "7AB*", mode="wildcard")
    search(day, "7ABC123")
    move_clock_to(23, 10)
    night, night_person = signed_in_as("analyst")
    search(night, "7AB*", mode="wildcard")
    search(night, "7ABC123")  # one plate, one read at most: not bulk

    run_flagging(runtime)
    supervisor, _ = signed_in_as("supervisor")
    [late] = of_rule(flags(supervisor), "after_hours_bulk_search")
    assert late["username"] == night_person.username and late["record_count"] == 1
    assert "after hours (22:00 to 06:00 UTC): wildcard '7AB*' at" in late["explanation"]
    assert "23:1" in late["explanation"]


def test_repeated_denied_access_is_flagged_and_a_stray_refusal_is_not(runtime, signed_in_as):
    prober, prober_person = signed_in_as("analyst")
    stray, _ = signed_in_as("operator")
    for _ in range(3):
        assert prober.get("/api/v1/audit/records").status_code == 403
    for _ in range(2):
        assert stray.get("/api/v1/audit/records").status_code == 403
    run_flagging(runtime)
    supervisor, _ = signed_in_as("supervisor")
    assert flags(supervisor) == []  # three refusals: not yet

    # Two more within the hour: the next run reads back over the window and sees five.
    for _ in range(2):
        assert prober.get("/api/v1/audit/records").status_code == 403
    run_flagging(runtime)
    [denied] = of_rule(flags(supervisor), "repeated_denied_access")
    assert denied["username"] == prober_person.username and denied["record_count"] == 5
    assert "was refused access 5 times" in denied["explanation"]
    assert "access.denied GET /api/v1/audit/records x5" in denied["explanation"]


def test_a_private_camera_looked_at_without_an_open_request_is_flagged(runtime, signed_in_as):
    latitude, longitude = offset_point(*SCENE, 270, 50)
    bar = make_camera(runtime, name="Bar door", kind="private_integrated", owner_name="Rusty Nail Bar",
                      latitude=latitude, longitude=longitude, heading_deg=90, fov_deg=60, range_m=100)
    street = make_camera(runtime, name="Vine S", kind="city_fixed", latitude=SCENE[0] - 0.0004, longitude=SCENE[1],
                         heading_deg=0)
    now = clock.utcnow()
    window = {"start": (now - timedelta(hours=1)).isoformat(), "end": now.isoformat()}
    nosy, nosy_person = signed_in_as("analyst")
    assert nosy.get(f"/api/v1/cameras/{bar}/recordings", params=window).status_code == 200
    assert nosy.get(f"/api/v1/cameras/{street}/recordings", params=window).status_code == 200

    # Then a robbery next door, and the owner asked for footage: the same look now has a reason on record.
    incident = send_call(runtime, signed_in_as, call_id="CFS-2026-0002")["incident"]
    investigator, _ = signed_in_as("analyst")
    asked = investigator.post(f"/api/v1/incidents/{incident['id']}/footage-requests",
                              json={"camera_id": bar, "note": "22:10-22:30, person in grey hoodie"})
    assert asked.status_code == 201, asked.text
    assert investigator.get(f"/api/v1/cameras/{bar}/recordings", params=window).status_code == 200

    run_flagging(runtime)
    supervisor, _ = signed_in_as("supervisor")
    [looked] = of_rule(flags(supervisor), "private_camera_view")
    assert looked["username"] == nosy_person.username and looked["record_count"] == 1
    assert f"private camera {bar} 'Bar door', owner Rusty Nail Bar once (recordings;" in looked["explanation"]
    assert "no open incident docked it or had asked its owner for footage" in looked["explanation"]


def test_an_export_under_no_case_on_record_is_flagged(runtime, signed_in_as, tmp_path):
    from rtcc.video.pipeline.supervisor import media_store
    from rtcc.video.recording.salvage import SegmentIndexer

    send_call(runtime, signed_in_as)
    camera_id = make_camera(runtime, name="Vine S", kind="city_fixed")
    started = clock.utcnow() - timedelta(seconds=30)
    store = media_store(runtime)
    store.camera_dir(camera_id).mkdir(parents=True)  # as the recorder leaves it
    segment = store.place(camera_id, make_test_clip(tmp_path / "recorded.mp4", seconds=4), started, 4.0)
    assert SegmentIndexer(runtime, store).index(segment)
    span = {"start": started.isoformat(), "end": (started + timedelta(seconds=3)).isoformat(), "purpose": PURPOSE,
            "purpose_category": "2400"}
    exporter, exporter_person = signed_in_as("analyst")
    proper, _ = signed_in_as("analyst")
    made = exporter.post(f"/api/v1/cameras/{camera_id}/exports", json={**span, "case_number": "FAVOUR-FOR-A-FRIEND"})
    assert made.status_code == 201, made.text
    made = proper.post(f"/api/v1/cameras/{camera_id}/exports", json={**span, "case_number": LINKED_CASE})
    assert made.status_code == 201, made.text

    run_flagging(runtime)
    supervisor, _ = signed_in_as("supervisor")
    [export] = of_rule(flags(supervisor), "export_without_case")
    assert export["username"] == exporter_person.username
    assert f"exported footage once (camera {camera_id};" in export["explanation"]
    assert "'FAVOUR-FOR-A-FRIEND', which names no call for service or incident on record" in export["explanation"]


def test_a_review_is_recorded_with_its_notes_and_audited(runtime, signed_in_as):
    curious, curious_person = signed_in_as("analyst")
    search(curious, "5DEF456", case_number="JUST-CURIOUS")
    run_flagging(runtime)
    supervisor, supervisor_person = signed_in_as("supervisor")
    [flag] = flags(supervisor)

    short = supervisor.post(f"/api/v1/audit-review/flags/{flag['id']}/reviews", json={"outcome": "cleared", "notes": "ok"})
    assert short.status_code == 422
    wrong = supervisor.post(f"/api/v1/audit-review/flags/{flag['id']}/reviews",
                            json={"outcome": "ignored", "notes": "nothing to see here"})
    assert wrong.status_code == 422
    outsider, _ = signed_in_as("supervisor", agency=OTHER_AGENCY)
    assert outsider.post(f"/api/v1/audit-review/flags/{flag['id']}/reviews",
                         json={"outcome": "cleared", "notes": "not my agency"}).status_code == 404
    assert flags(supervisor)[0]["status"] == "open"  # nothing the refusals did stuck

    reviewed = supervisor.post(f"/api/v1/audit-review/flags/{flag['id']}/reviews",
                               json={"outcome": "referred", "notes": "No case JUST-CURIOUS exists: referred to IA."})
    assert reviewed.status_code == 201, reviewed.text
    assert reviewed.json()["reviewer"] == supervisor_person.username and reviewed.json()["outcome"] == "referred"
    assert flags(supervisor) == []  # the open queue is empty
    [referred] = flags(supervisor, status="referred")
    detail = supervisor.get(f"/api/v1/audit-review/flags/{referred['id']}").json()
    assert [(r["outcome"], r["notes"]) for r in detail["reviews"]] == [
        ("referred", "No case JUST-CURIOUS exists: referred to IA.")]
    with runtime.database.session() as db:
        [entry] = audit.search(db, query=audit.AuditQuery(action="audit_review.review"))
        looks = audit.search(db, query=audit.AuditQuery(action="audit_review.flag_view"))
    assert entry.username == supervisor_person.username and entry.object_id == str(flag["id"])
    assert json.loads(entry.details)["flagged_user"] == curious_person.username
    assert looks and looks[0].purpose == "audit review"

    # Nobody reviews their own flag.
    search(supervisor, "5DEF456", case_number="ALSO-CURIOUS")
    run_flagging(runtime)
    [own] = [f for f in flags(supervisor) if f["username"] == supervisor_person.username]
    refused = supervisor.post(f"/api/v1/audit-review/flags/{own['id']}/reviews",
                              json={"outcome": "cleared", "notes": "I was testing the search"})
    assert refused.status_code == 422 and refused.json()["code"] == "own_flag"

    status = review_status_now(runtime)
    assert (status.flags_raised, status.flags_reviewed, status.flags_referred, status.flags_open) == (2, 1, 1, 1)


def review_status_now(runtime):
    with runtime.database.session() as db:
        return review_status(db, clock.utcnow() - timedelta(days=30))


def test_a_weekly_review_is_due_then_overdue_on_the_clock_and_done_when_recorded(runtime, signed_in_as):
    move_clock_to(10)
    clock.advance(timedelta(days=(1 - clock.utcnow().weekday()) % 7))  # a Tuesday: ten days on is next week's Friday
    supervisor, person = signed_in_as("supervisor")
    [this_week] = supervisor.get("/api/v1/audit-review/weekly").json()
    assert this_week["supervisor"] == person.username and this_week["status"] == "due"
    monday = datetime.fromisoformat(this_week["week_start"])
    assert monday.weekday() == 0
    due = datetime.fromisoformat(this_week["due_at"].replace("Z", "+00:00"))
    assert due == datetime(monday.year, monday.month, monday.day, tzinfo=timezone.utc) + timedelta(days=9)

    # Ten days on, the week went by without a review: overdue, and the new week is due.
    clock.advance(timedelta(days=10))
    from fastapi.testclient import TestClient

    later = TestClient(supervisor.app, base_url="http://testserver")
    sign_in(later, person)
    later.headers["x-csrf-token"] = person.csrf_token
    weeks = {row["week_start"]: row["status"] for row in later.get("/api/v1/audit-review/weekly").json()}
    assert weeks[this_week["week_start"]] == "overdue" and sorted(weeks.values()) == ["due", "overdue"]
    assert review_status_now(runtime).weekly_reviews_overdue == 1

    short = later.post("/api/v1/audit-review/weekly", json={"notes": "ok"})
    assert short.status_code == 422
    done = later.post("/api/v1/audit-review/weekly", json={"notes": "Reviewed the queue: no flags that week."})
    assert done.status_code == 200, done.text
    assert done.json()["week_start"] == this_week["week_start"] and done.json()["status"] == "done"
    weeks = {row["week_start"]: row["status"] for row in later.get("/api/v1/audit-review/weekly").json()}
    assert weeks[this_week["week_start"]] == "done"
    status = review_status_now(runtime)
    assert (status.weekly_reviews_due, status.weekly_reviews_done, status.weekly_reviews_overdue) == (1, 1, 0)
    with runtime.database.session() as db:
        [entry] = audit.search(db, query=audit.AuditQuery(action="audit_review.weekly_review"))
    assert json.loads(entry.details)["late"] is True
    later.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_console_page_lists_the_queue_and_records_a_review(runtime, signed_in_as):
    curious, _ = signed_in_as("analyst")
    search(curious, "5DEF456", case_number="JUST-CURIOUS")
    run_flagging(runtime)
    supervisor, person = signed_in_as("supervisor")
    page = supervisor.get("/console/audit-review")
    assert page.status_code == 200 and "which names no call for service or incident on record" in page.text
    [flag] = flags(supervisor)
    opened = supervisor.get(f"/console/audit-review/flags/{flag['id']}")
    assert opened.status_code == 200 and "JUST-CURIOUS" in opened.text and "alpr.search" in opened.text
    outsider, _ = signed_in_as("supervisor", agency=OTHER_AGENCY)
    elsewhere = outsider.get(f"/console/audit-review/flags/{flag['id']}", follow_redirects=False)
    assert elsewhere.status_code == 303 and "No%20flag" in elsewhere.headers["location"]
    posted = supervisor.post(f"/console/audit-review/flags/{flag['id']}/review", follow_redirects=False,
                             data={"outcome": "cleared", "notes": "Case number typo, real case CFS-9.",
                                   "csrf_token": person.csrf_token})
    assert posted.status_code == 303 and "notice=" in posted.headers["location"]
    assert flags(supervisor, status="cleared")[0]["id"] == flag["id"]
