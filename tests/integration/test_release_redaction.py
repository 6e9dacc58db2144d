"""A public-records release end to end through the API: request, draw, render, review, approve, hand out."""

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from factories import make_recorded_camera
from support import OTHER_AGENCY, TEST_AGENCY, alpr_dev_set, wait_until

from rtcc.alpr.reader.reader import PlateReader
from rtcc.audit import service as audit
from rtcc.core import clock
from rtcc.governance.releases.service import release_counts
from rtcc.video.models import RecordingSegment
from rtcc.video.recording.storage import sha256_of

PLATE_IMAGE = "c9368c55-210d-456c-a5ef-c310e60039ec.jpg"  # 1280x720, plate UH1F0F at (788, 124, 60, 30)
PLATE, PLATE_BOX = "UH1F0F", (788, 124, 60, 30)
SECONDS, FPS = 2, 5
DRAWN = {"x": 300, "y": 300, "width": 120, "height": 90}  # a bystander the detectors cannot know about
PURPOSE = "Public records act request from a newspaper"


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """Two seconds of a street photograph with a readable plate, as a camera would have recorded it."""
    path = tmp_path_factory.mktemp("release") / "camera.mp4"
    result = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-loop", "1", "-i", str(alpr_dev_set() / PLATE_IMAGE),
                             "-t", str(SECONDS), "-r", str(FPS), "-c:v", "libx264", "-crf", "18", "-g", str(FPS),
                             "-pix_fmt", "yuv420p", str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"ffmpeg is missing or broken (run scripts/media-deps.sh): {result.stderr[-300:]}")
    return path


@pytest.fixture
def scene(runtime, signed_in_as, clip):
    recorded = make_recorded_camera(runtime, clip, seconds=SECONDS, name="Main & 3rd", latitude=34.1, longitude=-118.3)
    camera_id, started, ended = recorded.camera_id, recorded.started, recorded.ended
    clerk, clerk_person = signed_in_as("supervisor")
    approver, approver_person = signed_in_as("supervisor")
    return {"camera_id": camera_id, "started": started, "ended": ended, "segment": recorded.segment,
            "clerk": clerk, "clerk_person": clerk_person, "approver": approver, "approver_person": approver_person}


def request_body(scene, **changes):
    body = {"records_request_number": "PRR-2026-0117", "requester": "The Daily Ledger", "purpose": PURPOSE,
            "camera_id": scene["camera_id"], "start": scene["started"].isoformat(), "end": scene["ended"].isoformat()}
    return {**body, **changes}


def frames_of(data: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(data)) as container:
        return [frame.to_ndarray(format="bgr24") for frame in container.decode(video=0)]


