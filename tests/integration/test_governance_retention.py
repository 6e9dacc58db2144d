"""Retention per data class: the clock drives every class across its boundary, with and without legal holds;
held data survives, unheld data goes, and each class's receipt names what it skipped."""

import json
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from factories import make_camera, make_hotlist, make_incident
from support import TEST_AGENCY
from rtcc.alpr.hotlists import HotlistCache
from rtcc.alpr.models import PlateAlert, PlateRead
from rtcc.alpr.reads import ReadIn, ingest
from rtcc.audit import service as audit
from rtcc.auth.models import Agency, User
from rtcc.core import clock
from rtcc.core.actor import SYSTEM
from rtcc.governance.retention import engine, purgers, service
from rtcc.governance.retention.data_classes import CLASSES
from rtcc.governance.retention.models import DeletionReceipt, LegalHold
from rtcc.incidents.models import Incident
from rtcc.sharing.models import FieldShare
from rtcc.sharing.service import shares_root
from rtcc.video.evidence.export import exports_root
from rtcc.video.models import EvidenceExport, RecordingMark, RecordingSegment
from rtcc.video.pipeline.supervisor import media_store

MINUTE = timedelta(minutes=1)
# Each class's keep-for, a different one each, so the clock crosses one boundary at a time.
KEEP_FOR = {"plate_reads": "1d", "plate_hits": "2d", "continuous_video": "3d", "event_clips": "4d",
            "exported_evidence": "5d", "field_share_media": "6d", "incidents": "7d"}
LINK_MINUTES = 60  # a field link ends an hour after it was sent; its media's clock starts then


def add_segment(runtime, camera_id: int, ended, name: str, seconds: int = 6) -> None:
    store = media_store(runtime)
    relative = f"cam{camera_id}/ret/{name}.mp4"
    (store.root / relative).parent.mkdir(parents=True, exist_ok=True)
    (store.root / relative).write_bytes(b"\0" * 100)
    with runtime.database.session() as db:
        db.add(RecordingSegment(camera_id=camera_id, started_at=ended - timedelta(seconds=seconds), ended_at=ended,
                                duration_s=seconds, bytes=100, sha256="0" * 64, path=relative, created_at=clock.utcnow()))


def add_export(runtime, camera_id: int, case_number: str, start, end) -> None:
    bag = exports_root(runtime) / f"bag-{case_number}"
    bag.mkdir(parents=True, exist_ok=True)
    (bag / "clip.mp4").write_bytes(b"\0" * 300)
    with runtime.database.session() as db:
        db.add(EvidenceExport(camera_id=camera_id, starts_at=start, ends_at=end, case_number=case_number, purpose="robbery",
                              requested_by="ana", created_at=clock.utcnow(), path=bag.name, fingerprint="0" * 64,
                              source_segments=[]))


def add_share(runtime, case_number: str, recipient: str) -> None:
    now = clock.utcnow()
    media = shares_root(runtime) / f"{case_number}.jpg"
    media.parent.mkdir(parents=True, exist_ok=True)
    media.write_bytes(b"\xff" * 50)
    with runtime.database.session() as db:
        user = db.execute(select(User).where(User.username == recipient)).scalar_one()
        agency = db.execute(select(Agency).where(Agency.ori == TEST_AGENCY)).scalar_one()
        db.add(FieldShare(kind="snapshot", camera_id=501, camera_name="dock", agency_id=agency.id, sender_username="ana",
                          recipient_user_id=user.id, recipient_username=recipient, purpose="robbery suspect",
                          case_number=case_number, at=now, media_path=media.name, media_type="image/jpeg",
                          media_sha256="0" * 64, media_bytes=50, created_at=now,
                          expires_at=now + timedelta(minutes=LINK_MINUTES), token_hash=secrets.token_hex(32), open_count=0))


