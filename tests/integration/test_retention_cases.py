"""The "case closed" retention clock: exports and field-share copies under an open case are kept whatever their
age; a supervisor's close starts the clock, a reopen stops it, a hold still wins; every close and reopen is
audited with its reason."""

import json
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from support import TEST_AGENCY
from rtcc.audit import service as audit
from rtcc.auth.models import Agency, User
from rtcc.core import clock
from rtcc.governance.retention import engine
from rtcc.sharing.models import FieldShare
from rtcc.sharing.service import shares_root
from rtcc.video.evidence.export import exports_root
from rtcc.video.models import EvidenceExport

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
KEEP_FOR = 5 * DAY


def add_export(runtime, case_number: str, camera_id: int = 31) -> None:
    """A bag of 300 bytes, made now (each case on its own camera: a case hold keeps its exports' camera windows)."""
    bag = exports_root(runtime) / f"bag-{case_number}"
    bag.mkdir(parents=True, exist_ok=True)
    (bag / "clip.mp4").write_bytes(b"\0" * 300)
    now = clock.utcnow()
    with runtime.database.session() as db:
        db.add(EvidenceExport(camera_id=camera_id, starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1),
                              case_number=case_number, purpose="robbery", requested_by="ana", created_at=now,
                              path=bag.name, fingerprint="0" * 64, source_segments=[]))


def exported_cases(runtime) -> set[str]:
    with runtime.database.session() as db:
        return {e.case_number for e in db.query(EvidenceExport)}


def act(client, case_number: str, action: str, reason: str = "trial over, verdict final"):
    return client.post("/api/v1/retention/cases", json={"case_number": case_number, "action": action, "reason": reason})


def case_clock_policy(signed_in_as, data_class: str, keep_for: str) -> None:
    admin, _ = signed_in_as("admin")
    response = admin.put(f"/api/v1/retention/policies/{data_class}", json={"keep_for": keep_for, "clock": "case_closed"})
    assert response.status_code == 200 and response.json()["clock"] == "case_closed", response.text


def test_an_export_is_kept_while_its_case_is_open_and_goes_keep_for_after_the_close(runtime, signed_in_as):
    case_clock_policy(signed_in_as, "exported_evidence", "5d")
    for camera_id, case_number in enumerate(("CASE-A", "CASE-HELD", "CASE-REOPENED"), 31):
        add_export(runtime, case_number, camera_id)
    clock.advance(KEEP_FOR + DAY)  # past keep-for from the export: under the case clock that counts for nothing
    would = engine.run_class(runtime, "exported_evidence", dry_run=True)
    assert (would.count, would.kept) == (0, {"case open": 3})
    assert engine.run_class(runtime, "exported_evidence").count == 0
    assert exported_cases(runtime) == {"CASE-A", "CASE-HELD", "CASE-REOPENED"}

    supervisor, person = signed_in_as("supervisor")
    held = supervisor.post("/api/v1/retention/holds", json={"kind": "case", "case_number": "CASE-HELD",
                                                           "reason": "civil suit pending"})
    assert held.status_code == 201, held.text
    closed_at = clock.utcnow()
    for case_number in ("CASE-A", "CASE-HELD", "CASE-REOPENED"):
        closed = act(supervisor, case_number, "close")
        assert closed.status_code == 200, closed.text
        assert closed.json()["state"] == "closed" and closed.json()["closed_by"] == person.username
    clock.advance(2 * DAY)
    supervisor, _ = signed_in_as("supervisor")
    reopened = act(supervisor, "CASE-REOPENED", "reopen", "new witness came forward")
    assert reopened.status_code == 200 and reopened.json()["state"] == "open"
    assert reopened.json()["closed_at"] is None

    clock.advance(closed_at + KEEP_FOR - MINUTE - clock.utcnow())
    assert engine.run_class(runtime, "exported_evidence").count == 0  # a minute before keep-for after the close
    assert exported_cases(runtime) == {"CASE-A", "CASE-HELD", "CASE-REOPENED"}
    clock.advance(2 * MINUTE)
    would = engine.run_class(runtime, "exported_evidence", dry_run=True)
    assert (would.count, would.skipped_held, would.kept) == (1, 1, {"case open": 1})
    done = engine.run_class(runtime, "exported_evidence")
    assert (done.count, done.bytes, done.skipped_held) == (1, 300, 1)
    # The closed case's export went; the hold kept its closed case's; the reopened case's clock stopped.
    assert exported_cases(runtime) == {"CASE-HELD", "CASE-REOPENED"}
    assert not (exports_root(runtime) / "bag-CASE-A").exists()
    assert [entry["holds"] for entry in done.skipped] == [[held.json()["id"]]]

    supervisor, _ = signed_in_as("supervisor")
    listed = {c["case_number"]: c for c in supervisor.get("/api/v1/retention/cases").json()}
    assert {n: c["state"] for n, c in listed.items()} == {"CASE-A": "closed", "CASE-HELD": "closed",
                                                         "CASE-REOPENED": "open"}
    assert listed["CASE-HELD"]["close_reason"] == "trial over, verdict final"
    with runtime.database.session() as db:
        closes = audit.search(db, query=audit.AuditQuery(action="retention.case_close"))
        reopens = audit.search(db, query=audit.AuditQuery(action="retention.case_reopen"))
    assert sorted(r.case_number for r in closes) == ["CASE-A", "CASE-HELD", "CASE-REOPENED"]
    assert all(json.loads(r.details)["reason"] == "trial over, verdict final" for r in closes)
    assert [(r.case_number, json.loads(r.details)["reason"]) for r in reopens] == [("CASE-REOPENED",
                                                                                   "new witness came forward")]