def detail(image: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def region(frame, x, y, width, height):
    return frame[y:y + height, x:x + width]


def audited(runtime, release_id):
    with runtime.database.session() as db:
        found = audit.search(db, query=audit.AuditQuery(object_type="release", object_id=str(release_id)))
        return [(record.action, record.username, record.purpose, record.outcome) for record in found]


def test_a_release_is_redacted_approved_by_another_supervisor_and_handed_out_with_the_original_untouched(runtime, scene):
    clerk, approver = scene["clerk"], scene["approver"]
    segment_before = hashlib.sha256(scene["segment"].read_bytes()).hexdigest()

    created = clerk.post("/api/v1/releases", json=request_body(scene))
    assert created.status_code == 201, created.text
    release = created.json()
    release_id = release["id"]
    assert release["status"] == "requested" and (release["width"], release["height"]) == (1280, 720)
    assert release["source_segment_sha256"] == [segment_before]

    frame = clerk.get(f"/api/v1/releases/{release_id}/frame", params={"index": 0})
    assert frame.status_code == 200 and frame.content.startswith(b"\xff\xd8")
    boxed = clerk.post(f"/api/v1/releases/{release_id}/boxes", json={"frame": 0, **DRAWN, "note": "bystander"})
    assert boxed.status_code == 200, boxed.text
    assert boxed.json()["manual_boxes"][0]["box"] == [300, 300, 120, 90]

    # Nothing leaves before it is rendered and approved.
    assert clerk.get(f"/api/v1/releases/{release_id}/copy").json()["code"] == "not_approved"
    assert approver.get(f"/api/v1/releases/{release_id}/review").status_code == 409

    rendering = clerk.post(f"/api/v1/releases/{release_id}/render")
    assert rendering.status_code == 202 and rendering.json()["status"] == "rendering"
    rendered = clerk.get(f"/api/v1/releases/{release_id}").json()
    assert rendered["status"] == "rendered", rendered["render_error"]
    redactions = rendered["redactions"]
    assert redactions["original_sha256"] == rendered["original_sha256"]
    frames = redactions["frames"]
    assert frames >= FPS and redactions["plates"]["frames"] == frames  # the plate, found on every frame
    assert redactions["manual"][0]["frames"] == [0, frames - 1]  # the drawn box, carried to the last frame

    assert clerk.get(f"/api/v1/releases/{release_id}/copy").status_code == 409  # rendered is not approved
    own = clerk.post(f"/api/v1/releases/{release_id}/decision", json={"approve": True, "note": "looks fine to me"})
    assert own.status_code == 403 and own.json()["code"] == "own_release"

    review = approver.get(f"/api/v1/releases/{release_id}/review")
    assert review.status_code == 200 and review.headers["content-type"] == "video/mp4"
    assert hashlib.sha256(review.content).hexdigest() == rendered["release_sha256"]
    decided = approver.post(f"/api/v1/releases/{release_id}/decision",
                            json={"approve": True, "note": "Plate and bystander blurred on every frame"})
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    assert decided.json()["decided_by"] == scene["approver_person"].username

    copy = clerk.get(f"/api/v1/releases/{release_id}/copy")
    assert copy.status_code == 200 and hashlib.sha256(copy.content).hexdigest() == rendered["release_sha256"]
    released = frames_of(copy.content)  # it plays: every frame decodes, at the source's size
    original = frames_of(scene["segment"].read_bytes())
    assert len(released) == frames and released[0].shape == original[0].shape == (720, 1280, 3)
    for before, after in zip(original, released):  # a still street: every recorded frame shows the same scene
        for box in (PLATE_BOX, tuple(DRAWN.values())):
            assert detail(region(after, *box)) < 0.1 * detail(region(before, *box)), f"{box} still readable"
        corner = (slice(600, 700), slice(1100, 1250))  # nothing there to hide: left as it was
        assert np.abs(after[corner].astype(int) - before[corner].astype(int)).mean() < 6
    reader = PlateReader()
    assert reader.read_image(original[0])[0].plate == PLATE
    assert PLATE not in {c.plate for read in reader.read_image(released[0]) for c in read.candidates}

    # The original was only read.
    assert hashlib.sha256(scene["segment"].read_bytes()).hexdigest() == segment_before
    with runtime.database.session() as db:
        assert db.query(RecordingSegment).filter_by(camera_id=scene["camera_id"]).one().sha256 == segment_before

    clerk_name, approver_name = scene["clerk_person"].username, scene["approver_person"].username
    trail = audited(runtime, release_id)
    for action, who in (("release.request", clerk_name), ("release.view_frame", clerk_name),
                        ("release.add_box", clerk_name), ("release.render", clerk_name),
                        ("release.rendered", clerk_name), ("release.review", approver_name),
                        ("release.approve", approver_name), ("release.download", clerk_name)):
        assert (action, who, PURPOSE, "success") in trail, f"{action} by {who} not audited with its purpose"
    with runtime.database.session() as db:
        rendered_record = audit.search(db, query=audit.AuditQuery(action="release.rendered"))[0]
        counts = release_counts(db, clock.utcnow() - timedelta(hours=1))
    assert json.loads(rendered_record.details)["original_sha256"] == rendered["original_sha256"]
    assert counts == {"requested": 1, "approved": 1, "rejected": 0, "open": 0}  # what the transparency portal shows


def test_the_console_page_offers_the_request_form_and_the_review_to_supervisors_only(scene, signed_in_as):
    page = scene["clerk"].get("/console/releases")
    assert page.status_code == 200 and 'data-testid="release-form"' in page.text and 'id="approve"' in page.text
    analyst, _ = signed_in_as("analyst")
    page = analyst.get("/console/releases")
    assert page.status_code == 200 and 'data-testid="release-form"' in page.text and 'id="approve"' not in page.text


def test_another_agency_sees_no_release_and_bad_requests_are_refused_clearly(runtime, scene, signed_in_as):
    clerk = scene["clerk"]
    release = clerk.post("/api/v1/releases", json=request_body(scene)).json()
    outsider, _ = signed_in_as("supervisor", agency=OTHER_AGENCY)
    assert outsider.get(f"/api/v1/releases/{release['id']}").status_code == 404
    assert outsider.post(f"/api/v1/releases/{release['id']}/render").status_code == 404
    assert release["id"] not in [found["id"] for found in outsider.get("/api/v1/releases").json()]

    neither = clerk.post("/api/v1/releases", json={k: v for k, v in request_body(scene).items()
                                                   if k not in ("camera_id", "start", "end")})
    assert neither.status_code == 422
    empty = clerk.post("/api/v1/releases", json=request_body(
        scene, start=(scene["started"] - timedelta(hours=2)).isoformat(),
        end=(scene["started"] - timedelta(hours=1)).isoformat()))
    assert empty.status_code == 422 and empty.json()["code"] == "no_recording"
    outside = clerk.post(f"/api/v1/releases/{release['id']}/boxes", json={"frame": 0, "x": 1200, "y": 0,
                                                                          "width": 200, "height": 50})
    assert outside.status_code == 422 and outside.json()["code"] == "invalid_box"
    backwards = clerk.post(f"/api/v1/releases/{release['id']}/boxes", json={"frame": 5, "last_frame": 2, "x": 0, "y": 0,
                                                                            "width": 20, "height": 20})
    assert backwards.status_code == 422
    not_rendered = scene["approver"].post(f"/api/v1/releases/{release['id']}/decision",
                                          json={"approve": True, "note": "nothing to see yet"})
    assert not_rendered.status_code == 409 and not_rendered.json()["code"] == "not_rendered"
    assert clerk.get(f"/api/v1/releases/{release['id']}").json()["status"] == "requested"  # nothing lost


def test_a_render_of_a_source_that_changed_fails_and_says_why(runtime, scene):
    from rtcc.governance.releases.models import ReleaseRequest

    clerk = scene["clerk"]
    release = clerk.post("/api/v1/releases", json=request_body(scene)).json()
    with runtime.database.session() as db:
        source = runtime.settings.data_dir / db.get(ReleaseRequest, release["id"]).source_path
    source.write_bytes(source.read_bytes() + b"\0")
    assert clerk.post(f"/api/v1/releases/{release['id']}/render").status_code == 202
    failed = clerk.get(f"/api/v1/releases/{release['id']}").json()
    assert failed["status"] == "failed" and "no longer matches" in failed["render_error"]
    assert failed["release_sha256"] is None
    assert ("release.rendered", scene["clerk_person"].username, PURPOSE, "failure") in audited(runtime, release["id"])


def test_a_render_cut_off_by_a_restart_can_be_started_again(runtime, scene):
    from rtcc.governance.releases.models import ReleaseRequest

    clerk = scene["clerk"]
    release = clerk.post("/api/v1/releases", json=request_body(scene)).json()
    with runtime.database.session() as db:  # as a server stopped mid-render leaves it
        db.get(ReleaseRequest, release["id"]).status = "rendering"
    assert clerk.post(f"/api/v1/releases/{release['id']}/render").status_code == 202
    rendered = clerk.get(f"/api/v1/releases/{release['id']}").json()
    assert rendered["status"] == "rendered" and rendered["release_sha256"]
    review = scene["approver"].get(f"/api/v1/releases/{release['id']}/review")
    assert hashlib.sha256(review.content).hexdigest() == rendered["release_sha256"]


# The serving process of the test below, cut off mid-render: it starts a render as the route does and runs it.
RENDERING_SERVER = """
import sys
from rtcc.auth.permissions import permissions_of
from rtcc.core.actor import Actor
from rtcc.core.runtime import build_runtime
from rtcc.governance.releases import rendering, service
from rtcc.settings import Settings

data_dir, database_url, username, agency, release_id = sys.argv[1:]
runtime = build_runtime(Settings(data_dir=data_dir, database_url=database_url, recording_enabled=False))
actor = Actor(via="session", username=username, role="supervisor", agency_ori=agency,
              permissions=permissions_of("supervisor"))
with runtime.database.session() as db:
    copy_name = service.start_render(db, runtime=runtime, actor=actor, release_id=int(release_id)).release_path
rendering.render(runtime=runtime, actor=actor, release_id=int(release_id), copy_name=copy_name)
"""


def test_a_render_cut_off_by_a_crash_is_found_interrupted_by_the_next_start_and_renders_again(runtime, scene):
    from fastapi.testclient import TestClient

    from rtcc.app import create_app
    from rtcc.core.runtime import build_runtime
    from rtcc.governance.releases.models import ReleaseRequest

    clerk = scene["clerk"]
    release_id = clerk.post("/api/v1/releases", json=request_body(scene)).json()["id"]
    with runtime.database.session() as db:
        source = runtime.settings.data_dir / db.get(ReleaseRequest, release_id).source_path
    source_before, segment_before = sha256_of(source), sha256_of(scene["segment"])

    # A server renders it and dies mid-render (killed with its ffmpeg children, as a crash or a hard restart does).
    copies = runtime.settings.data_dir / "releases" / "copies"
    server = subprocess.Popen([sys.executable, "-c", RENDERING_SERVER, str(runtime.settings.data_dir),
                               runtime.settings.database_url.get_secret_value(), scene["clerk_person"].username, TEST_AGENCY,
                               str(release_id)], start_new_session=True, stderr=subprocess.PIPE)
    try:
        partial = wait_until(lambda: next((p for p in copies.glob("*.mp4") if p.stat().st_size), None), timeout=120, poll=0.01,
                             what=lambda: f"a partial copy (server exit {server.poll()})")
        busy = clerk.post(f"/api/v1/releases/{release_id}/render")  # its process lives: not started twice
        os.killpg(server.pid, signal.SIGKILL)
        assert busy.status_code == 409 and busy.json()["code"] == "release_rendering"
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    stuck = clerk.get(f"/api/v1/releases/{release_id}").json()
    assert stuck["status"] == "rendering", "the render ended before the server was killed: nothing to recover"
    assert partial.is_file() and partial.with_suffix(".rendering").is_file()

    # The next start, a new runtime and app over the same data dir and database, finds it before serving.
    restarted = build_runtime(runtime.settings)
    try:
        with TestClient(create_app(runtime=restarted), base_url="http://testserver", cookies=clerk.cookies) as client:
            client.headers.update(clerk.headers)
            found = client.get(f"/api/v1/releases/{release_id}").json()
            assert found["status"] == "interrupted"
            assert "cut off" in found["render_error"] and found["release_sha256"] is None
            assert not partial.exists() and not partial.with_suffix(".rendering").exists()
            assert sha256_of(source) == source_before and sha256_of(scene["segment"]) == segment_before
            listed = {row["id"]: row for row in client.get("/api/v1/releases").json()}
            assert listed[release_id]["status"] == "interrupted"  # what the console's list and detail show

            assert client.post(f"/api/v1/releases/{release_id}/render").status_code == 202  # offered again
            rendered = client.get(f"/api/v1/releases/{release_id}").json()
            assert rendered["status"] == "rendered" and rendered["render_error"] is None
            review = scene["approver"].get(f"/api/v1/releases/{release_id}/review")
            assert hashlib.sha256(review.content).hexdigest() == rendered["release_sha256"]
            [kept] = copies.iterdir()  # the new copy alone: no partial file, no lock file left
            assert sha256_of(kept) == rendered["release_sha256"]
    finally:
        restarted.close()
    assert ("release.render_interrupted", "system", PURPOSE, "failure") in audited(runtime, release_id)
    with runtime.database.session() as db:
        [record] = audit.search(db, query=audit.AuditQuery(action="release.render_interrupted"))
    assert json.loads(record.details)["partial_bytes_removed"] > 0


def test_a_release_of_an_evidence_export_leaves_the_bag_exactly_as_it_was(runtime, scene):
    clerk = scene["clerk"]
    exported = clerk.post(f"/api/v1/cameras/{scene['camera_id']}/exports", json={
        "start": scene["started"].isoformat(), "end": scene["ended"].isoformat(), "case_number": "2026-000871",
        "purpose": "Evidence for the collision on Main", "purpose_category": "5400"})
    assert exported.status_code == 201, exported.text
    export = exported.json()
    bag = runtime.settings.data_dir / "exports" / export["path"]
    before = {path.relative_to(bag): hashlib.sha256(path.read_bytes()).hexdigest() for path in bag.rglob("*") if path.is_file()}
    (payload,) = (bag / "data").glob("*.mp4")

    release = clerk.post("/api/v1/releases", json={"records_request_number": "PRR-2026-0118", "requester": "A resident",
                                                   "purpose": PURPOSE, "export_id": export["id"]})
    assert release.status_code == 201, release.text
    assert release.json()["original_sha256"] == hashlib.sha256(payload.read_bytes()).hexdigest()
    assert clerk.post(f"/api/v1/releases/{release.json()['id']}/render").status_code == 202
    rendered = clerk.get(f"/api/v1/releases/{release.json()['id']}").json()
    assert rendered["status"] == "rendered" and rendered["redactions"]["plates"]["frames"] == rendered["redactions"]["frames"]

    after = {path.relative_to(bag): hashlib.sha256(path.read_bytes()).hexdigest() for path in bag.rglob("*") if path.is_file()}
    assert after == before
    verified = clerk.get(f"/api/v1/exports/{export['id']}/verify").json()
    assert verified["ok"] and verified["problems"] == []
