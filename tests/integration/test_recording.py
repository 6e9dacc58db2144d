"""Recording with real ffmpeg: segments indexed as they close, playback, stills, evidence export, failures."""

import asyncio
import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from factories import make_camera
from support import wait_until, wait_until_async
from typer.testing import CliRunner

from rtcc.cameras.models import Camera
from rtcc.cli import app as cli
from rtcc.core import clock
from rtcc.video.models import RecordingSegment
from rtcc.video.recording.storage import sha256_of
from rtcc.video.pipeline.recording_supervisor import RecordingSupervisor, media_store

runner = CliRunner()


@pytest.fixture(scope="session")
def clip(tmp_path_factory) -> Path:
    """A 12 s H.264 clip with a moving test pattern, made by Debian's ffmpeg."""
    path = tmp_path_factory.mktemp("clips") / "street.mp4"
    result = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=15",
                             "-t", "12", "-c:v", "libx264", "-g", "15", "-pix_fmt", "yuv420p", str(path)], capture_output=True)
    if result.returncode != 0:
        pytest.fail(f"ffmpeg is missing or broken (run scripts/media-deps.sh): {result.stderr[-300:]}")
    return path


def segments_of(runtime, camera_id: int) -> int:
    """How many segments of a camera are indexed."""
    with runtime.database.session() as db:
        return db.query(RecordingSegment).filter_by(camera_id=camera_id).count()


def record_until(runtime, done, *, what: str, timeout: float = 40) -> None:
    """Run the recording supervisor as `rtcc serve` does until done(supervisor) holds, then stop it cleanly."""
    async def scenario():
        await runtime.bus.start()
        supervisor = RecordingSupervisor(runtime)
        task = asyncio.create_task(supervisor.run())
        try:
            await wait_until_async(lambda: done(supervisor), timeout=timeout, poll=0.25, what=what)
        finally:
            await supervisor.stop()
            task.cancel()
            await runtime.bus.stop()

    asyncio.run(scenario())


def record_segments(runtime, camera_id: int, count: int) -> None:
    """Record until `count` segments of the camera are indexed."""
    record_until(runtime, lambda _: segments_of(runtime, camera_id) >= count,
                 what=f"{count} segments of camera {camera_id} indexed")


@pytest.fixture
def recording_runtime(runtime):
    runtime.settings.recording_enabled = True
    runtime.settings.segment_seconds = 2
    runtime.settings.recorder_reconcile_seconds = 0.5
    runtime.settings.stream_io_timeout_seconds = 3
    return runtime


def test_one_bad_camera_never_stops_the_others(recording_runtime, signed_in_as, clip, tmp_path):
    runtime = recording_runtime
    good = make_camera(runtime, name="good", main_stream_url=f"file://{clip}")
    refused = make_camera(runtime, name="nobody home", main_stream_url="rtsp://127.0.0.1:9/stream")
    garbage_file = tmp_path / "garbage.mp4"
    garbage_file.write_bytes(bytes(range(256)) * 400)
    garbage = make_camera(runtime, name="garbage", main_stream_url=f"file://{garbage_file}")
    started = clock.utcnow()

    def good_recorded_and_bad_ones_failed(supervisor) -> bool:
        failed = [supervisor.recorders.get(camera_id) for camera_id in (refused, garbage)]
        return segments_of(runtime, good) >= 3 and all(entry and entry[1].status.state == "offline" for entry in failed)

    record_until(runtime, good_recorded_and_bad_ones_failed, what="3 segments of the good camera while the bad ones fail")
    with runtime.database.session() as db:
        segments = db.query(RecordingSegment).order_by(RecordingSegment.started_at).all()
        cameras = {camera.id: camera for camera in db.query(Camera)}
    assert {segment.camera_id for segment in segments} == {good}
    assert len(segments) >= 3
    store = media_store(runtime)
    for segment in segments:
        assert segment.started_at >= started - timedelta(seconds=1)
        assert 0 < segment.duration_s <= runtime.settings.segment_seconds + 1
        assert sha256_of(store.absolute(segment.path)) == segment.sha256
        assert store.absolute(segment.path).stat().st_size == segment.bytes
    assert cameras[good].status in ("recording", "stopped")
    assert cameras[refused].status == "stopped" and cameras[garbage].status == "stopped"