def test_closing_and_reopening_refusals_are_clear_and_change_nothing(runtime, signed_in_as):
    supervisor, _ = signed_in_as("supervisor")
    add_export(runtime, "CASE-B")
    no_reason = act(supervisor, "CASE-B", "close", reason="")
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason_required"
    assert "why" in no_reason.json()["message"].lower()
    unknown = act(supervisor, "CASE-B", "archive")
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_case_action"
    assert "close or reopen" in unknown.json()["message"] and "'archive'" in unknown.json()["message"]
    bad_number = act(supervisor, " ", "close")
    assert bad_number.status_code == 422 and bad_number.json()["code"] == "case_number_required"
    not_closed = act(supervisor, "CASE-B", "reopen", "never was closed")
    assert not_closed.status_code == 409 and not_closed.json()["code"] == "case_open"
    listed = supervisor.get("/api/v1/retention/cases").json()
    assert [(c["case_number"], c["state"], c["registered"]) for c in listed] == [("CASE-B", "open", False)]
    with runtime.database.session() as db:
        assert audit.search(db, query=audit.AuditQuery(action="retention.case_")) == []
    # A case number seen nowhere may still be registered (closed before its first export); closing twice is refused.
    fresh = act(supervisor, "NEVER-SEEN/9", "close", "closed at arraignment")
    assert fresh.status_code == 200 and fresh.json()["registered"] and fresh.json()["opened_at"] == fresh.json()["closed_at"]
    again = act(supervisor, "NEVER-SEEN/9", "close", "closed at arraignment")
    assert again.status_code == 409 and again.json()["code"] == "case_closed"
    # The export's case was first seen when it was exported, an hour before its close.
    clock.advance(timedelta(hours=1))
    supervisor, _ = signed_in_as("supervisor")
    assert act(supervisor, "CASE-B", "close", "plea entered").status_code == 200
    listed = {c["case_number"]: c for c in supervisor.get("/api/v1/retention/cases").json()}
    opened, closed = (datetime.fromisoformat(listed["CASE-B"][key]) for key in ("opened_at", "closed_at"))
    assert timedelta(hours=1) <= closed - opened < timedelta(hours=1, minutes=1)
    analyst, _ = signed_in_as("analyst")
    assert act(analyst, "CASE-B", "reopen", "I want it back").status_code == 403
    auditor, _ = signed_in_as("auditor")
    assert auditor.get("/api/v1/retention/cases").status_code == 200