def remaining(runtime) -> dict[str, set]:
    """What each class still holds, by a name a person recognises."""
    with runtime.database.session() as db:
        return {
            "plate_reads": {r.plate for r in db.query(PlateRead).filter(PlateRead.matched.is_(False))},
            "plate_hits": {a.plate for a in db.query(PlateAlert)},
            "continuous_video": {s.camera_id for s in db.query(RecordingSegment).filter(RecordingSegment.camera_id.in_([11, 12]))},
            "event_clips": {s.camera_id for s in db.query(RecordingSegment).filter(RecordingSegment.camera_id.not_in([11, 12]))},
            "exported_evidence": {e.case_number for e in db.query(EvidenceExport)},
            "field_share_media": {s.case_number for s in db.query(FieldShare).filter(FieldShare.media_deleted_at.is_(None))},
            "incidents": {i.title for i in db.query(Incident)},
        }


def test_every_class_crosses_its_boundary_held_data_survives_unheld_data_goes(runtime, signed_in_as):
    admin, _ = signed_in_as("admin")
    supervisor, _ = signed_in_as("supervisor")
    _, officer = signed_in_as("field_officer")
    for name, keep_for in KEEP_FOR.items():
        assert admin.put(f"/api/v1/retention/policies/{name}", json={"keep_for": keep_for}).status_code == 200
    t0 = clock.utcnow()
    # Incidents first, closed now (no camera exists yet, so none is docked to them).
    kept_incident = make_incident(runtime, title="held incident")
    make_incident(runtime, title="closed incident")
    with runtime.database.session() as db:
        for incident in db.query(Incident):
            incident.status, incident.closed_at = "closed", t0
    # Plate reads (two without a hit, two hits), video of two continuous and two event-only cameras, two
    # exports, two field shares.
    make_hotlist(runtime, name="stolen", plates=["7HOT001", "7HOT002"])
    with runtime.database.session() as db:
        report = ingest(db, runtime=runtime, hotlists=HotlistCache(), source="test", reads=[
            ReadIn(plate=plate, read_at=t0, camera_id=21, source_read_id=plate)
            for plate in ("1KEEP11", "2GONE22", "7HOT001", "7HOT002")])
    assert report.stored == 4 and report.alerts == 2
    add_segment(runtime, 11, t0, "held")
    add_segment(runtime, 12, t0, "unheld")
    event_cameras = [make_camera(runtime, name=f"alley {n}", record_mode="events") for n in (1, 2)]
    with runtime.database.session() as db:
        for camera_id in event_cameras:
            db.add(RecordingMark(camera_id=camera_id, at=t0 - timedelta(seconds=3), reason="shots fired", source="test",
                                 created_at=t0))
    for camera_id in event_cameras:
        add_segment(runtime, camera_id, t0, f"clip{camera_id}")
    add_export(runtime, 31, "CASE-HELD", t0 - timedelta(hours=2), t0 - timedelta(hours=1))
    add_export(runtime, 31, "CASE-FREE", t0 - timedelta(hours=4), t0 - timedelta(hours=3))
    add_share(runtime, "SHARE-HELD", officer.username)
    add_share(runtime, "SHARE-FREE", officer.username)
    # One hold per class's held item, each of a kind a supervisor places.
    holds = {
        "plate_reads": {"kind": "plate", "plate": "1keep-11"},
        "plate_hits": {"kind": "plate", "plate": "7HOT001"},
        "continuous_video": {"kind": "camera", "camera_id": 11, "starts_at": (t0 - MINUTE).isoformat(),
                             "ends_at": (t0 + MINUTE).isoformat()},
        "event_clips": {"kind": "camera", "camera_id": event_cameras[0], "starts_at": (t0 - MINUTE).isoformat(),
                        "ends_at": (t0 + MINUTE).isoformat()},
        "exported_evidence": {"kind": "case", "case_number": "CASE-HELD"},
        "field_share_media": {"kind": "case", "case_number": "SHARE-HELD"},
        "incidents": {"kind": "incident", "incident_id": kept_incident},
    }
    hold_ids = {}
    for name, target in holds.items():
        placed = supervisor.post("/api/v1/retention/holds", json={**target, "reason": f"litigation over {name}"})
        assert placed.status_code == 201, placed.text
        hold_ids[name] = placed.json()["id"]
    everything = remaining(runtime)
    boundary_of = {name: t0 + service.presets.parse_duration(keep_for) for name, keep_for in KEEP_FOR.items()}
    boundary_of["field_share_media"] += timedelta(minutes=LINK_MINUTES)
    held_item = {"plate_reads": "1KEEP11", "plate_hits": "7HOT001", "continuous_video": 11,
                 "event_clips": event_cameras[0], "exported_evidence": "CASE-HELD", "field_share_media": "SHARE-HELD",
                 "incidents": "held incident"}
    gone: set = set()
    for name in KEEP_FOR:
        clock.advance(boundary_of[name] - MINUTE - clock.utcnow())
        assert engine.run_class(runtime, name).count == 0, f"{name} went before its boundary"
        assert remaining(runtime)[name] == everything[name]
        clock.advance(2 * MINUTE)
        would = engine.run_class(runtime, name, dry_run=True)
        assert (would.count, would.skipped_held) == (1, 1), name
        assert remaining(runtime)[name] == everything[name]  # a dry run deletes nothing
        done = engine.run_class(runtime, name)
        assert (done.count, done.skipped_held) == (1, 1), name
        assert remaining(runtime)[name] == {held_item[name]}, f"{name}: the held item stays, the other goes"
        with runtime.database.session() as db:
            receipt = db.get(DeletionReceipt, done.receipt_id)
            assert receipt.data_class == name and receipt.status == "done" and receipt.segment_count == 1
            assert receipt.policy_version == 1 and receipt.skipped_held == 1
            assert [entry["holds"] for entry in receipt.skipped] == [[hold_ids[name]]]
        gone.add(name)
        for other in set(KEEP_FOR) - gone:  # the classes whose boundary is still ahead are untouched
            assert remaining(runtime)[other] == everything[other], other
    # Released, a hold keeps nothing: the next run takes what it held (a week on: sessions signed in afresh).
    supervisor, _ = signed_in_as("supervisor")
    admin, _ = signed_in_as("admin")
    field_officer, _ = signed_in_as("field_officer")
    released = supervisor.post(f"/api/v1/retention/holds/{hold_ids['continuous_video']}/release",
                               json={"reason": "case settled, no appeal"})
    assert released.status_code == 200 and released.json()["released_at"]
    assert engine.run_class(runtime, "continuous_video").count == 1
    assert remaining(runtime)["continuous_video"] == set()
    # Every class reports, those without data and the append-only audit trail with nothing purged.
    runs = {r.data_class: r for r in engine.run(runtime, dry_run=True)}
    assert set(runs) == set(CLASSES)
    for name in ("uploaded_footage", "community_footage", "drone_video", "body_worn_video", "audit_records"):
        assert runs[name].count == 0
    with runtime.database.session() as db:
        purges = audit.search(db, query=audit.AuditQuery(action="retention.purge"))
        last = service.last_receipt_per_class(db)
    assert {json.loads(p.details)["data_class"] for p in purges} == set(KEEP_FOR)
    assert all(p.username == "system" for p in purges)
    assert set(last) == set(KEEP_FOR) and last["continuous_video"].skipped_held == 0
    receipts = admin.get("/api/v1/retention/receipts", params={"data_class": "plate_hits"}).json()
    assert receipts[0]["skipped"] == [{"item": receipts[0]["skipped"][0]["item"], "holds": [hold_ids["plate_hits"]]}]
    assert field_officer.get("/api/v1/retention/receipts").status_code == 403