def test_failures_are_reported_in_the_camera_status(recording_runtime, signed_in_as, tmp_path):
    runtime = recording_runtime
    refused = make_camera(runtime, name="nobody home", main_stream_url="rtsp://127.0.0.1:9/stream")
    garbage_file = tmp_path / "garbage.mp4"
    garbage_file.write_bytes(bytes(range(256)) * 400)
    garbage = make_camera(runtime, name="garbage", main_stream_url=f"file://{garbage_file}")
    seen = {}

    async def scenario():
        await runtime.bus.start()
        supervisor = RecordingSupervisor(runtime)
        task = asyncio.create_task(supervisor.run())

        def both_offline() -> bool:
            for camera_id in (refused, garbage):
                entry = supervisor.recorders.get(camera_id)
                if entry and entry[1].status.state == "offline":
                    seen[camera_id] = entry[1].status.detail
            return refused in seen and garbage in seen

        try:
            await wait_until_async(both_offline, timeout=20, poll=0.3, what="both failing cameras to show offline")
            with runtime.database.session() as db:
                seen["stored"] = db.get(Camera, refused).status_detail
        finally:
            await supervisor.stop()
            task.cancel()

    asyncio.run(scenario())
    assert "connection refused" in seen[refused]
    assert seen[garbage].startswith("bad_stream")
    assert "connection refused" in seen["stored"]


def test_recordings_play_back_as_spans_clips_and_stills(recording_runtime, signed_in_as, clip):
    runtime = recording_runtime
    camera_id = make_camera(runtime, name="street", main_stream_url=f"file://{clip}")
    before = clock.utcnow()
    record_segments(runtime, camera_id, 3)
    after = clock.utcnow()
    analyst, _ = signed_in_as("analyst")
    window = {"start": before.isoformat(), "end": after.isoformat()}
    recorded = analyst.get(f"/api/v1/cameras/{camera_id}/recordings", params=window).json()
    assert recorded["segments"] >= 3 and len(recorded["spans"]) == 1
    span = recorded["spans"][0]

    movie = analyst.get(f"/api/v1/cameras/{camera_id}/playback", params={"start": span["start"], "end": span["end"]})
    assert movie.status_code == 200 and movie.headers["content-type"] == "video/mp4"
    probe = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries",
                            "stream=codec_name,width,nb_read_frames", "-of", "json", "-"], input=movie.content, capture_output=True)
    stream = json.loads(probe.stdout)["streams"][0]
    assert stream["codec_name"] == "h264" and stream["width"] == 640
    assert int(stream["nb_read_frames"]) >= 4 * 15  # seconds of the 15 fps source, across segment boundaries

    from datetime import datetime

    middle = datetime.fromisoformat(span["start"]) + timedelta(seconds=2)
    still = analyst.get(f"/api/v1/cameras/{camera_id}/snapshot", params={"at": middle.isoformat()})
    assert still.status_code == 200 and still.content[:2] == b"\xff\xd8"
    nothing = analyst.get(f"/api/v1/cameras/{camera_id}/snapshot", params={"at": (before - timedelta(hours=1)).isoformat()})
    assert nothing.status_code == 404 and nothing.json()["code"] == "no_recording"
    naive = analyst.get(f"/api/v1/cameras/{camera_id}/recordings", params={"start": "2026-01-01T00:00:00", "end": "2026-01-02T00:00:00"})
    assert naive.status_code == 422


