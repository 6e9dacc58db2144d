"""Field sharing: a snapshot, a clip or a live link sent to one officer, opened once, on one phone, audited."""

import json
import re
import shutil
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from factories import make_recorded_camera
from support import OTHER_AGENCY, create_person, current_code

from rtcc.audit import service as audit
from rtcc.auth.models import SignInAttempt
from rtcc.core import clock
from rtcc.video.pipeline.recording_supervisor import media_store

CLIP_SECONDS = 4


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A 4 s H.264 test pattern with a keyframe every second, made by Debian's ffmpeg."""
    path = tmp_path_factory.mktemp("field") / "camera.mp4"
    result = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=15",
                             "-t", str(CLIP_SECONDS), "-c:v", "libx264", "-g", "15", "-pix_fmt", "yuv420p", str(path)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"ffmpeg is missing or broken (run scripts/media-deps.sh): {result.stderr[-300:]}")
    return path


@pytest.fixture
def scene(runtime, signed_in_as, clip):
    """A camera with a few seconds recorded, an analyst who may share, and a field officer to receive."""
    recorded = make_recorded_camera(runtime, clip, seconds=CLIP_SECONDS, name="Vine & 5th", latitude=34.1, longitude=-118.3)
    camera_id, started, ended = recorded.camera_id, recorded.started, recorded.ended
    analyst, analyst_person = signed_in_as("analyst")
    officer = create_person(runtime, "ofc.reyes", "field_officer")  # their authenticator holds the account's secret
    return {"camera_id": camera_id, "started": started, "ended": ended, "analyst": analyst,
            "sender": analyst_person, "officer": officer, "app": analyst.app}


def share_body(scene, **changes):
    body = {"kind": "snapshot", "camera_id": scene["camera_id"], "recipient": scene["officer"].username,
            "purpose": "BOLO: suspect vehicle seen at the corner", "case_number": "2026-004411", "purpose_category": "2400",
            "message": "Grey sedan, partial plate 7KX. Is this the car you stopped?"}
    return {**body, **changes}


def send(scene, **changes):
    response = scene["analyst"].post("/api/v1/shares", json=share_body(scene, **changes))
    assert response.status_code == 201, response.text
    return response.json()


def phone(scene) -> TestClient:
    """A browser of its own: no console session, its own cookies."""
    return TestClient(scene["app"], base_url="http://testserver")


def link_path(share) -> str:
    return share["link"].removeprefix("http://testserver")


def verify(browser, share, username, code):
    form = browser.get(link_path(share))
    assert form.status_code == 200 and 'data-testid="field-verify-form"' in form.text, form.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    return browser.post(f"{link_path(share)}/verify", data={"username": username, "code": code, "csrf_token": csrf})


def opened_by_officer(scene, share) -> TestClient:
    browser = phone(scene)
    page = verify(browser, share, scene["officer"].username, current_code(scene["officer"]))
    assert page.status_code == 200, page.text
    return browser


def records(runtime, action):
    with runtime.database.session() as db:
        return audit.search(db, query=audit.AuditQuery(action=action))


def refusal_reasons(runtime):
    return [json.loads(record.details)["reason"] for record in reversed(records(runtime, "share.open_refused"))]


def test_a_snapshot_opens_once_for_its_officer_on_one_phone_and_every_open_is_audited(runtime, scene):
    share = send(scene)
    assert share["status"] == "pending" and share["media_type"] == "image/jpeg" and share["open_count"] == 0
    assert share["link"].startswith("http://testserver/field/")
    assert scene["started"] <= datetime.fromisoformat(share["at"]) <= scene["ended"]  # the newest recorded frame

    officer_phone = phone(scene)
    page = verify(officer_phone, share, scene["officer"].username, current_code(scene["officer"]))
    assert page.status_code == 200
    assert 'data-testid="field-snapshot"' in page.text
    assert "Grey sedan, partial plate 7KX" in page.text and 'data-testid="field-message"' in page.text
    image = officer_phone.get(f"{link_path(share)}/media")
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert image.content.startswith(b"\xff\xd8") and len(image.content) > 1000
    again = officer_phone.get(link_path(share))  # the same phone, later: still works
    assert again.status_code == 200 and 'data-testid="field-snapshot"' in again.text

    other_browser = phone(scene)
    # A tap in a mail or chat app is a cross-site navigation: SameSite=Strict cookies stay home, so the
    # page offers a same-site "Open it" link instead of refusing the officer's own phone.
    tapped = other_browser.get(link_path(share), headers={"sec-fetch-site": "cross-site"})
    assert tapped.status_code == 200 and f'href="{link_path(share)}" data-testid="field-continue"' in tapped.text
    used = other_browser.get(link_path(share))
    assert used.status_code == 403 and "This link has already been used" in used.text
    assert other_browser.get(f"{link_path(share)}/media").status_code == 403

    listed = scene["analyst"].get("/api/v1/shares").json()
    assert [(s["id"], s["status"], s["open_count"]) for s in listed] == [(share["id"], "opened", 2)]
    assert "link" not in listed[0]
    opens = records(runtime, "share.open")
    assert [(r.username, r.object_id, r.case_number) for r in opens] == [
        (scene["officer"].username, str(share["id"]), "2026-004411")] * 2
    assert refusal_reasons(runtime) == ["already_used", "already_used"]
    created = records(runtime, "share.create")
    assert [(r.username, r.purpose) for r in created] == [(scene["sender"].username, share_body(scene)["purpose"])]