def test_reduce_keeps_the_hit_and_drops_its_image(runtime, signed_in_as):
    admin, _ = signed_in_as("admin")
    assert admin.put("/api/v1/retention/policies/plate_hits", json={"keep_for": "1d", "action": "reduce"}).status_code == 200
    crop = runtime.settings.data_dir / "crops" / "hit.jpg"
    crop.parent.mkdir(parents=True, exist_ok=True)
    crop.write_bytes(b"\xff" * 80)
    make_hotlist(runtime, name="stolen", plates=["7HOT001"])
    with runtime.database.session() as db:
        ingest(db, runtime=runtime, hotlists=HotlistCache(), source="test", reads=[
            ReadIn(plate="7HOT001", read_at=clock.utcnow(), camera_id=3, crop_path="crops/hit.jpg", source_read_id="h")])
    clock.advance(timedelta(days=1, minutes=1))
    done = engine.run_class(runtime, "plate_hits")
    assert (done.count, done.bytes) == (1, 80)
    with runtime.database.session() as db:
        alert = db.query(PlateAlert).one()
        assert db.get(PlateRead, alert.read_id).crop_path is None
    assert not crop.exists()
    assert engine.run_class(runtime, "plate_hits").count == 0  # nothing left to reduce


def test_audit_records_are_never_kept_under_the_cjis_year_and_every_change_is_a_version(runtime, signed_in_as):
    admin, person = signed_in_as("admin")
    refused = admin.put("/api/v1/retention/policies/audit_records", json={"keep_for": "364d"})
    assert refused.status_code == 422 and refused.json()["code"] == "below_legal_floor"
    assert "CJIS" in refused.json()["message"]
    for keep_for in ("1y", "3y"):
        assert admin.put("/api/v1/retention/policies/audit_records", json={"keep_for": keep_for}).status_code == 200
    versions = admin.get("/api/v1/retention/policies/audit_records/versions").json()
    assert [(v["version"], v["keep_for"]) for v in versions] == [(2, "3y"), (1, "1y")]
    for bad, code in (({"keep_for": "soon"}, "bad_duration"), ({"keep_for": "1d", "clock": "incident_closed"}, "bad_clock"),
                      ({"keep_for": "1d", "action": "reduce"}, "bad_action")):
        response = admin.put("/api/v1/retention/policies/continuous_video", json=bad)
        assert response.status_code == 422 and response.json()["code"] == code, bad
    assert admin.put("/api/v1/retention/policies/no_such_class", json={"keep_for": "1d"}).status_code == 404
    supervisor, _ = signed_in_as("supervisor")
    assert supervisor.put("/api/v1/retention/policies/plate_reads", json={"keep_for": "1d"}).status_code == 403
    with runtime.database.session() as db:
        changes = audit.search(db, query=audit.AuditQuery(action="retention.policy_change"))
        in_force = {p.data_class: p for p in service.policies_in_force(db, runtime=runtime)}
    assert len(changes) == 2 and all(c.username == person.username for c in changes)
    assert in_force["audit_records"].keep_for_text == "3y" and in_force["continuous_video"].version == 0


