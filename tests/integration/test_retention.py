"""Video retention: age and disk quota enforced, holds and exports respected, receipts written."""

from datetime import timedelta

from rtcc.core import clock
from rtcc.governance.retention import engine
from rtcc.governance.retention.models import DeletionReceipt, LegalHold
from rtcc.video.models import EvidenceExport, RecordingSegment
from rtcc.video.pipeline.recording_supervisor import media_store

HOUR = timedelta(hours=1)


def make_segments(runtime, camera_id, hours_ago: list[float], size=1000):
    """Segment files on disk and in the index, each 6 s long, ending `hours_ago` hours before now."""
    store = media_store(runtime)
    now = clock.utcnow()
    with runtime.database.session() as db:
        for n, age in enumerate(hours_ago):
            relative = f"cam{camera_id}/test/{camera_id}_{n}.mp4"
            path = store.root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\0" * size)
            ended = now - timedelta(hours=age)
            db.add(RecordingSegment(camera_id=camera_id, started_at=ended - timedelta(seconds=6), ended_at=ended,
                                    duration_s=6, bytes=size, sha256="0" * 64, path=relative, created_at=now))


def remaining(runtime):
    with runtime.database.session() as db:
        return sorted((s.camera_id, round((clock.utcnow() - s.ended_at) / HOUR)) for s in db.query(RecordingSegment))


def purge(runtime):
    """The engine's video classes; what this run's receipts list per camera and reason."""
    with runtime.database.session() as db:
        before = max([r.id for r in db.query(DeletionReceipt)], default=0)
    engine.run(runtime, classes=["continuous_video", "event_clips"])
    with runtime.database.session() as db:
        receipts = db.query(DeletionReceipt).filter(DeletionReceipt.id > before).all()
        return sorted((line["camera_id"], line["reason"], line["count"], line["bytes"])
                      for receipt in receipts for line in receipt.breakdown)


def test_old_video_is_deleted_with_a_receipt_unless_held(runtime):
    runtime.settings.retention_days = 2
    make_segments(runtime, 1, [1, 30, 60, 72, 100])
    make_segments(runtime, 2, [1, 72])
    now = clock.utcnow()
    with runtime.database.session() as db:
        db.add(LegalHold(kind="camera", camera_id=1, starts_at=now - timedelta(hours=101), ends_at=now - timedelta(hours=99),
                         case_number="CASE-1", reason="homicide", created_by="judge", created_at=now))
        db.add(LegalHold(kind="camera", camera_id=2, starts_at=now - timedelta(hours=80), ends_at=now - timedelta(hours=60),
                         case_number="CASE-2", reason="released", created_by="judge", created_at=now, released_at=now))
    receipts = purge(runtime)
    assert receipts == [(1, "max_age", 2, 2000), (2, "max_age", 1, 1000)]
    assert remaining(runtime) == [(1, 1), (1, 30), (1, 100), (2, 1)]
    store = media_store(runtime)
    assert not (store.root / "cam1/test/1_2.mp4").exists() and (store.root / "cam1/test/1_4.mp4").exists()
    assert purge(runtime) == []  # nothing more to do; nothing deleted twice


def test_a_camera_may_keep_video_shorter_than_the_default(runtime, signed_in_as):
    admin, _ = signed_in_as("admin")
    camera = admin.post("/api/v1/cameras", json={"name": "school", "kind": "city_fixed", "latitude": 1, "longitude": 1}).json()
    with runtime.database.session() as db:
        from rtcc.cameras.models import Camera

        db.get(Camera, camera["id"]).retention_days = 1
    make_segments(runtime, camera["id"], [2, 30])
    make_segments(runtime, 999, [30])  # a camera no longer in the registry: the default applies
    assert purge(runtime) == [(camera["id"], "max_age", 1, 1000)]


def test_over_quota_the_oldest_unprotected_video_goes_first(runtime):
    runtime.settings.video_disk_quota_gb = 3500 / 1024**3  # room for three 1000-byte segments
    make_segments(runtime, 1, [5, 4, 3, 2, 1])
    now = clock.utcnow()
    with runtime.database.session() as db:
        db.add(EvidenceExport(camera_id=1, starts_at=now - timedelta(hours=5, minutes=1), ends_at=now - timedelta(hours=5) + timedelta(seconds=1),
                              case_number="C-9", purpose="robbery", requested_by="ana", created_at=now, path="x", fingerprint="0" * 64,
                              source_segments=[]))
    assert purge(runtime) == [(1, "disk_quota", 2, 2000)]
    assert remaining(runtime) == [(1, 1), (1, 2), (1, 5)]  # the exported hour-5 segment survived
    with runtime.database.session() as db:
        receipt = db.query(DeletionReceipt).one()
        assert receipt.range_start < receipt.range_end
    from rtcc.audit import service as audit

    with runtime.database.session() as db:
        assert audit.search(db, query=audit.AuditQuery(action="retention.purge"))[0].username == "system"


def test_event_only_cameras_keep_video_around_marks_and_nothing_else(runtime, signed_in_as):
    runtime.settings.event_pre_roll_seconds, runtime.settings.event_post_roll_seconds = 30, 60
    admin, _ = signed_in_as("admin")
    camera = admin.post("/api/v1/cameras", json={"name": "alley", "kind": "city_fixed", "latitude": 1, "longitude": 1,
                                                 "record_mode": "events"}).json()
    continuous = admin.post("/api/v1/cameras", json={"name": "main st", "kind": "city_fixed", "latitude": 1, "longitude": 1}).json()
    # One segment every 6 s for the last 10 minutes, on both cameras.
    now = clock.utcnow()
    store = media_store(runtime)
    with runtime.database.session() as db:
        for camera_id in (camera["id"], continuous["id"]):
            for n in range(100):
                end = now - timedelta(seconds=6 * n)
                relative = f"cam{camera_id}/ev/{n}.mp4"
                (store.root / relative).parent.mkdir(parents=True, exist_ok=True)
                (store.root / relative).write_bytes(b"\0" * 10)
                db.add(RecordingSegment(camera_id=camera_id, started_at=end - timedelta(seconds=6), ended_at=end, duration_s=6,
                                        bytes=10, sha256="0" * 64, path=relative, created_at=now))
    operator, person = signed_in_as("operator")
    mark_time = now - timedelta(minutes=5)
    marked = operator.post(f"/api/v1/cameras/{camera['id']}/marks", json={"reason": "shots fired call", "at": mark_time.isoformat()})
    assert marked.status_code == 201 and marked.json()["source"] == person.username
    receipts = purge(runtime)
    assert [(r[0], r[1]) for r in receipts] == [(camera["id"], "event_only")]
    with runtime.database.session() as db:
        kept = db.query(RecordingSegment).filter_by(camera_id=camera["id"]).all()
        others = db.query(RecordingSegment).filter_by(camera_id=continuous["id"]).count()
    assert others == 100  # continuous cameras are untouched
    # Kept: the buffer (last 120 s, a late mark may still come) and 30 s before to 60 s after the mark.
    assert all(s.ended_at > now - timedelta(seconds=121) or
               (s.ended_at > mark_time - timedelta(seconds=30) and s.started_at < mark_time + timedelta(seconds=60)) for s in kept)
    assert any(s.started_at <= mark_time <= s.ended_at for s in kept)
    future = operator.post(f"/api/v1/cameras/{camera['id']}/marks", json={"reason": "x" * 5, "at": (now + timedelta(hours=1)).isoformat()})
    assert future.status_code == 422
