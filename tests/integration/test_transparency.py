"""The public transparency portal: figures counted from the database, without signing in, bucketed where a small
number could point to one investigation, with nothing private in them; the annual report as HTML and a real PDF;
the costs and complaints only an admin enters."""

import io
from datetime import timedelta

import pytest
from pypdf import PdfReader
from factories import make_camera, make_hotlist

from rtcc.audit import service as audit
from rtcc.core import clock
from rtcc.governance.transparency.figures import bucket, duration_text

PUBLIC_JSON = "/api/v1/public/transparency"
HOTLISTED = ("7HOT001", "7HOT002", "7HOT003", "7HOT004", "7HOT005", "7HOT006")
PURPOSE, CASE_NUMBER = "Stolen vehicle follow-up near the library", "CASE-2026-4711"


@pytest.fixture(autouse=True)
def _count_every_request(monkeypatch):
    """The figures are recounted for every request here (the cache has its own test)."""
    monkeypatch.setenv("RTCC_TRANSPARENCY_CACHE_SECONDS", "0")


def reads_of(*plates, camera_id, minutes_ago=0):
    at = clock.utcnow() - timedelta(minutes=minutes_ago)
    return {"reads": [{"plate": plate, "read_at": at.isoformat(), "confidence": 0.93, "camera_id": camera_id,
                       "read_id": f"{camera_id}-{plate}-{minutes_ago}"} for plate in plates]}


def public(client) -> dict:
    client.cookies.clear()  # whoever asks, no session is sent
    response = client.get(PUBLIC_JSON)
    assert response.status_code == 200, response.text
    return response.json()


def confirm(client, alert_id):
    verified = client.post(f"/api/v1/alpr/alerts/{alert_id}/verify",
                           json={"crop_matches_plate": True, "vehicle_matches": True, "entry_still_active": True})
    assert verified.status_code == 200, verified.text
    assert client.post(f"/api/v1/alpr/alerts/{alert_id}/disposition", json={"disposition": "confirmed"}).status_code == 200


def test_the_figures_need_no_sign_in_and_follow_the_database(client, runtime, signed_in_as):
    empty = public(client)
    assert empty["schema_version"] == "1" and empty["window"]["days"] == 30
    assert (empty["cameras"]["total"], empty["plates"]["reads"], empty["plates"]["hotlist_hits"]["count"]) == (0, 0, 0)

    reader = make_camera(runtime, name="Elm and 3rd", kind="city_fixed", reads_plates=True)
    make_camera(runtime, kind="city_fixed")
    make_camera(runtime, kind="private_registered")  # location only: shares no video
    make_hotlist(runtime, plates=HOTLISTED)
    operator, _ = signed_in_as("operator")
    stored = operator.post("/api/v1/alpr/reads", json=reads_of(*HOTLISTED, "8CLEAN1", "8CLEAN2", camera_id=reader)).json()
    assert (stored["stored"], stored["alerts"]) == (8, 6)
    analyst, _ = signed_in_as("analyst")
    search = analyst.get("/api/v1/alpr/reads", params={"plate": "7HOT001", "purpose": PURPOSE, "case_number": CASE_NUMBER,
                                                       "purpose_category": "2400"})
    assert search.status_code == 200, search.text

    moved = public(client)
    cameras = moved["cameras"]
    assert cameras["total"] == 3
    assert {kind["kind"]: kind["cameras"] for kind in cameras["by_kind"]} == {"city_fixed": 2, "private_registered": 1}
    plates = moved["plates"]
    assert plates["reads"] == 8 and plates["hotlist_hits"] == {"count": 6, "fewer_than": None, "text": "6"}
    assert plates["confirmed_hits"]["count"] == 0
    assert moved["looks"]["plate_searches"] == 1
    assert moved["generated_at"] > empty["generated_at"]

    # A person confirms five hits: the confirmed figure leaves its bucket and reads exactly.
    alerts = analyst.get("/api/v1/alpr/alerts").json()
    for alert in alerts[:3]:
        confirm(analyst, alert["id"])
    assert public(client)["plates"]["confirmed_hits"] == {"count": None, "fewer_than": 5, "text": "fewer than 5"}
    for alert in alerts[3:5]:
        confirm(analyst, alert["id"])
    assert public(client)["plates"]["confirmed_hits"]["count"] == 5

    # Reads older than the window leave the 30-day figure (the clock moves on 31 days).
    clock.advance(timedelta(days=31))
    later = public(client)
    assert later["plates"]["reads"] == 0 and later["plates"]["hotlist_hits"]["count"] == 0
    assert later["cameras"]["total"] == 3  # cameras are counted as they stand, not by window