def test_without_a_policy_the_flat_settings_are_the_defaults(runtime):
    runtime.settings.read_retention_days, runtime.settings.retention_days = 9, 4
    with runtime.database.session() as db:
        policies = {p.data_class: p for p in service.policies_in_force(db, runtime=runtime)}
    assert policies["plate_reads"].keep_for == timedelta(days=9) and policies["plate_reads"].source == "settings"
    assert policies["continuous_video"].keep_for == timedelta(days=4) == policies["event_clips"].keep_for


def test_presets_load_as_versions_and_overlapping_presets_are_refused_whole(runtime, signed_in_as):
    admin, _ = signed_in_as("admin")
    shipped = {p["name"]: p for p in admin.get("/api/v1/retention/presets").json()}
    assert {"new-hampshire", "maine", "minnesota", "vermont", "california", "video-30-day"} <= set(shipped)
    assert all(p["source"] for p in shipped.values())
    overlap = admin.post("/api/v1/retention/presets/load", json={"presets": ["maine", "minnesota"]})
    assert overlap.status_code == 422 and overlap.json()["code"] == "presets_overlap"
    california = admin.post("/api/v1/retention/presets/load", json={"presets": ["california"]})
    assert california.status_code == 422 and california.json()["code"] == "agency_value_required"
    assert admin.get("/api/v1/retention/policies/plate_reads/versions").json() == []  # nothing half-loaded
    loaded = admin.post("/api/v1/retention/presets/load", json={"presets": ["new-hampshire", "video-30-day"]})
    assert loaded.status_code == 200
    assert {(p["data_class"], p["keep_for"]) for p in loaded.json()} == {
        ("plate_reads", "3min"), ("continuous_video", "30d"), ("event_clips", "30d")}
    ca = admin.post("/api/v1/retention/presets/load", json={"presets": ["california"],
                                                            "values": {"plate_reads": "1y", "plate_hits": "2y"}})
    assert ca.status_code == 200
    policy = {p["data_class"]: p for p in admin.get("/api/v1/retention/policies").json()}["plate_reads"]
    assert (policy["version"], policy["keep_for"], policy["source"]) == (2, "1y", "preset:california")
    assert "1798.90.51" in policy["citation"] and "custodian" in policy["fields"]


