"""The policy engine over the API: agencies' kinds, agreements, policies and purposes decide every share that
leaves the agency; a refusal names its rule, and the refusal is in the audit trail and the decision list."""

import hashlib
import json
import random
import re
from datetime import timedelta

import pytest
from factories import make_agency
from fastapi.testclient import TestClient
from support import TEST_AGENCY, create_person, current_code

from rtcc.audit import service as audit
from rtcc.cameras import service as cameras
from rtcc.core import clock
from rtcc.core.actor import SYSTEM

STATE_AGENCY = "CA0340000"  # a California state agency (highway patrol)
FEDERAL_AGENCY = "DC0000001"  # a federal agency
NEVADA_AGENCY = "NV0020000"  # a local agency of another state
SIGNED_PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def city(runtime, signed_in_as):
    """This centre (a CA city), a state, a federal and a Nevada agency with their kinds, an officer in each, a live
    camera, an admin and an analyst who shares."""
    for ori, name in ((STATE_AGENCY, "State Highway Patrol"), (FEDERAL_AGENCY, "Federal Bureau"),
                      (NEVADA_AGENCY, "Reno Police")):
        make_agency(runtime, ori=ori, name=name)
    admin, _ = signed_in_as("admin")
    for ori, kind, state in ((TEST_AGENCY, "local", "CA"), (STATE_AGENCY, "state", "CA"),
                             (FEDERAL_AGENCY, "federal", "DC"), (NEVADA_AGENCY, "out_of_state", "NV")):
        response = admin.put(f"/api/v1/policy/agencies/{ori}", json={"kind": kind, "state": state})
        assert response.status_code == 200, response.text
    officers = {ori: create_person(runtime, f"ofc-{ori.lower()}", "field_officer", agency=ori)
                for ori in (TEST_AGENCY, STATE_AGENCY, FEDERAL_AGENCY, NEVADA_AGENCY)}
    with runtime.database.session() as db:
        camera_id = cameras.create_camera(db, runtime=runtime, actor=SYSTEM, agency_ori=TEST_AGENCY, values={
            "name": "Main & 1st", "kind": "city_fixed", "latitude": 34.1, "longitude": -118.3,
            "main_stream_url": "rtsp://10.20.0.5/stream1"}).id
    analyst, _ = signed_in_as("analyst")
    return {"admin": admin, "analyst": analyst, "officers": officers, "camera_id": camera_id}


def share(city, ori, category=None):
    body = {"kind": "live", "camera_id": city["camera_id"], "recipient": city["officers"][ori].username,
            "purpose": "Robbery suspect heading north on Main", "case_number": "2026-000123", "minutes": 30}
    if category is not None:
        body["purpose_category"] = category
    return city["analyst"].post("/api/v1/shares", json=body)


def refused_by(response) -> str:
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "policy_refused", response.text
    return response.json()["rule"]