def test_small_counts_are_bucketed_and_zero_and_large_ones_exact():
    assert bucket(0, small=5).model_dump() == {"count": 0, "fewer_than": None, "text": "0"}
    for small_count in (1, 4):
        assert bucket(small_count, small=5).model_dump() == {"count": None, "fewer_than": 5, "text": "fewer than 5"}
    assert bucket(5, small=5).count == 5 and bucket(12_345, small=5).text == "12,345"
    assert bucket(9, small=10).text == "fewer than 10"


def test_retention_durations_read_as_a_person_says_them():
    said = {timedelta(minutes=3): "3 minutes", timedelta(days=21): "21 days", timedelta(days=540): "18 months",
            timedelta(days=365): "1 year", timedelta(days=30): "30 days", timedelta(days=60): "60 days", timedelta(days=3650): "10 years", timedelta(seconds=90): "90 seconds",
            timedelta(0): "0 (deleted when the clock starts)"}
    assert {keep_for: duration_text(keep_for) for keep_for in said} == said


def test_a_few_hits_show_only_as_fewer_than_the_threshold(client, runtime, signed_in_as):
    reader = make_camera(runtime, reads_plates=True)
    make_hotlist(runtime, plates=HOTLISTED[:2])
    operator, _ = signed_in_as("operator")
    assert operator.post("/api/v1/alpr/reads", json=reads_of(*HOTLISTED[:2], camera_id=reader)).json()["alerts"] == 2
    document = public(client)
    assert document["small_count_threshold"] == 5
    assert document["plates"]["hotlist_hits"] == {"count": None, "fewer_than": 5, "text": "fewer than 5"}
    assert document["plates"]["reads"] == 2  # volumes describe the system, not a case: exact
    page = client.get("/transparency").text
    assert "fewer than 5" in page


def test_nothing_private_appears_in_the_json_or_the_pages(client, runtime, signed_in_as):
    reader = make_camera(runtime, reads_plates=True)
    make_hotlist(runtime, plates=HOTLISTED)
    operator, operator_person = signed_in_as("operator")
    operator.post("/api/v1/alpr/reads", json=reads_of(*HOTLISTED, camera_id=reader))
    analyst, analyst_person = signed_in_as("analyst")
    searched = analyst.get("/api/v1/alpr/reads", params={"plate": "7HOT*", "mode": "wildcard", "purpose": PURPOSE,
                                                         "case_number": CASE_NUMBER, "purpose_category": "2400"})
    assert searched.status_code == 200 and len(searched.json()) == len(HOTLISTED), searched.text
    for alert in analyst.get("/api/v1/alpr/alerts").json()[:2]:
        confirm(analyst, alert["id"])
    year = clock.utcnow().year
    client.cookies.clear()
    published = {
        "json": client.get(PUBLIC_JSON).text,
        "report json": client.get(f"/api/v1/public/transparency/report/{year}").text,
        "overview": client.get("/transparency").text,
        "report": client.get(f"/transparency/report/{year}").text,
        "pdf": " ".join(page.extract_text() for page in
                        PdfReader(io.BytesIO(client.get(f"/transparency/report/{year}.pdf").content)).pages),
    }
    private = [*HOTLISTED, operator_person.username, analyst_person.username, CASE_NUMBER, PURPOSE]
    for where, text in published.items():
        assert "7HOT" not in text, where
        leaked = [value for value in private if value in text]
        assert not leaked, f"{where} shows {leaked}"
    assert '"plate_searches":1' in published["json"].replace(" ", "")  # the search is counted, its terms are not