def test_a_hold_on_something_that_does_not_exist_is_refused_and_nothing_is_held(runtime, signed_in_as):
    supervisor, _ = signed_in_as("supervisor")
    for target in ({"kind": "incident", "incident_id": 999}, {"kind": "plate", "plate": "0NEVER0"},
                   {"kind": "case", "case_number": "NO-SUCH-CASE"}, {"kind": "community_upload", "upload_id": "up-1"},
                   {"kind": "camera", "camera_id": 999, "starts_at": clock.iso(clock.utcnow()),
                    "ends_at": clock.iso(clock.utcnow() + MINUTE)}):
        response = supervisor.post("/api/v1/retention/holds", json={**target, "reason": "pending litigation"})
        assert response.status_code == 404 and response.json()["code"] == "hold_target_not_found", target
    for target, code in (({"kind": "plate"}, "hold_target_required"),
                         ({"kind": "camera", "starts_at": clock.iso(clock.utcnow()), "ends_at": clock.iso(clock.utcnow() - MINUTE)},
                          "bad_window")):
        response = supervisor.post("/api/v1/retention/holds", json={**target, "reason": "pending litigation"})
        assert response.status_code == 422 and response.json()["code"] == code
    assert supervisor.post("/api/v1/retention/holds", json={"kind": "case", "case_number": "C-1", "reason": ""}).status_code == 422
    assert supervisor.get("/api/v1/retention/holds").json() == []


def test_holds_need_a_reason_both_ways_are_audited_and_show_overdue_after_their_review_date(runtime, signed_in_as):
    supervisor, person = signed_in_as("supervisor")
    analyst, _ = signed_in_as("analyst")
    camera = make_camera(runtime, name="main st")
    now = clock.utcnow()
    body = {"kind": "camera", "camera_id": camera, "starts_at": clock.iso(now - timedelta(hours=1)), "ends_at": clock.iso(now),
            "reason": "homicide 26-0117", "review_at": clock.iso(now + timedelta(days=1))}
    assert analyst.post("/api/v1/retention/holds", json=body).status_code == 403
    hold = supervisor.post("/api/v1/retention/holds", json=body).json()
    assert hold["overdue"] is False and hold["target"].startswith(f"camera {camera}")
    clock.advance(timedelta(days=2))
    supervisor, reviewer = signed_in_as("supervisor")  # two days on: a session of today
    assert [h["overdue"] for h in supervisor.get("/api/v1/retention/holds").json()] == [True]
    no_reason = supervisor.post(f"/api/v1/retention/holds/{hold['id']}/release", json={"reason": " "})
    assert no_reason.status_code == 422
    released = supervisor.post(f"/api/v1/retention/holds/{hold['id']}/release", json={"reason": "charges dropped"}).json()
    assert released["released_by"] == reviewer.username and released["overdue"] is False
    again = supervisor.post(f"/api/v1/retention/holds/{hold['id']}/release", json={"reason": "charges dropped"})
    assert again.status_code == 409
    assert supervisor.get("/api/v1/retention/holds").json() == []
    with runtime.database.session() as db:
        acts = [(r.username, r.action) for r in audit.search(db, query=audit.AuditQuery(object_type="legal_hold"))
                if r.action != "retention.hold_list"]
        assert sorted(acts) == [(person.username, "retention.hold_place"), (reviewer.username, "retention.hold_release")]
        assert db.get(LegalHold, hold["id"]).release_reason == "charges dropped"


