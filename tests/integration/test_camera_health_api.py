"""The health board: each camera's status and uptime, and the city-wide 'cameras working' figure."""

from datetime import timedelta

from rtcc.cameras.models import Camera
from rtcc.core import clock
from rtcc.video.models import RecordingSegment


def test_uptime_and_the_cameras_working_figure(runtime, signed_in_as):
    admin, _ = signed_in_as("admin")
    ids = [admin.post("/api/v1/cameras", json={"name": f"cam {n}", "kind": "city_fixed", "latitude": 1, "longitude": 1,
                                               "main_stream_url": f"rtsp://127.0.0.1:9/cam{n}"}).json()["id"] for n in range(3)]
    admin.post("/api/v1/cameras", json={"name": "shop", "kind": "private_registered", "latitude": 1, "longitude": 1})
    now = clock.utcnow()
    with runtime.database.session() as db:
        for camera_id in ids:
            db.get(Camera, camera_id).created_at = now - timedelta(days=40)
        db.get(Camera, ids[0]).status = "recording"
        db.get(Camera, ids[1]).status, db.get(Camera, ids[1]).status_detail = "offline", "unreachable: connection refused"
        db.get(Camera, ids[2]).status = "black"
        # Camera 0 recorded the last 12 hours in one-hour pieces; camera 1 only 3 days ago for a day.
        for hour in range(12):
            end = now - timedelta(hours=hour)
            db.add(RecordingSegment(camera_id=ids[0], started_at=end - timedelta(hours=1), ended_at=end, duration_s=3600,
                                    bytes=1, sha256="0" * 64, path=f"x/{hour}", created_at=now))
        db.add(RecordingSegment(camera_id=ids[1], started_at=now - timedelta(days=4), ended_at=now - timedelta(days=3),
                                duration_s=86400, bytes=1, sha256="0" * 64, path="y/0", created_at=now))
    operator, _ = signed_in_as("operator")
    report = operator.get("/api/v1/cameras/health").json()
    assert (report["cameras_streaming"], report["cameras_working"], report["working_percent"]) == (3, 1, 33.3)
    board = {camera["camera_id"]: camera for camera in report["cameras"]}
    assert board[ids[0]]["uptime_percent"] == {"24h": 50.0, "7d": 7.1, "30d": 1.7}
    assert board[ids[1]]["uptime_percent"]["24h"] == 0.0 and board[ids[1]]["uptime_percent"]["7d"] == 14.3
    assert board[ids[1]]["status_detail"].startswith("unreachable")
    assert board[ids[2]]["status"] == "black"