def test_the_annual_report_is_html_and_a_real_pdf_with_what_the_admin_entered(client, runtime, signed_in_as):
    year = clock.utcnow().year
    admin, _ = signed_in_as("admin")
    entry = {"complaints_received": 7, "complaints_sustained": 2, "notes": "Two complaints about a camera near a school.",
             "cost_lines": [{"item": "Camera maintenance contract", "cents": 1_250_000},
                            {"item": "ALPR licences", "cents": 480_050}]}
    saved = admin.put(f"/api/v1/transparency/years/{year}", json=entry)
    assert saved.status_code == 200, saved.text
    assert saved.json()["total_cost_cents"] == 1_730_050

    client.cookies.clear()
    report = client.get(f"/api/v1/public/transparency/report/{year}").json()
    assert report["complaints"] == {"available": True, "reason": None, "received": 7, "sustained": 2,
                                    "notes": "Two complaints about a camera near a school."}
    assert report["costs"]["total_cents"] == 1_730_050
    assert report["effectiveness"]["confirmed_hits"]["count"] == 0
    html = client.get(f"/transparency/report/{year}")
    assert html.status_code == 200 and "Annual surveillance report" in html.text
    assert "$17,300.50" in html.text and "Camera maintenance contract" in html.text

    pdf = client.get(f"/transparency/report/{year}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    printed = PdfReader(io.BytesIO(pdf.content))
    assert len(printed.pages) >= 2, f"{len(printed.pages)} pages"
    text = " ".join(page.extract_text() for page in printed.pages)
    assert f"Annual surveillance report {year}" in text and "17,300.50" in text and "Complaints" in text

    # A year without entries says so instead of showing zeros; a year still to come has no report.
    earlier = client.get(f"/api/v1/public/transparency/report/{year - 1}").json()
    assert earlier["costs"]["available"] is False and "No costs were entered" in earlier["costs"]["reason"]
    assert client.get(f"/api/v1/public/transparency/report/{year + 1}").status_code == 404
    assert client.get(f"/transparency/report/{year + 1}").status_code == 404
    assert client.get(f"/transparency/report/{year + 1}.pdf").status_code == 404


def test_only_an_admin_enters_a_year_and_bad_entries_are_refused_with_nothing_lost(client, runtime, signed_in_as):
    year = clock.utcnow().year
    admin, admin_person = signed_in_as("admin")
    supervisor, _ = signed_in_as("supervisor")
    good = {"complaints_received": 3, "complaints_sustained": 1, "cost_lines": [{"item": "Servers", "cents": 99_00}]}
    assert supervisor.put(f"/api/v1/transparency/years/{year}", json=good).status_code == 403
    assert admin.put(f"/api/v1/transparency/years/{year}", json=good).status_code == 200

    refused = [
        ({**good, "complaints_sustained": 4}, "cannot exceed"),
        ({**good, "complaints_received": -1}, "greater than or equal"),
        ({**good, "cost_lines": [{"item": "Servers", "cents": -5}]}, "greater than or equal"),
    ]
    for body, words in refused:
        answer = admin.put(f"/api/v1/transparency/years/{year}", json=body)
        assert answer.status_code == 422 and words in answer.text, answer.text
    assert admin.put(f"/api/v1/transparency/years/{year + 1}", json=good).status_code == 404
    # What was saved stands.
    listed = admin.get("/api/v1/transparency/years").json()
    assert [(row["year"], row["complaints_received"], row["total_cost_cents"]) for row in listed] == [(year, 3, 9_900)]
    with runtime.database.session() as db:
        records = audit.search(db, query=audit.AuditQuery(username=admin_person.username, action="transparency.year_save"))
    assert len(records) == 1 and records[0].object_id == str(year)


def test_the_console_form_saves_a_year_and_keeps_what_was_typed_when_it_is_wrong(runtime, signed_in_as):
    year = clock.utcnow().year
    admin, person = signed_in_as("admin")
    page = admin.get("/console/transparency")
    assert page.status_code == 200 and "published as entered" in page.text
    form = {"csrf_token": person.csrf_token, "year": str(year), "complaints_received": "4", "complaints_sustained": "1",
            "cost_lines": "Camera maintenance; 12,500.00\nCloud storage; $99.5", "notes": ""}
    saved = admin.post("/console/transparency", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert admin.get("/api/v1/transparency/years").json()[0]["total_cost_cents"] == 1_259_950
    to_change = admin.get("/console/transparency", params={"year": year}).text  # the form holds what was saved
    assert "Camera maintenance; 12,500.00\nCloud storage; 99.50" in to_change and 'value="4"' in to_change
    wrong = admin.post("/console/transparency", data={**form, "cost_lines": "Camera maintenance; twelve"})
    assert wrong.status_code == 422 and "not an amount in dollars" in wrong.text
    assert "Camera maintenance; twelve" in wrong.text  # the form comes back as typed
    assert admin.get("/api/v1/transparency/years").json()[0]["total_cost_cents"] == 1_259_950


def test_the_figures_are_kept_for_the_cache_time_then_counted_again(client, runtime, signed_in_as):
    runtime.settings.transparency_cache_seconds = 60
    first = public(client)
    make_camera(runtime)
    held = client.get(PUBLIC_JSON)
    assert held.json()["cameras"]["total"] == first["cameras"]["total"] == 0
    assert held.headers["cache-control"] == "public, max-age=60"
    clock.advance(timedelta(seconds=61))
    assert public(client)["cameras"]["total"] == 1


def test_arrests_are_counted_from_cad_dispositions(client, runtime, signed_in_as):
    cad, _ = signed_in_as("operator")
    for number in range(6):
        disposition = "Arrest" if number < 5 else "Report taken"
        call = {"call_id": f"C-77{number}", "type": "Burglary", "priority": 2, "latitude": 34.09, "longitude": -118.36,
                "received_at": clock.iso(clock.utcnow()), "status": "closed", "disposition": disposition}
        assert cad.post("/api/v1/cad/calls", json=call).status_code in (201, 202)
    report = client.get(f"/api/v1/public/transparency/report/{clock.utcnow().year}").json()
    assert report["effectiveness"]["arrests"]["count"] == 5
    assert report["data_volumes"]["calls_received"] == 6 and public(client)["calls"]["calls_received"] == 6


def test_the_sign_in_page_links_the_portal_and_the_portal_links_back(client):
    assert 'href="/transparency"' in client.get("/sign-in").text
    overview = client.get("/transparency")
    assert overview.status_code == 200 and 'href="/sign-in"' in overview.text
    assert 'http-equiv="refresh"' in overview.text  # a lobby screen shows the figures as they move



def test_governance_sections_follow_their_records_without_naming_anyone(client, runtime, signed_in_as):
    """Purposes, sharing decisions, holds and receipts come straight from the policy engine and retention."""
    from factories import make_agency, make_user

    from rtcc.governance.retention import engine

    before = public(client)
    assert before["sharing"]["by_recipient"] == [] and before["holds"]["open"]["count"] == 0

    analyst, _ = signed_in_as("analyst")
    camera_id = make_camera(runtime, main_stream_url="rtsp://10.20.0.5/stream1")
    live_share = {"kind": "live", "camera_id": camera_id, "purpose": PURPOSE, "case_number": CASE_NUMBER,
                  "purpose_category": "2400", "minutes": 15}
    local_officer = make_user(runtime, role="field_officer")
    for _ in range(5):
        sent = analyst.post("/api/v1/shares", json={**live_share, "recipient": local_officer.username})
        assert sent.status_code == 201, sent.text
    search = {"plate": "7ABC900", "purpose": PURPOSE, "case_number": CASE_NUMBER}
    # A search without a category is refused, so it is not counted at all (once it was "No category given").
    assert analyst.get("/api/v1/alpr/reads", params=search).json()["code"] == "purpose_category_required"
    assert analyst.get("/api/v1/alpr/reads", params={**search, "purpose_category": "1200"}).status_code == 200

    make_agency(runtime, ori="DC0000001", name="Federal Bureau")
    federal_officer = make_user(runtime, role="field_officer", agency="DC0000001")
    refused = analyst.post("/api/v1/shares", json={**live_share, "recipient": federal_officer.username})
    assert refused.status_code == 403 and refused.json()["code"] == "policy_refused", refused.text

    supervisor, _ = signed_in_as("supervisor")
    hold = supervisor.post("/api/v1/retention/holds", json={"kind": "case", "case_number": CASE_NUMBER,
                                                            "reason": "Preservation letter from the defence"})
    assert hold.status_code == 201, hold.text
    operator, _ = signed_in_as("operator")
    assert operator.post("/api/v1/alpr/reads", json=reads_of("8OLD001", "8OLD002", camera_id=camera_id)).json()["stored"] == 2

    after = public(client)
    by_purpose = {row["category"]: (row["label"], row["count"]["text"]) for row in after["searches_by_purpose"]["by_purpose"]}
    assert by_purpose == {"2400": ("Stolen vehicle", "5"), "1200": ("Robbery", "fewer than 5")}
    assert after["looks"]["field_shares"] == 5
    decided = {(row["agency"], row["action"]): (row["allowed"]["text"], row["refused"]["text"])
               for row in after["sharing"]["by_recipient"]}
    assert decided == {("Test Sheriff", "share"): ("5", "0"), ("Federal Bureau", "share"): ("0", "fewer than 5")}
    assert after["holds"]["open"]["text"] == "fewer than 5"
    assert after["holds"]["overdue_for_review"]["count"] == 0
    kept = {row["data_class"]: row for row in after["retention"]["classes"]}
    assert kept["plate_reads"]["keep"] == "30 days" and kept["plate_reads"]["last_purge_at"] is None
    assert after["policies"]["available"] and after["audit_review"]["available"]
    text = client.get(PUBLIC_JSON).text + client.get("/transparency").text
    assert not [value for value in (CASE_NUMBER, PURPOSE, federal_officer.username, local_officer.username, "defence")
                if value in text]

    # 91 days on: the hold is past its default review date, and the purge of the month-old reads left its receipt.
    clock.advance(timedelta(days=91))
    engine.run(runtime, classes=["plate_reads"])
    later = public(client)
    assert later["holds"]["overdue_for_review"]["text"] == "fewer than 5"
    last_purge = {row["data_class"]: row["last_purge_at"] for row in later["retention"]["classes"]}["plate_reads"]
    assert last_purge is not None and last_purge[:10] == clock.iso(clock.utcnow())[:10]