def test_a_purge_that_fails_half_way_resumes_and_never_touches_held_video(runtime, monkeypatch):
    runtime.settings.retention_days = 1
    now = clock.utcnow()
    for n in range(5):
        add_segment(runtime, 12, now - timedelta(days=2, minutes=n), f"old{n}")
    add_segment(runtime, 11, now - timedelta(days=2), "held")
    with runtime.database.session() as db:
        service.place_hold(db, runtime=runtime, actor=SYSTEM, kind="camera", camera_id=11, reason="subpoena 44",
                           starts_at=now - timedelta(days=3), ends_at=now)
    purger = purgers.PURGERS["continuous_video"]
    real_remove = purger.remove
    calls = []

    def remove_then_fail(session, **kwargs):
        calls.append(len(kwargs["items"]))
        if len(calls) == 2:
            raise OSError("disk went away")
        real_remove(session, **kwargs)

    monkeypatch.setattr(purger, "remove", remove_then_fail)
    with pytest.raises(OSError):
        engine.run_class(runtime, "continuous_video", batch_size=2)
    with runtime.database.session() as db:
        receipt = db.query(DeletionReceipt).one()
        assert (receipt.status, receipt.segment_count) == ("running", 2)  # the first batch went, and says so
        assert db.query(RecordingSegment).count() == 4
    monkeypatch.setattr(purger, "remove", real_remove)
    resumed = engine.run_class(runtime, "continuous_video", batch_size=2)
    assert resumed.resumed and resumed.count == 5 and resumed.skipped_held == 1
    with runtime.database.session() as db:
        receipt = db.query(DeletionReceipt).one()  # the same receipt, finished
        assert (receipt.status, receipt.segment_count, receipt.bytes, receipt.skipped_held) == ("done", 5, 500, 1)
        assert [s.camera_id for s in db.query(RecordingSegment)] == [11]
    assert (media_store(runtime).root / "cam11/ret/held.mp4").exists()


def test_cli_dry_run_shows_what_would_go_and_run_does_it(runtime):
    from typer.testing import CliRunner

    from rtcc.cli import app

    runtime.settings.read_retention_days = 1
    with runtime.database.session() as db:
        ingest(db, runtime=runtime, hotlists=HotlistCache(), source="test", reads=[
            ReadIn(plate=p, read_at=clock.utcnow() - timedelta(days=2), camera_id=4, source_read_id=p) for p in ("1AAA111", "2BBB222")])
        service.place_hold(db, runtime=runtime, actor=SYSTEM, kind="plate", plate="1AAA111", reason="pending appeal")
    environment = {"RTCC_DATABASE_URL": runtime.settings.database_url.get_secret_value(), "RTCC_READ_RETENTION_DAYS": "1",
                   "COLUMNS": "200"}
    arguments = ["retention", "run", "--class", "plate_reads", "--json", "--data-dir", str(runtime.settings.data_dir)]
    dry = CliRunner().invoke(app, [*arguments[:2], "--dry-run", *arguments[2:]], env=environment)
    assert dry.exit_code == 0, dry.output
    line = json.loads(dry.output)
    assert (line["dry_run"], line["count"], line["skipped_held"], line["receipt_id"]) == (True, 1, 1, None)
    with runtime.database.session() as db:
        assert db.query(PlateRead).count() == 2
    done = CliRunner().invoke(app, arguments, env=environment)
    assert done.exit_code == 0, done.output
    line = json.loads(done.output)
    assert (line["dry_run"], line["count"], line["skipped_held"]) == (False, 1, 1) and line["receipt_id"]
    with runtime.database.session() as db:
        assert [r.plate for r in db.query(PlateRead)] == ["1AAA111"]
    table = CliRunner().invoke(app, ["retention", "run", "--dry-run", "--data-dir", str(runtime.settings.data_dir)],
                               env=environment)
    assert table.exit_code == 0 and "body_worn_video" in table.output and "plate_reads" in table.output


