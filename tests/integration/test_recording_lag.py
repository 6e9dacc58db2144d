"""Recording must not silently fall behind: the health board shows each camera's index lag and marks it degraded."""

from datetime import timedelta

import pytest

from rtcc.cameras.models import Camera
from rtcc.core import clock
from rtcc.video.models import RecordingSegment


@pytest.fixture
def recording_runtime(runtime):
    runtime.settings.recording_enabled = True
    runtime.settings.segment_seconds = 2
    yield runtime
    clock.reset()


def add_camera(admin, name: str, **extra) -> int:
    response = admin.post("/api/v1/cameras", json={"name": name, "kind": "city_fixed", "latitude": 1, "longitude": 1,
                                                   "main_stream_url": f"rtsp://127.0.0.1:9/{name}", **extra})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def index_segments_until(runtime, camera_id: int, end, count: int = 5, seconds: int = 2) -> None:
    """Segments of `seconds` each, the newest ending at `end`, as the recorder's indexer writes them."""
    with runtime.database.session() as db:
        for number in range(count):
            segment_end = end - timedelta(seconds=seconds * number)
            db.add(RecordingSegment(camera_id=camera_id, started_at=segment_end - timedelta(seconds=seconds),
                                    ended_at=segment_end, duration_s=seconds, bytes=1, sha256="0" * 64,
                                    path=f"cam{camera_id}/{number}.mp4", created_at=segment_end))


def seconds_since(moment) -> float:
    """Seconds from moment to now, rounded up as the board rounds (a loaded machine may take a while)."""
    return (clock.utcnow() - moment).total_seconds() + 0.1


def board(client) -> dict:
    report = client.get("/api/v1/cameras/health")
    assert report.status_code == 200, report.text
    return report.json()


def test_an_index_that_falls_behind_shows_as_lag_and_a_degraded_camera(recording_runtime, signed_in_as):
    runtime = recording_runtime
    admin, _ = signed_in_as("admin")
    recorded, unrecorded = add_camera(admin, "recorded"), add_camera(admin, "not-recorded", record_mode="off")
    operator, _ = signed_in_as("operator")
    newest_end = clock.utcnow()
    with runtime.database.session() as db:
        for camera_id in (recorded, unrecorded):
            camera = db.get(Camera, camera_id)
            camera.status, camera.status_changed_at = "recording", newest_end - timedelta(hours=1)
    index_segments_until(runtime, recorded, newest_end)

    report = board(operator)
    cameras = {camera["camera_id"]: camera for camera in report["cameras"]}
    assert 0 <= cameras[recorded]["recording_lag_seconds"] <= seconds_since(newest_end)
    assert cameras[recorded]["status"] == "recording"
    assert cameras[unrecorded]["recording_lag_seconds"] is None, "a camera that does not record has no lag"
    assert report["cameras_working"] == 2

    # The indexer stops (nothing new is indexed) while the camera still says it records: 30 s later...
    clock.advance(timedelta(seconds=30))
    report = board(operator)
    cameras = {camera["camera_id"]: camera for camera in report["cameras"]}
    lag = cameras[recorded]["recording_lag_seconds"]
    assert 30 <= lag <= seconds_since(newest_end)
    assert cameras[recorded]["status"] == "degraded"
    assert cameras[recorded]["status_detail"] == f"recording index is {lag:.0f} s behind"
    assert cameras[unrecorded]["status"] == "recording" and cameras[unrecorded]["recording_lag_seconds"] is None
    assert (report["cameras_working"], report["working_percent"]) == (1, 50.0)

    # Indexing catches up: working again.
    caught_up = clock.utcnow()
    index_segments_until(runtime, recorded, caught_up, count=1)
    cameras = {camera["camera_id"]: camera for camera in board(operator)["cameras"]}
    assert cameras[recorded]["status"] == "recording"
    assert cameras[recorded]["recording_lag_seconds"] <= seconds_since(caught_up)


def test_a_camera_that_just_started_recording_is_not_degraded_by_old_video(recording_runtime, signed_in_as):
    runtime = recording_runtime
    admin, _ = signed_in_as("admin")
    camera_id = add_camera(admin, "restarted")
    operator, _ = signed_in_as("operator")
    now = clock.utcnow()
    index_segments_until(runtime, camera_id, now - timedelta(hours=2))  # the server was down for two hours
    with runtime.database.session() as db:
        camera = db.get(Camera, camera_id)
        camera.status, camera.status_changed_at = "recording", now
    line = board(operator)["cameras"][0]
    if seconds_since(now) < 4:  # within the first two segment lengths of recording again (unless this box crawls)
        assert line["status"] == "recording"
    assert line["recording_lag_seconds"] >= 7200
    clock.advance(timedelta(seconds=10))  # no first segment indexed 10 s on: the index is stuck
    line = board(operator)["cameras"][0]
    assert line["status"] == "degraded" and line["status_detail"].startswith("recording index is")


def test_a_recording_camera_with_nothing_ever_indexed_is_degraded(recording_runtime, signed_in_as):
    runtime = recording_runtime
    admin, _ = signed_in_as("admin")
    camera_id = add_camera(admin, "never-indexed")
    operator, _ = signed_in_as("operator")
    with runtime.database.session() as db:
        camera = db.get(Camera, camera_id)
        camera.status, camera.status_changed_at = "recording", clock.utcnow() - timedelta(minutes=4)
    line = board(operator)["cameras"][0]
    assert line["recording_lag_seconds"] is None
    assert line["status"] == "degraded"
    assert line["status_detail"].startswith("nothing indexed in the ") and line["status_detail"].endswith(" s it has been recording")