def agreement(city, ori, **changes):
    now = clock.utcnow()
    body = {"agency_ori": ori, "title": f"Mutual aid with {ori}", "data_classes": ["video"], "purposes": ["1200"],
            "starts_at": clock.iso(now - timedelta(days=1)), "expires_at": clock.iso(now + timedelta(days=365)),
            "contact_name": "Lt. Dana Ortiz", "contact_email": "dortiz@example.gov", **changes}
    response = city["admin"].post("/api/v1/policy/agreements", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def load(city, **body):
    return city["admin"].post("/api/v1/policy/policies", json=body)


def denied_decisions(runtime):
    with runtime.database.session() as db:
        return [json.loads(record.details) for record in
                audit.search(db, query=audit.AuditQuery(action="policy.decide", outcome="denied"))]


def test_shares_leave_the_agency_only_under_an_agreement_and_the_policies(runtime, city, signed_in_as):
    for preset in ("ca-sb34", "no-federal-immigration"):
        assert load(city, preset=preset).status_code == 201
    # Without a purpose category, inside the agency or out, nothing is shared or decided: bad input naming the list.
    for ori in (TEST_AGENCY, STATE_AGENCY):
        response = share(city, ori)
        assert response.status_code == 422 and response.json()["code"] == "purpose_category_required", response.text
        assert "GET /api/v1/policy/purposes" in response.json()["message"]
    assert city["admin"].get("/api/v1/policy/decisions").json() == []
    # Inside the agency: allowed by "same agency".
    assert share(city, TEST_AGENCY, "1200").status_code == 201
    # No agreement with the federal agency: default deny, and nothing was shared.
    response = share(city, FEDERAL_AGENCY, "1200")
    assert refused_by(response) == "default deny"
    assert "rule 'default deny'" in response.json()["message"] and FEDERAL_AGENCY in response.json()["message"]
    made = agreement(city, STATE_AGENCY)
    # The agreement allows robbery (1200), by its name; larceny (2300) it does not cover.
    allowed = share(city, STATE_AGENCY, "1200")
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["purpose_category"] == "1200"
    response = share(city, STATE_AGENCY, "2300")
    assert refused_by(response) == f"agreement {made['id']}"
    assert "not 2300" in response.json()["message"]
    # A prohibited purpose is refused by the ordinance's rule, even inside the agency.
    assert refused_by(share(city, TEST_AGENCY, "0300")) == "city-no-immigration-purposes"
    assert refused_by(share(city, STATE_AGENCY, "0300")) == "city-no-immigration-purposes"
    # An unknown category is bad input, not a decision.
    response = share(city, STATE_AGENCY, "NOPE")
    assert response.status_code == 422 and response.json()["code"] == "unknown_purpose_category"

    # An agreement that expired no longer allows anything.
    now = clock.utcnow()
    response = city["admin"].patch(f"/api/v1/policy/agreements/{made['id']}", json={
        "starts_at": clock.iso(now - timedelta(days=30)), "expires_at": clock.iso(now - timedelta(days=1))})
    assert response.status_code == 200, response.text
    response = share(city, STATE_AGENCY, "1200")
    assert refused_by(response) == f"agreement {made['id']}" and "expired" in response.json()["message"]

    # Every refusal is in the audit trail with its rule; the decision list names allowed and refused alike.
    rules = [details["rule"] for details in denied_decisions(runtime)]
    assert sorted(set(rules)) == sorted({"default deny", f"agreement {made['id']}", "city-no-immigration-purposes"})
    assert rules.count(f"agreement {made['id']}") == 2
    decisions = city["admin"].get("/api/v1/policy/decisions").json()
    assert [(d["recipient_agency_ori"], d["allowed"], d["rule"]) for d in reversed(decisions)] == [
        (TEST_AGENCY, True, "same agency"),
        (FEDERAL_AGENCY, False, "default deny"),
        (STATE_AGENCY, True, f"agreement {made['id']}"),
        (STATE_AGENCY, False, f"agreement {made['id']}"),
        (TEST_AGENCY, False, "city-no-immigration-purposes"),
        (STATE_AGENCY, False, "city-no-immigration-purposes"),
        (STATE_AGENCY, False, f"agreement {made['id']}"),
    ]
    refused_only = city["admin"].get("/api/v1/policy/decisions", params={"allowed": "false",
                                                                        "recipient": FEDERAL_AGENCY}).json()
    assert [d["rule"] for d in refused_only] == ["default deny"]
    # Decisions are scoped as the audit trail: an auditor sees them all, a supervisor of another agency none.
    auditor, _ = signed_in_as("auditor", agency=STATE_AGENCY)
    assert len(auditor.get("/api/v1/policy/decisions").json()) == len(decisions)
    other_supervisor, _ = signed_in_as("supervisor", agency=STATE_AGENCY)
    assert other_supervisor.get("/api/v1/policy/decisions").json() == []
    # Shares made: the one inside the agency and the one under the agreement.
    assert len(city["analyst"].get("/api/v1/shares").json()) == 2


def test_plate_data_rules_and_out_of_state_declarations(runtime, city):
    # SB 34 keeps plate data in California public agencies: the Nevada agency cannot have it, agreement or not.
    from rtcc.policy import engine

    assert load(city, preset="ca-sb34").status_code == 201
    nevada = agreement(city, NEVADA_AGENCY, data_classes=["video", "plate_reads"])
    with runtime.database.session() as db:
        decision = engine.evaluate(db, actor_agency_ori=TEST_AGENCY, recipient_agency_ori=NEVADA_AGENCY,
                                   data_class="plate_reads", purpose="1200")
        assert (decision.allowed, decision.rule) == (False, "ca-sb34-public-agencies-only")
    # A city's own policy file: video to agencies outside California needs a signed declaration on file.
    policy_file = "\n".join([
        'name = "video-declarations"', 'title = "Video leaves California only with a declaration"',
        'jurisdiction = "city"', 'source = "City Council resolution 2026-14"',
        "[[rules]]", 'name = "video-out-of-state-declaration"', 'kind = "declaration_required"',
        'data_classes = ["video"]', 'outside_states = ["CA"]', 'reason = "a recipient outside California must sign"'])
    assert load(city, toml=policy_file).status_code == 201
    response = share(city, NEVADA_AGENCY, "1200")
    assert refused_by(response) == "video-out-of-state-declaration"
    assert "declaration" in response.json()["message"]
    assert denied_decisions(runtime)[0]["rule"] == "video-out-of-state-declaration"
    # The declaration arrives: the agreement says so and the same share goes.
    response = city["admin"].patch(f"/api/v1/policy/agreements/{nevada['id']}", json={"declaration_signed": True})
    assert response.status_code == 200 and response.json()["declaration_signed"] is True
    assert share(city, NEVADA_AGENCY, "1200").status_code == 201
    # Ended early: refused again, by the agreement's name.
    assert city["admin"].delete(f"/api/v1/policy/agreements/{nevada['id']}").status_code == 200
    response = share(city, NEVADA_AGENCY, "1200")
    assert refused_by(response) == f"agreement {nevada['id']}" and "ended" in response.json()["message"]


def test_agreement_documents_and_bad_input_lose_nothing(runtime, city):
    admin = city["admin"]
    made = agreement(city, STATE_AGENCY)
    # The signed document, hashed as it arrived, and given back as stored.
    response = admin.put(f"/api/v1/policy/agreements/{made['id']}/document", content=SIGNED_PDF,
                         headers={"content-type": "application/pdf"})
    assert response.status_code == 200, response.text
    assert response.json()["document_sha256"] == hashlib.sha256(SIGNED_PDF).hexdigest()
    assert response.json()["document_bytes"] == len(SIGNED_PDF)
    assert admin.get(f"/api/v1/policy/agreements/{made['id']}/document").content == SIGNED_PDF
    # A PNG sent as a PDF is refused, and the stored document stays.
    response = admin.put(f"/api/v1/policy/agreements/{made['id']}/document", content=PNG,
                         headers={"content-type": "application/pdf"})
    assert response.status_code == 422 and response.json()["code"] == "document_mismatch"
    response = admin.put(f"/api/v1/policy/agreements/{made['id']}/document", content=PNG,
                         headers={"content-type": "image/png"})
    assert response.status_code == 415
    assert admin.get(f"/api/v1/policy/agreements/{made['id']}").json()["document_sha256"] == \
        hashlib.sha256(SIGNED_PDF).hexdigest()
    # Reversed dates: refused on create and on change; the agreement keeps its dates.
    now = clock.utcnow()
    reversed_dates = {"starts_at": clock.iso(now + timedelta(days=10)), "expires_at": clock.iso(now)}
    response = admin.post("/api/v1/policy/agreements", json={**{k: v for k, v in made.items() if k in (
        "agency_ori", "title", "data_classes", "purposes", "contact_name", "contact_email")}, **reversed_dates})
    assert response.status_code == 422 and response.json()["code"] == "invalid_agreement_dates"
    assert "reversed" in response.json()["message"]
    response = admin.patch(f"/api/v1/policy/agreements/{made['id']}", json=reversed_dates)
    assert response.status_code == 422 and response.json()["code"] == "invalid_agreement_dates"
    listed = admin.get("/api/v1/policy/agreements").json()
    assert [(a["id"], a["starts_at"], a["expires_at"]) for a in listed] == [
        (made["id"], made["starts_at"], made["expires_at"])]
    # Unknown purposes and data classes.
    response = admin.patch(f"/api/v1/policy/agreements/{made['id']}", json={"purposes": ["9999"]})
    assert response.status_code == 422 and response.json()["code"] == "unknown_purpose_category"
    response = admin.patch(f"/api/v1/policy/agreements/{made['id']}", json={"data_classes": ["dna"]})
    assert response.status_code == 422 and response.json()["code"] == "invalid_data_class"
    assert admin.get(f"/api/v1/policy/agreements/{made['id']}").json()["purposes"] == ["1200"]

    # Policies: overlapping, contradictory and malformed files are refused whole; what was in force stays.
    assert load(city, preset="ca-sb34").status_code == 201
    response = load(city, preset="ca-sb34")
    assert response.status_code == 409 and response.json()["code"] == "policy_exists"
    response = load(city, preset="illinois")
    assert response.status_code == 422 and response.json()["code"] == "conflicting_policies"
    assert "one state" in response.json()["message"]
    response = load(city, toml='name = "broken"\ntitle = "Half a file\n')
    assert response.status_code == 422 and response.json()["code"] == "invalid_policy_file"
    response = load(city, toml='name = "no-rules"\ntitle = "A policy"\njurisdiction = "city"\nsource = "nowhere at all"\nrules = []\n')
    assert response.status_code == 422 and "rules" in response.json()["message"]
    response = load(city, preset="no-such-preset")
    assert response.status_code == 404
    assert [p["name"] for p in admin.get("/api/v1/policy/policies").json()] == ["ca-sb34"]


def scanned_pdf(size: int) -> bytes:
    """A PDF of `size` bytes, as a scanned, signed agreement is: a page image, most of it incompressible."""
    head, tail = SIGNED_PDF[:-6], b"%%EOF\n"
    return head + random.Random(size).randbytes(size - len(head) - len(tail)) + tail


def test_a_signed_agreement_of_several_megabytes_is_kept_and_one_over_its_limit_refused_at_the_door(runtime, city):
    admin = city["admin"]
    made = agreement(city, STATE_AGENCY)
    url = f"/api/v1/policy/agreements/{made['id']}/document"
    pdf = {"content-type": "application/pdf"}
    scanned = scanned_pdf(3 * 1024 * 1024)
    assert len(scanned) > runtime.settings.max_request_bytes  # past the general request limit
    response = admin.put(url, content=scanned, headers=pdf)
    assert response.status_code == 200, response.text
    assert response.json()["document_sha256"] == hashlib.sha256(scanned).hexdigest()
    assert response.json()["document_bytes"] == len(scanned)
    assert admin.get(url).content == scanned
    stored = sorted(path.name for path in (runtime.settings.data_dir / "policy" / "agreements").iterdir())

    # One byte over the route's own limit (10 MiB by default), declared or streamed without a length: refused
    # before the route reads it, saying what the limit is and what raises it; the agreement keeps its document.
    limit = runtime.settings.policy_document_max_bytes
    assert limit == 10 * 1024 * 1024
    too_big = scanned_pdf(limit + 1)
    for body in (too_big, (too_big[at:at + 65536] for at in range(0, len(too_big), 65536))):
        response = admin.put(url, content=body, headers=pdf)
        assert response.status_code == 413 and response.json()["code"] == "payload_too_large", response.text
        assert f"at most {limit} bytes" in response.json()["message"]
        assert "RTCC_POLICY_DOCUMENT_MAX_BYTES" in response.json()["message"]
    assert admin.get(f"/api/v1/policy/agreements/{made['id']}").json()["document_sha256"] == \
        hashlib.sha256(scanned).hexdigest()
    assert admin.get(url).content == scanned
    assert sorted(path.name for path in (runtime.settings.data_dir / "policy" / "agreements").iterdir()) == stored
    # The other routes keep the general limit: a JSON body of the same 3 MiB is refused.
    response = admin.patch(f"/api/v1/policy/agreements/{made['id']}", headers={"content-type": "application/json"},
                           content=b'{"title": "' + b"x" * len(scanned) + b'"}')
    assert response.status_code == 413 and f"{runtime.settings.max_request_bytes} bytes" in response.json()["message"]


def test_purposes_are_a_managed_list(city, signed_in_as):
    officer, _ = signed_in_as("field_officer")
    listed = officer.get("/api/v1/policy/purposes").json()
    codes = [p["code"] for p in listed]
    assert {"0300", "0900", "1200", "2400", "MP"} <= set(codes) and len(codes) == len(set(codes))
    assert all(p["kind"] == "standard" for p in listed)
    response = city["admin"].post("/api/v1/policy/purposes", json={"code": "gang-unit", "title": "Gang unit casework"})
    assert response.status_code == 201 and response.json() == {"code": "GANG-UNIT", "title": "Gang unit casework",
                                                               "kind": "agency"}
    assert city["admin"].post("/api/v1/policy/purposes", json={"code": "1200", "title": "Robbery again"}).status_code == 409
    assert officer.post("/api/v1/policy/purposes", json={"code": "MINE", "title": "Mine"}).status_code == 403
    assert officer.get("/api/v1/policy/purposes").json()[-1]["code"] == "GANG-UNIT"
    # The agency's own category can be shared under.
    assert share(city, TEST_AGENCY, "GANG-UNIT").status_code == 201


def test_in_the_demo_a_share_outside_the_agreement_is_refused(runtime, signed_in_as):
    from rtcc.sim.demo import prepare_demo
    from rtcc.sim.demo_policy import AGREEMENT_WITH, PRESETS

    prepare_demo(runtime)
    prepare_demo(runtime)  # a second start adds nothing
    analyst, _ = signed_in_as("analyst", agency=runtime.settings.demo_agency_ori)
    with runtime.database.session() as db:
        camera_id = cameras.create_camera(db, runtime=runtime, actor=SYSTEM, agency_ori=runtime.settings.demo_agency_ori,
                                          values={"name": "Demo corner", "kind": "city_fixed", "latitude": 34.1,
                                                  "longitude": -118.3, "main_stream_url": "rtsp://10.20.0.9/stream1"}).id
    body = {"kind": "live", "camera_id": camera_id, "purpose": "Armed robbery suspect fleeing east",
            "case_number": "2026-000777", "purpose_category": "1200", "minutes": 15}
    refused = analyst.post("/api/v1/shares", json={**body, "recipient": "federal.agent"})
    assert refused_by(refused) == "default deny"
    refused = analyst.post("/api/v1/shares", json={**body, "recipient": "reno.officer"})
    assert refused_by(refused) == "default deny"
    allowed = analyst.post("/api/v1/shares", json={**body, "recipient": "chp.officer"})
    assert allowed.status_code == 201, allowed.text
    refused = analyst.post("/api/v1/shares", json={**body, "recipient": "chp.officer", "purpose_category": "0300"})
    assert refused_by(refused) == "city-no-immigration-purposes"
    admin, _ = signed_in_as("admin")
    assert [p["name"] for p in admin.get("/api/v1/policy/policies").json()] == list(PRESETS)
    [agreement] = admin.get("/api/v1/policy/agreements").json()
    assert agreement["agency_ori"] == AGREEMENT_WITH
    assert [d["rule"] for d in admin.get("/api/v1/policy/decisions").json()] == [
        "city-no-immigration-purposes", f"agreement {agreement['id']}", "default deny", "default deny"]


def test_searches_and_exports_take_a_category_and_prohibited_purposes_are_refused(runtime, city):
    assert load(city, preset="no-federal-immigration").status_code == 201
    analyst = city["analyst"]
    search = {"plate": "7ABC123", "purpose": "Stolen vehicle reported this morning", "case_number": "2026-000555"}
    response = analyst.get("/api/v1/alpr/reads", params={**search, "purpose_category": "0300"})
    assert refused_by(response) == "city-no-immigration-purposes"
    response = analyst.get("/api/v1/alpr/reads", params={**search, "purpose_category": "BOGUS"})
    assert response.status_code == 422 and response.json()["code"] == "unknown_purpose_category"
    assert analyst.get("/api/v1/alpr/reads", params={**search, "purpose_category": "2400"}).status_code == 200
    # Without a category (the way round the ordinance a blank once was) nothing is searched or recorded.
    response = analyst.get("/api/v1/alpr/reads", params=search)
    assert response.status_code == 422 and response.json()["code"] == "purpose_category_required"
    assert "GET /api/v1/policy/purposes" in response.json()["message"]
    with runtime.database.session() as db:
        searches = audit.search(db, query=audit.AuditQuery(action="alpr.search"))
    assert [json.loads(record.details)["purpose_category"] for record in searches] == ["2400"]
    # The console's search form is held to the same rules, and its refusal is on record as the API's is.
    page = analyst.get("/console/plates", params={**search, "purpose_category": "0300"})
    assert page.status_code == 200 and 'data-testid="reads"' not in page.text
    assert "refused by rule" in page.text and "city-no-immigration-purposes" in page.text

    now = clock.utcnow()
    export = {"start": clock.iso(now - timedelta(minutes=10)), "end": clock.iso(now - timedelta(minutes=9)),
              "case_number": "2026-000555", "purpose": "Evidence for the stolen vehicle case"}
    url = f"/api/v1/cameras/{city['camera_id']}/exports"
    assert refused_by(analyst.post(url, json={**export, "purpose_category": "0300"})) == "city-no-immigration-purposes"
    response = analyst.post(url, json=export)
    assert response.status_code == 422 and response.json()["code"] == "purpose_category_required"
    assert "GET /api/v1/policy/purposes" in response.json()["message"]
    assert analyst.get("/api/v1/exports").json() == []
    response = analyst.post(url, json={**export, "purpose_category": "2400", "recipient_agency": FEDERAL_AGENCY})
    assert refused_by(response) == "default deny" and "Exporting to DC0000001" in response.json()["message"]
    agreement(city, STATE_AGENCY, data_classes=["evidence_exports"], purposes=["2400"])
    # Allowed by the agreement, the export goes on, and stops only where nothing was recorded.
    response = analyst.post(url, json={**export, "purpose_category": "2400", "recipient_agency": STATE_AGENCY})
    assert response.status_code == 404 and response.json()["code"] != "policy_refused", response.text
    assert [(d["action"], d["data_class"], d["rule"]) for d in denied_decisions(runtime)] == [
        ("export", "evidence_exports", "default deny"), ("export", "evidence_exports", "city-no-immigration-purposes"),
        ("search", "plate_reads", "city-no-immigration-purposes"), ("search", "plate_reads", "city-no-immigration-purposes")]


def test_an_officer_of_a_partner_agency_opens_a_link_sent_under_the_agreement(runtime, city):
    agreement(city, STATE_AGENCY)
    sent = share(city, STATE_AGENCY, "1200")
    assert sent.status_code == 201, sent.text
    path = sent.json()["link"].removeprefix("http://testserver")
    officer = city["officers"][STATE_AGENCY]
    browser = TestClient(city["analyst"].app, base_url="http://testserver")
    form = browser.get(path)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    page = browser.post(f"{path}/verify", data={"username": officer.username, "code": current_code(officer),
                                                "csrf_token": csrf})
    assert page.status_code == 200 and 'data-testid="field-live"' in page.text, page.text
    with runtime.database.session() as db:
        [opened] = audit.search(db, query=audit.AuditQuery(action="share.open"))
    assert opened.username == officer.username


def test_the_console_command_loads_presets_and_lists_decisions(runtime, city):
    from typer.testing import CliRunner

    from rtcc.cli import app

    environment = {"RTCC_DATABASE_URL": runtime.settings.database_url.get_secret_value(), "COLUMNS": "200"}

    def rtcc(*arguments):
        return CliRunner().invoke(app, ["policy", *arguments, "--data-dir", str(runtime.settings.data_dir)],
                                  env=environment)

    presets = CliRunner().invoke(app, ["policy", "presets"])
    assert presets.exit_code == 0 and "1798.90.55" in presets.output and "625 ILCS 5/2-130" in presets.output
    loaded = rtcc("load", "ca-sb34")
    assert loaded.exit_code == 0 and "ca-sb34-public-agencies-only" in loaded.output, loaded.output
    contradicting = rtcc("load", "illinois")
    assert contradicting.exit_code == 1 and "one state" in contradicting.output
    assert "ca-sb34" in rtcc("list").output and "illinois" not in rtcc("list").output
    assert rtcc("agency", FEDERAL_AGENCY, "--kind", "federal", "--state", "VA").exit_code == 0
    assert rtcc("agency", FEDERAL_AGENCY, "--kind", "galactic", "--state", "VA").exit_code == 1
    refused_by(share(city, FEDERAL_AGENCY, "1200"))
    listed = rtcc("decisions", "--refused")
    assert listed.exit_code == 0 and "default deny" in listed.output and FEDERAL_AGENCY in listed.output