def test_a_supervisor_places_a_hold_on_the_console_the_purge_skips_it_and_the_receipt_says_so(runtime, signed_in_as):
    runtime.settings.read_retention_days = 1
    with runtime.database.session() as db:
        ingest(db, runtime=runtime, hotlists=HotlistCache(), source="test", reads=[
            ReadIn(plate=p, read_at=clock.utcnow() - timedelta(days=2), camera_id=4, source_read_id=p) for p in ("8SAVE88", "9LOSE99")])
    supervisor, person = signed_in_as("supervisor")
    placed = supervisor.post("/console/retention/holds", data={
        "kind": "plate", "plate": "8SAVE88", "reason": "hit and run, victim's family counsel", "csrf_token": person.csrf_token})
    assert placed.status_code == 200 and "Hold 1 placed on plate 8SAVE88" in placed.text
    refused = supervisor.post("/console/retention/holds", data={
        "kind": "incident", "incident_id": "77", "reason": "no such incident", "csrf_token": person.csrf_token})
    assert "No incident 77" in refused.text
    engine.run(runtime)
    page = supervisor.get("/console/retention")
    assert 'data-testid="hold-1"' in page.text and "plate 8SAVE88" in page.text
    receipt = page.text.split('data-testid="receipt-', 1)[1].split("</tr>", 1)[0]
    assert "plate_reads" in receipt and "(hold 1)" in receipt
    with runtime.database.session() as db:
        assert [r.plate for r in db.query(PlateRead)] == ["8SAVE88"]
    released = supervisor.post("/console/retention/holds/1/release", data={"reason": "case closed by the court",
                                                                           "csrf_token": person.csrf_token})
    assert "Hold 1 released" in released.text and 'data-testid="no-holds"' in released.text
    analyst, someone = signed_in_as("analyst")
    assert analyst.get("/console/retention", follow_redirects=False).status_code in (302, 303, 403)


def test_the_demo_seeds_a_hold_that_the_first_purge_skips(runtime):
    from rtcc.sim.demo import prepare_demo
    from rtcc.sim.demo_retention import HELD_PLATE

    prepare_demo(runtime)
    prepare_demo(runtime)  # once only
    run = engine.run_class(runtime, "plate_reads")
    assert (run.count, run.skipped_held) == (3, 1)
    with runtime.database.session() as db:
        assert [r.plate for r in db.query(PlateRead)] == [HELD_PLATE]
        assert len(service.open_holds(db)) == 1


def test_while_a_hold_stands_a_sweep_that_only_skips_writes_no_new_receipt(runtime):
    runtime.settings.read_retention_days = 1
    with runtime.database.session() as db:
        ingest(db, runtime=runtime, hotlists=HotlistCache(), source="test", reads=[
            ReadIn(plate="8SAVE88", read_at=clock.utcnow() - timedelta(days=2), camera_id=4, source_read_id="s")])
        service.place_hold(db, runtime=runtime, actor=SYSTEM, kind="plate", plate="8SAVE88", reason="pending appeal")
    first, second = engine.run_class(runtime, "plate_reads"), engine.run_class(runtime, "plate_reads")
    assert (first.skipped_held, second.skipped_held) == (1, 1)  # both runs say what they kept
    assert first.receipt_id and second.receipt_id is None  # only the first wrote it down
    with runtime.database.session() as db:
        ingest(db, runtime=runtime, hotlists=HotlistCache(), source="test", reads=[
            ReadIn(plate="8SAVE88", read_at=clock.utcnow() - timedelta(days=3), camera_id=5, source_read_id="t")])
    assert engine.run_class(runtime, "plate_reads").receipt_id  # another held item: a new receipt


def test_a_malformed_preset_file_loaded_from_the_command_line_is_refused_and_loses_nothing(runtime, tmp_path):
    from typer.testing import CliRunner

    from rtcc.cli import app

    environment = {"RTCC_DATABASE_URL": runtime.settings.database_url.get_secret_value()}
    base = ["retention", "load", "--data-dir", str(runtime.settings.data_dir)]
    assert CliRunner().invoke(app, [*base, "maine"], env=environment).exit_code == 0
    broken = tmp_path / "county.toml"
    broken.write_text('[preset]\ntitle = "County"\nsource = "County Code 9-1"\n[[policy]]\nclass = "plate_reads"\nkeep_for = "7d"\n'
                      '[[policy]]\nclass = "audit_records"\nkeep_for = "30d"\n')
    refused = CliRunner().invoke(app, [*base, str(broken)], env=environment)
    assert refused.exit_code == 1 and "below that floor" in refused.output and "county.toml" in refused.output
    broken.write_text('[preset]\ntitle = "County"\nsource = "County Code 9-1"\n[[policy]]\nclass = "plate_reads"\nkeep_for = "7d"\n')
    assert CliRunner().invoke(app, [*base, str(broken)], env=environment).exit_code == 0
    with runtime.database.session() as db:
        versions = [(p.version, p.keep_for, p.source) for p in service.policy_history(db, "plate_reads")]
        assert service.policy_in_force(db, "audit_records").version == 0  # the refused file changed nothing
    assert versions == [(2, "7d", "preset:county"), (1, "21d", "preset:maine")]