def test_only_the_named_officer_with_a_current_code_gets_in(runtime, scene):
    share = send(scene)
    someone_else = create_person(runtime, "officer-else", "field_officer")
    browser = phone(scene)
    wrong_person = verify(browser, share, someone_else.username, current_code(someone_else))
    assert wrong_person.status_code == 403 and "sent to someone else" in wrong_person.text
    wrong_code = verify(browser, share, scene["officer"].username, "000000")
    assert wrong_code.status_code == 401 and "not valid" in wrong_code.text
    forged = browser.post(f"{link_path(share)}/verify", data={"username": scene["officer"].username,
                                                              "code": current_code(scene["officer"]),
                                                              "csrf_token": "not-the-form's"})
    assert forged.status_code == 400 and "form expired" in forged.text
    assert scene["analyst"].get(f"/api/v1/shares/{share['id']}").json()["status"] == "pending"

    assert verify(browser, share, scene["officer"].username, current_code(scene["officer"])).status_code == 200
    assert phone(scene).get(link_path(share)).status_code == 403
    assert refusal_reasons(runtime) == ["wrong_person", "wrong_code", "already_used"]
    with runtime.database.session() as db:
        failures = db.query(SignInAttempt).filter_by(stage="share", succeeded=False).all()
    assert len(failures) == 1  # a wrong code counts towards the officer's lockout, as at sign-in


def test_an_expired_link_is_gone_for_everyone(runtime, scene):
    share = send(scene, minutes=5)
    officer_phone = opened_by_officer(scene, share)
    fresh = send(scene, minutes=5)
    clock.advance(timedelta(minutes=6))
    for browser, path in ((officer_phone, link_path(share)), (phone(scene), link_path(fresh))):
        gone = browser.get(path)
        assert gone.status_code == 410 and "This link has expired" in gone.text
        assert 'data-testid="field-refused"' in gone.text
    assert officer_phone.get(f"{link_path(share)}/media").status_code == 410
    assert scene["analyst"].get(f"/api/v1/shares/{share['id']}").json()["status"] == "expired"
    assert not any((runtime.settings.data_dir / "shares").glob("*.jpg"))  # the frozen copy went with the link