def test_an_exported_clip_is_an_evidence_bag_that_verifies(recording_runtime, signed_in_as, clip):
    runtime = recording_runtime
    camera_id = make_camera(runtime, name="street", main_stream_url=f"file://{clip}")
    before = clock.utcnow()
    record_segments(runtime, camera_id, 3)
    analyst, person = signed_in_as("analyst")
    body = {"start": before.isoformat(), "end": clock.utcnow().isoformat(), "case_number": "HOM-2026-0117",
            "purpose": "homicide investigation, suspect vehicle", "purpose_category": "0900"}
    refused = analyst.post(f"/api/v1/cameras/{camera_id}/exports", json={**body, "case_number": ""})
    assert refused.status_code == 422
    created = analyst.post(f"/api/v1/cameras/{camera_id}/exports", json=body)
    assert created.status_code == 201, created.text
    export = created.json()
    bag = runtime.settings.data_dir / "exports" / export["path"]
    assert (bag / "bagit.txt").exists() and export["source_segments"] >= 3
    info = (bag / "bag-info.txt").read_text()
    assert "Case-Number: HOM-2026-0117" in info and info.count("Source-Segment-SHA256") == export["source_segments"]
    assert "Clip-Bounds: stream copy" in info  # a reader of the bag learns why the clip may start before the window

    verified = runner.invoke(cli, ["export", "verify", str(bag)])
    assert verified.exit_code == 0, verified.output
    assert analyst.get(f"/api/v1/exports/{export['id']}/verify").json()["ok"] is True
    clip_file = next((bag / "data").iterdir())
    data = bytearray(clip_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    clip_file.write_bytes(bytes(data))
    broken = runner.invoke(cli, ["export", "verify", str(bag)])
    assert broken.exit_code == 1 and clip_file.name in broken.output
    report = analyst.get(f"/api/v1/exports/{export['id']}/verify").json()
    assert report["ok"] is False and any(clip_file.name in problem for problem in report["problems"])

    from rtcc.audit import service as audit

    with runtime.database.session() as db:
        record = audit.search(db, query=audit.AuditQuery(action="video.export"))[0]
    assert record.username == person.username and record.case_number == "HOM-2026-0117"
    assert record.purpose.startswith("homicide") and export["fingerprint"] in record.details


def test_a_masked_camera_never_writes_the_masked_pixels(recording_runtime, signed_in_as, clip):
    import cv2

    runtime = recording_runtime
    admin, _ = signed_in_as("admin")
    camera_id = make_camera(runtime, name="overlooks a yard", main_stream_url=f"file://{clip}")
    top_left_quarter = [[[0, 0], [0.5, 0], [0.5, 0.5], [0, 0.5]]]
    assert admin.patch(f"/api/v1/cameras/{camera_id}", json={"privacy_masks": top_left_quarter}).status_code == 200
    record_segments(runtime, camera_id, 1)
    with runtime.database.session() as db:
        segment = db.query(RecordingSegment).filter_by(camera_id=camera_id).first()
    capture = cv2.VideoCapture(str(media_store(runtime).absolute(segment.path)))
    ok, frame = capture.read()
    capture.release()
    assert ok and frame.shape[:2] == (360, 640)
    assert frame[10:170, 10:310].max() <= 16  # inside the mask: black
    assert frame[200:350, 330:630].mean() > 40  # the rest of the picture is still there


def test_a_camera_added_with_a_simulated_rtsp_url_records_within_15_seconds_and_plays_back(runtime):
    """The fixed point, end to end through `rtcc serve`'s app: a real RTSP server, real ffmpeg."""
    from fastapi.testclient import TestClient

    from rtcc.app import create_app
    from rtcc.sim.cameras import SimulatedCameras
    from support import create_person, sign_in

    runtime.settings.recording_enabled = True
    runtime.settings.segment_seconds = 2
    runtime.settings.recorder_reconcile_seconds = 1
    with SimulatedCameras(1, 0, mode="live", cache_dir=runtime.settings.data_dir / "sim") as simulated, \
            TestClient(create_app(runtime=runtime)) as client:
        admin = sign_in(client, create_person(runtime, "root", "admin"))
        client.headers["x-csrf-token"] = admin.csrf_token
        added_at = clock.utcnow()
        response = client.post("/api/v1/cameras", json={"name": "sim 1", "kind": "city_fixed", "latitude": 34.09,
                                                         "longitude": -118.36, "main_stream_url": simulated.urls[0]})
        assert response.status_code == 201, response.text
        camera_id = response.json()["id"]
        # The promise in the name: 15 s from adding the camera to its first segment in the index.
        wait_until(lambda: segments_of(runtime, camera_id), timeout=15, poll=0.5,
                   what="a segment indexed within 15 s of adding the camera")
        assert client.get(f"/api/v1/cameras/{camera_id}").json()["status"] == "recording"
        wait_until(lambda: segments_of(runtime, camera_id) >= 2, timeout=15, poll=0.5,
                   what="a second segment, so playback crosses a segment boundary")
        client.post("/api/v1/auth/sign-out")
        client.cookies.clear()
        client.headers.pop("x-csrf-token")
        sign_in(client, create_person(runtime, "ana", "analyst"))
        window = {"start": added_at.isoformat(), "end": clock.utcnow().isoformat()}
        spans = client.get(f"/api/v1/cameras/{camera_id}/recordings", params=window).json()["spans"]
        assert spans
        movie = client.get(f"/api/v1/cameras/{camera_id}/playback", params={"start": spans[0]["start"], "end": spans[0]["end"]})
    probe = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=codec_name,width,height,nb_read_frames",
                            "-of", "json", "-"], input=movie.content, capture_output=True)
    stream = json.loads(probe.stdout)["streams"][0]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", 1280, 720)
    assert int(stream["nb_read_frames"]) > 15


def test_a_stopped_supervisor_stays_stopped(recording_runtime, signed_in_as, clip):
    """Shutdown: stop() ends recording for good, even while its reconcile loop is still scheduled."""
    runtime = recording_runtime
    make_camera(runtime, name="street", main_stream_url=f"file://{clip}")

    async def scenario():
        supervisor = RecordingSupervisor(runtime)
        loop_task = asyncio.create_task(supervisor.run())
        await wait_until_async(lambda: len(supervisor.recorders) == 1, timeout=10, what="the camera's recorder to start")
        await supervisor.stop()
        # About time: two reconcile periods and more pass, in which a loop still scheduled would start it again.
        await asyncio.sleep(2 * runtime.settings.recorder_reconcile_seconds + 1)
        return supervisor.recorders, loop_task.done()

    recorders, loop_ended = asyncio.run(scenario())
    assert recorders == {} and loop_ended