def test_a_hold_is_seen_and_released_within_its_agency_only_and_binds_every_purge(runtime, signed_in_as):
    from support import OTHER_AGENCY

    runtime.settings.read_retention_days = 1
    with runtime.database.session() as db:
        ingest(db, runtime=runtime, hotlists=HotlistCache(), source="test", reads=[
            ReadIn(plate="8SAVE88", read_at=clock.utcnow() - timedelta(days=2), camera_id=4, source_read_id="s")])
    ours, _ = signed_in_as("supervisor")
    theirs, _ = signed_in_as("supervisor", agency=OTHER_AGENCY)
    hold = ours.post("/api/v1/retention/holds", json={"kind": "plate", "plate": "8SAVE88", "reason": "our homicide case"}).json()
    assert [h["id"] for h in ours.get("/api/v1/retention/holds").json()] == [hold["id"]]
    assert theirs.get("/api/v1/retention/holds").json() == []  # it names our plate: not theirs to see
    with runtime.database.session() as db:  # each look at the holds is on the record
        looks = audit.search(db, query=audit.AuditQuery(action="retention.hold_list"))
    assert sorted(json.loads(look.details)["count"] for look in looks) == [0, 1]
    refused = theirs.post(f"/api/v1/retention/holds/{hold['id']}/release", json={"reason": "not our case at all"})
    assert refused.status_code == 404
    assert engine.run_class(runtime, "plate_reads").skipped_held == 1  # the purge obeys it whoever looks


def test_one_run_removes_at_most_its_limit_and_the_next_goes_on_oldest_first(runtime):
    runtime.settings.retention_days = 1
    now = clock.utcnow()
    for n in range(5):
        add_segment(runtime, 12, now - timedelta(days=2, minutes=n), f"old{n}")
    assert engine.run_class(runtime, "continuous_video", max_items=2).count == 2
    with runtime.database.session() as db:
        left = sorted(s.path for s in db.query(RecordingSegment))
    assert left == [f"cam12/ret/old{n}.mp4" for n in range(3)]  # the two oldest went first
    assert engine.run_class(runtime, "continuous_video", max_items=2).count == 2
    assert engine.run_class(runtime, "continuous_video", max_items=2).count == 1


def test_holds_and_receipts_from_before_governance_survive_migration_0017_and_still_count(runtime, signed_in_as):
    from alembic import command
    from sqlalchemy import text

    from rtcc.core.migrate import alembic_config, upgrade_database

    engine_ = runtime.database.engine
    command.downgrade(alembic_config(engine_), "0016")
    now = clock.utcnow()
    with engine_.begin() as connection:
        connection.execute(text(
            "INSERT INTO legal_holds (camera_id, starts_at, ends_at, case_number, reason, created_by, created_at) "
            "VALUES (12, :start, :end, 'OLD-7', 'held before governance', 'judge', :now)"),
            {"start": now - timedelta(days=3), "end": now, "now": now})
        connection.execute(text(
            "INSERT INTO deletion_receipts (camera_id, range_start, range_end, segment_count, bytes, reason, created_at) "
            "VALUES (3, :start, :end, 40, 4000, 'max_age', :now)"), {"start": now - timedelta(days=9), "end": now, "now": now})
    upgrade_database(engine_)
    runtime.settings.retention_days = 1
    add_segment(runtime, 12, now - timedelta(days=2), "kept")
    add_segment(runtime, 13, now - timedelta(days=2), "gone")
    assert engine.run_class(runtime, "continuous_video").skipped_held == 1  # the old hold still keeps camera 12
    admin, _ = signed_in_as("admin")
    receipts = admin.get("/api/v1/retention/receipts").json()
    old = [r for r in receipts if r["data_class"] is None]
    assert [(r["count"], r["bytes"], r["action"], r["breakdown"]) for r in old] == [(40, 4000, "max_age", [])]
    holds = admin.get("/api/v1/retention/holds").json()
    assert [(h["kind"], h["target"].split(" ")[:2]) for h in holds] == [("camera", ["camera", "12"])]