def test_a_field_link_copy_of_an_open_case_outlives_its_link_until_the_case_closes(runtime, signed_in_as):
    case_clock_policy(signed_in_as, "field_share_media", "0d")
    _, officer = signed_in_as("field_officer")
    now = clock.utcnow()
    media = shares_root(runtime) / "case-c.jpg"
    media.parent.mkdir(parents=True, exist_ok=True)
    media.write_bytes(b"\xff" * 50)
    with runtime.database.session() as db:
        user = db.execute(select(User).where(User.username == officer.username)).scalar_one()
        agency = db.execute(select(Agency).where(Agency.ori == TEST_AGENCY)).scalar_one()
        db.add(FieldShare(kind="snapshot", camera_id=501, camera_name="dock", agency_id=agency.id, sender_username="ana",
                          recipient_user_id=user.id, recipient_username=officer.username, purpose="robbery suspect",
                          case_number="CASE-C", at=now, media_path=media.name, media_type="image/jpeg",
                          media_sha256="0" * 64, media_bytes=50, created_at=now, expires_at=now + timedelta(hours=1),
                          token_hash=secrets.token_hex(32), open_count=0))
    clock.advance(2 * DAY)  # the link ended long ago; its case is open
    would = engine.run_class(runtime, "field_share_media", dry_run=True)
    assert (would.count, would.kept) == (0, {"case open": 1})
    assert engine.run_class(runtime, "field_share_media").count == 0 and media.exists()
    supervisor, _ = signed_in_as("supervisor")
    assert act(supervisor, "CASE-C", "close").status_code == 200
    done = engine.run_class(runtime, "field_share_media")
    assert (done.count, done.bytes) == (1, 50) and not media.exists()


def test_the_console_lists_cases_and_closes_and_reopens_one(runtime, signed_in_as):
    add_export(runtime, "CASE-D")
    supervisor, person = signed_in_as("supervisor")
    page = supervisor.get("/console/retention")
    row = page.text.split('data-testid="case-CASE-D"', 1)[1].split("</tr>", 1)[0]
    assert "<td>open</td>" in row and ">Close</button>" in row
    closed = supervisor.post("/console/retention/cases", data={"case_number": "CASE-D", "action": "close",
                                                              "reason": "sentenced", "csrf_token": person.csrf_token})
    assert "Case CASE-D closed." in closed.text
    row = closed.text.split('data-testid="case-CASE-D"', 1)[1].split("</tr>", 1)[0]
    assert "<td>closed</td>" in row and "sentenced" in row and ">Reopen</button>" in row
    refused = supervisor.post("/console/retention/cases", data={"case_number": "CASE-D", "action": "reopen",
                                                               "reason": "", "csrf_token": person.csrf_token})
    assert "Say why the case is reopened" in refused.text
    reopened = supervisor.post("/console/retention/cases", data={"case_number": "CASE-D", "action": "reopen",
                                                                "reason": "appeal granted", "csrf_token": person.csrf_token})
    assert "Case CASE-D reopened." in reopened.text
    auditor, _ = signed_in_as("auditor")
    seen = auditor.get("/console/retention").text
    assert 'data-testid="case-CASE-D"' in seen and ">Close</button>" not in seen


def test_the_dry_run_says_what_an_open_case_keeps(runtime, signed_in_as):
    from typer.testing import CliRunner

    from rtcc.cli import app

    case_clock_policy(signed_in_as, "exported_evidence", "1d")
    add_export(runtime, "CASE-E", 41)
    add_export(runtime, "CASE-F", 42)
    clock.advance(2 * DAY)
    environment = {"RTCC_DATABASE_URL": runtime.settings.database_url.get_secret_value(), "COLUMNS": "200"}
    arguments = ["retention", "run", "--dry-run", "--class", "exported_evidence", "--data-dir", str(runtime.settings.data_dir)]
    table = CliRunner().invoke(app, arguments, env=environment)
    assert table.exit_code == 0, table.output
    assert "exported_evidence: 2 kept: case open" in table.output
    line = json.loads(CliRunner().invoke(app, [*arguments, "--json"], env=environment).output)
    assert (line["count"], line["kept"]) == (0, {"case open": 2})
    assert exported_cases(runtime) == {"CASE-E", "CASE-F"}