def test_the_sender_or_a_supervisor_revokes_and_the_link_stops_at_once(runtime, scene, signed_in_as):
    share = send(scene)
    officer_phone = opened_by_officer(scene, share)
    other_analyst, _ = signed_in_as("analyst")
    assert other_analyst.post(f"/api/v1/shares/{share['id']}/revoke").status_code == 404
    revoked = scene["analyst"].post(f"/api/v1/shares/{share['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert revoked.json()["revoked_by"] == scene["sender"].username
    gone = officer_phone.get(link_path(share))
    assert gone.status_code == 410 and "revoked" in gone.text
    media = officer_phone.get(f"{link_path(share)}/media")
    assert media.status_code == 410 and not media.headers["content-type"].startswith("image/")

    second = send(scene)
    supervisor, boss = signed_in_as("supervisor")
    assert [s["id"] for s in supervisor.get("/api/v1/shares").json()] == [second["id"], share["id"]]
    assert supervisor.post(f"/api/v1/shares/{second['id']}/revoke").json()["revoked_by"] == boss.username
    assert [r.username for r in records(runtime, "share.revoke")] == [boss.username, scene["sender"].username]
    assert refusal_reasons(runtime) == ["revoked", "revoked"]


def test_a_legal_hold_keeps_the_copy_of_a_revoked_or_expired_link_until_released_then_retention_takes_it(
        runtime, scene, signed_in_as):
    from rtcc.governance.retention import engine

    supervisor, _ = signed_in_as("supervisor")
    held = send(scene, case_number="2026-HOLD-7")
    free = send(scene, case_number="2026-004412", minutes=5)
    hold = supervisor.post("/api/v1/retention/holds", json={
        "kind": "case", "case_number": "2026-HOLD-7", "reason": "homicide: preserve everything",
        "review_at": clock.iso(clock.utcnow() + timedelta(days=30))})
    assert hold.status_code == 201, hold.text
    assert scene["analyst"].post(f"/api/v1/shares/{held['id']}/revoke").status_code == 200
    clock.advance(timedelta(minutes=6))
    assert phone(scene).get(link_path(free)).status_code == 410  # expired, and no hold: its copy goes at once
    shares = runtime.settings.data_dir / "shares"
    assert len(list(shares.glob("*.jpg"))) == 1  # the held case's copy, though its link is revoked
    assert opened_by_officer_refused(scene, held)

    run = {r.data_class: r for r in engine.run(runtime, classes=["field_share_media"])}["field_share_media"]
    assert run.count == 0 and [s["holds"] for s in run.skipped] == [[hold.json()["id"]]]
    assert len(list(shares.glob("*.jpg"))) == 1

    supervisor, _ = signed_in_as("supervisor")  # a session of the advanced clock
    released = supervisor.post(f"/api/v1/retention/holds/{hold.json()['id']}/release", json={"reason": "case closed"})
    assert released.status_code == 200, released.text
    run = {r.data_class: r for r in engine.run(runtime, classes=["field_share_media"])}["field_share_media"]
    assert run.count == 1 and not any(shares.glob("*.jpg"))


def opened_by_officer_refused(scene, share) -> bool:
    """The revoked link stays shut to its officer while its copy is kept for the hold."""
    gone = phone(scene).get(link_path(share))
    return gone.status_code == 410 and "revoked" in gone.text


def test_under_the_case_closed_clock_an_ended_link_leaves_its_copy_until_the_case_closes(runtime, scene, signed_in_as):
    from rtcc.governance.retention import engine

    admin, _ = signed_in_as("admin")
    assert admin.put("/api/v1/retention/policies/field_share_media",
                     json={"keep_for": "1d", "clock": "case_closed"}).status_code == 200
    share = send(scene, case_number="2026-CASE-9")
    assert scene["analyst"].post(f"/api/v1/shares/{share['id']}/revoke").status_code == 200
    shares = runtime.settings.data_dir / "shares"
    assert len(list(shares.glob("*.jpg"))) == 1  # its case is open: the copy outlives the link
    assert opened_by_officer_refused(scene, share)
    clock.advance(timedelta(days=3))
    run = engine.run_class(runtime, "field_share_media")
    assert (run.count, run.kept) == (0, {"case open": 1}) and len(list(shares.glob("*.jpg"))) == 1
    supervisor, _ = signed_in_as("supervisor")
    closed = supervisor.post("/api/v1/retention/cases", json={"case_number": "2026-CASE-9", "action": "close",
                                                             "reason": "charges filed, file closed"})
    assert closed.status_code == 200, closed.text
    clock.advance(timedelta(days=1, minutes=1))
    assert engine.run_class(runtime, "field_share_media").count == 1 and not any(shares.glob("*.jpg"))


def test_a_clip_is_frozen_as_mp4_and_noted_on_the_incident(runtime, scene, signed_in_as):
    cad, _ = signed_in_as("operator")
    incident = cad.post("/api/v1/cad/calls", json={
        "call_id": "C-77", "type": "Robbery", "priority": 1, "latitude": 34.1, "longitude": -118.3,
        "received_at": clock.iso(clock.utcnow())}).json()["incident"]
    start, end = scene["started"] + timedelta(seconds=1), scene["ended"] - timedelta(milliseconds=500)
    share = send(scene, kind="clip", start=clock.iso(start), end=clock.iso(end), incident_id=incident["id"])
    assert share["media_type"] == "video/mp4"
    # Retention may purge the recording: the field link still plays what was shared.
    shutil.rmtree(media_store(runtime).root / f"cam{scene['camera_id']}")
    officer_phone = opened_by_officer(scene, share)
    page = officer_phone.get(link_path(share))
    assert 'data-testid="field-clip"' in page.text
    movie = officer_phone.get(f"{link_path(share)}/media")
    assert movie.status_code == 200 and movie.headers["content-type"] == "video/mp4"
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_name",
                            "-of", "json", "-"], input=movie.content, capture_output=True)
    described = json.loads(probe.stdout)
    assert described["streams"][0]["codec_name"] == "h264"
    assert 1.5 <= float(described["format"]["duration"]) <= 3.5

    timeline = scene["analyst"].get(f"/api/v1/incidents/{incident['id']}").json()["timeline"]
    shared = [entry for entry in timeline if entry["kind"] == "shared_to_field"]
    assert len(shared) == 1 and scene["officer"].username in shared[0]["summary"]
    assert shared[0]["username"] == scene["sender"].username and shared[0]["data"]["share_id"] == share["id"]


def test_what_may_not_be_shared_is_refused_with_a_reason(runtime, scene):
    analyst = scene["analyst"]
    operator = create_person(runtime, "operator-x", "operator")
    stranger = create_person(runtime, "officer-ny", "field_officer", agency=OTHER_AGENCY)

    def refused(status, code, **changes):
        response = analyst.post("/api/v1/shares", json=share_body(scene, **changes))
        assert response.status_code == status, response.text
        assert response.json()["code"] == code, response.text
        return response.json()["message"]

    assert "not a field officer" in refused(422, "recipient_not_field_officer", recipient=operator.username)
    # Another agency's officer: the policy engine decides (that agency's kind and state are not even on file).
    assert "rule 'recipient on file'" in refused(403, "policy_refused", recipient=stranger.username)
    # Every share names a category of the managed list, inside the agency too.
    for blank in (None, ""):
        assert "GET /api/v1/policy/purposes" in refused(422, "purpose_category_required", purpose_category=blank)
    assert "GET /api/v1/policy/purposes" in refused(422, "unknown_purpose_category", purpose_category="NOPE")
    refused(422, "recipient_not_found", recipient="nobody-here")
    refused(404, "camera_not_found", camera_id=999999)
    refused(422, "no_recording", at=clock.iso(scene["started"] - timedelta(hours=1)))
    refused(422, "no_recording", kind="clip", start=clock.iso(scene["started"] - timedelta(hours=2)),
            end=clock.iso(scene["started"] - timedelta(hours=1)))
    assert "720 minutes" in refused(422, "expiry_too_long", minutes=721)
    refused(422, "validation_error", case_number="")
    refused(422, "validation_error", purpose="")
    refused(404, "incident_not_found", incident_id=999999)
    assert records(runtime, "share.create") == []
    assert not any((runtime.settings.data_dir / "shares").glob("*"))


def test_a_live_link_streams_through_the_token_until_it_is_revoked(runtime, scene):
    share = send(scene, kind="live", minutes=30)
    with phone(scene) as officer_phone:  # runs the app's lifespan: the live relays live there
        page = verify(officer_phone, share, scene["officer"].username, current_code(scene["officer"]))
        assert page.status_code == 200 and 'data-testid="field-live"' in page.text
        assert '<script type="module" src="/static/field-live.js">' in page.text
        with pytest.raises(WebSocketDisconnect):  # another browser cannot watch
            with phone(scene).websocket_connect(f"{link_path(share)}/live") as feed:
                feed.receive_json()
        with officer_phone.websocket_connect(f"{link_path(share)}/live") as feed:
            hello = feed.receive_json()
            while hello["type"] == "status":
                hello = feed.receive_json()
            assert hello["type"] == "init" and hello["codec"].startswith("avc1.")
            assert feed.receive_bytes()[4:8] == b"ftyp"
            assert scene["analyst"].post(f"/api/v1/shares/{share['id']}/revoke").status_code == 200
            revoked_at, states = time.monotonic(), []
            while (message := feed.receive())["type"] != "websocket.close":
                if message.get("text"):
                    states.append(json.loads(message["text"]).get("state"))
            assert message["code"] == 4410 and message["reason"] == "revoked" and states[-1] == "revoked"
            assert time.monotonic() - revoked_at < 6
        assert officer_phone.get(link_path(share)).status_code == 410
    assert [r.username for r in records(runtime, "share.live")] == [scene["officer"].username]


def test_a_live_link_to_a_camera_whose_source_the_server_may_not_open_is_refused_cleanly(runtime, scene):
    """The source became one the server may not open (file sources switched off since the link was sent):
    the officer's live view closes with a reason, and nothing is opened or recorded as watched."""
    share = send(scene, kind="live", minutes=30)
    with phone(scene) as officer_phone:
        page = verify(officer_phone, share, scene["officer"].username, current_code(scene["officer"]))
        assert page.status_code == 200
        runtime.settings.allow_file_streams = False
        with pytest.raises(WebSocketDisconnect) as closed:
            with officer_phone.websocket_connect(f"{link_path(share)}/live") as feed:
                feed.receive_json()
        assert closed.value.reason == "media_gone"
    assert records(runtime, "share.live") == []
    assert "media_gone" in refusal_reasons(runtime)
