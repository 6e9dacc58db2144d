"""A database another connection keeps locked: segments and plate reads wait, retry, and are all stored once it frees."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from factories import make_camera

from rtcc.alpr.hotlists import HotlistCache
from rtcc.alpr.models import PlateRead as StoredRead
from rtcc.alpr.reader.reader import PlateRead
from rtcc.alpr.video.passes import MotionGate, PlateTracker
from rtcc.alpr.video.consumer import CameraPlateReader
from rtcc.core import clock
from rtcc.core.database import run_write
from rtcc.video.models import RecordingSegment
from rtcc.video.pipeline.recording_supervisor import RecordingSupervisor, media_store

LOCK_TIMEOUT_MS = 200  # PostgreSQL: how long a writer waits for a locked table before it errors (SQLite: busy timeout)


@pytest.fixture
def database_url(database_url, monkeypatch):
    # PostgreSQL writers would wait for a lock for ever; a lock_timeout makes them meet the error SQLite's do.
    monkeypatch.setenv("PGOPTIONS", f"-c lock_timeout={LOCK_TIMEOUT_MS}")
    return database_url


@pytest.fixture
def settings(settings):
    settings.sqlite_busy_timeout_ms = LOCK_TIMEOUT_MS
    settings.database_write_attempts = 2  # give up quickly, so the items must be kept and retried later
    settings.database_write_backoff_max_ms = 20
    settings.segment_seconds = 1
    settings.recorder_reconcile_seconds = 0.5
    settings.stream_io_timeout_seconds = 3
    return settings


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("clips") / "street.mp4"
    result = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=10",
                             "-t", "10", "-c:v", "libx264", "-g", "10", "-pix_fmt", "yuv420p", str(path)], capture_output=True)
    assert result.returncode == 0, result.stderr[-300:]
    return path


@contextlib.contextmanager
def database_locked(runtime, *tables: str):
    """Another connection holds the write lock (SQLite) or these tables (PostgreSQL) until the block ends."""
    if runtime.database.dialect == "sqlite":
        holder = sqlite3.connect(make_url(runtime.settings.effective_database_url).database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_engine(runtime.settings.effective_database_url)
    try:
        with engine.connect() as holder:
            holder.execute(text(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE"))
            yield
            holder.rollback()
    finally:
        engine.dispose()


async def wait_until(condition, *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not await asyncio.to_thread(condition):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def indexed_paths(runtime) -> set[str]:
    with runtime.database.read_session() as db:
        return set(db.execute(select(RecordingSegment.path)).scalars())


def segment_files(runtime, camera_id: int) -> set[str]:
    """Every placed segment file of the camera on disk (incoming/ holds the ones still being written)."""
    store = media_store(runtime)
    return {str(path.relative_to(store.root)) for path in store.camera_dir(camera_id).glob("*/*.mp4")
            if path.parent.name != "incoming"}


def test_segments_that_close_while_the_database_is_locked_are_indexed_once_it_frees(runtime, signed_in_as, clip):
    runtime.settings.recording_enabled = True
    camera_id = make_camera(runtime, name="Main St", main_stream_url=f"file://{clip}")
    before = clock.utcnow()
    health_while_locked = {}

    async def scenario():
        await runtime.bus.start()
        supervisor = RecordingSupervisor(runtime)
        task = asyncio.create_task(supervisor.run())
        await wait_until(lambda: len(indexed_paths(runtime)) >= 1, seconds=30, what="a first indexed segment")
        with database_locked(runtime, "recording_segments", "cameras"):
            # Segments keep closing while every write fails: at least two of them are on disk, not in the index.
            await wait_until(lambda: len(segment_files(runtime, camera_id) - indexed_paths(runtime)) >= 2,
                             seconds=30, what="segments closed while the database is locked")
            health_while_locked.update(health.get("/healthz").json()["writes"])
        await wait_until(lambda: segment_files(runtime, camera_id) == indexed_paths(runtime), seconds=30,
                         what="every segment on disk to be indexed")
        await supervisor.stop()
        task.cancel()
        await runtime.bus.stop()

    health, _ = signed_in_as("analyst")
    asyncio.run(scenario())
    after = clock.utcnow()

    assert health_while_locked["pending"]["segments"] >= 1 and health_while_locked["failures"] >= 1
    on_disk = segment_files(runtime, camera_id)
    assert len(on_disk) >= 4
    assert on_disk == indexed_paths(runtime), "a segment on disk is missing from the index"
    assert not list((media_store(runtime).camera_dir(camera_id) / "incoming").glob("*.mp4"))
    assert health.get("/healthz").json()["writes"]["pending"] == {}
    recorded = health.get(f"/api/v1/cameras/{camera_id}/recordings",
                          params={"start": before.isoformat(), "end": after.isoformat()}).json()
    assert recorded["segments"] == len(on_disk)
    assert len(recorded["spans"]) == 1, f"playback has gaps where video exists: {recorded['spans']}"


class NumberedPlates:
    """Stands in for the plate model only: each frame it is shown holds the next plate, with a box."""

    def __init__(self):
        self.plates: list[str] = []

    def read_image(self, pixels):
        plate = f"TST{len(self.plates):04d}"
        self.plates.append(plate)
        return [PlateRead(plate=plate, confidence=0.99, box=(20, 20, 120, 50), region="us")]


def test_plate_reads_from_video_while_the_database_is_locked_are_all_stored_once_it_frees(runtime, clip):
    camera_id = make_camera(runtime, name="Main St", main_stream_url=f"file://{clip}")
    model = NumberedPlates()
    # A pass ends when its plate is gone for 0.3 s: every 0.5 s frame ends the previous frame's pass and stores it.
    worker = CameraPlateReader(runtime=runtime, hotlists=HotlistCache(), camera_id=camera_id, url=f"file://{clip}",
                               fps=2, reader=model, tracker=PlateTracker(gap_seconds=0.3),
                               gate=MotionGate(read_at_least_every=1))

    async def scenario():
        task = asyncio.create_task(worker.run())
        await wait_until(lambda: worker.passes_stored >= 1, seconds=30, what="a first stored read")
        with database_locked(runtime, "plate_reads", "seen_plates", "audit_records", "audit_chain_head"):
            await wait_until(lambda: worker.store_failures >= 3, seconds=30, what="reads refused by the locked database")
        await wait_until(lambda: not runtime.database.write_health.counts()["pending"], seconds=30,
                         what="the kept reads to be stored")
        await worker.stop()
        await asyncio.wait_for(task, timeout=15)

    asyncio.run(scenario())
    with runtime.database.read_session() as db:
        stored = db.execute(select(StoredRead.plate).where(StoredRead.camera_id == camera_id)).scalars().all()
    assert len(model.plates) >= 5
    assert sorted(stored) == sorted(model.plates), "a plate read was lost to the locked database"


def test_a_write_that_meets_a_lock_or_a_deadlock_is_tried_again_and_succeeds(runtime):
    """SQLite: a write lock held past the busy timeout. PostgreSQL: two writers deadlock and the server fails one."""
    first, second = make_camera(runtime, name="Main St", main_stream_url="rtsp://127.0.0.1:9/one"), make_camera(runtime, name="Main St", main_stream_url="rtsp://127.0.0.1:9/two")
    runtime.settings.database_write_attempts = 10
    both_hold_their_first_row = threading.Barrier(2)
    tries = []

    def rename_both(db, order):
        tries.append(order)
        for number, camera_id in enumerate(order):
            db.execute(text("UPDATE cameras SET name = name || '!' WHERE id = :id"), {"id": camera_id})
            if number == 0 and len(tries) <= 2 and runtime.database.dialect != "sqlite":
                both_hold_their_first_row.wait(timeout=10)  # then each asks for the other's row: a deadlock

    async def scenario():
        writes = [asyncio.to_thread(run_write, runtime.database, lambda db, order=order: rename_both(db, order),
                                    what="rename") for order in ((first, second), (second, first))]
        if runtime.database.dialect != "sqlite":
            return await asyncio.gather(*writes, return_exceptions=True)
        with database_locked(runtime):
            running = [asyncio.ensure_future(write) for write in writes]
            await wait_until(lambda: runtime.database.write_health.counts()["retries"] >= 2, seconds=30,
                             what="both writes to meet the lock")
        return await asyncio.gather(*running, return_exceptions=True)

    results = asyncio.run(scenario())
    assert results == [None, None], results
    assert runtime.database.write_health.counts()["retries"] >= 1
    assert runtime.database.write_health.counts()["failures"] == 0
    with runtime.database.read_session() as db:
        names = db.execute(text("SELECT name FROM cameras WHERE id IN (:a, :b)"), {"a": first, "b": second}).scalars().all()
    assert names == ["Main St!!", "Main St!!"]


def test_a_read_or_call_the_locked_database_cannot_store_is_refused_503_retry_after_and_its_resend_stored_once(
        runtime, signed_in_as):
    device, _ = signed_in_as("operator")
    read = {"reads": [{"plate": "7BUSY01", "read_at": clock.iso(clock.utcnow()), "confidence": 0.9,
                       "device_id": "gate-1", "read_id": "busy-1"}]}
    call = {"call_id": "BUSY-1", "type": "shots fired", "priority": 1, "latitude": 34.09, "longitude": -118.36,
            "received_at": clock.iso(clock.utcnow())}
    with database_locked(runtime, "plate_reads", "seen_plates", "cad_calls", "incidents", "audit_records",
                         "audit_chain_head"):
        refused = [device.post("/api/v1/alpr/reads", json=read), device.post("/api/v1/cad/calls", json=call)]
    for answer in refused:
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == str(runtime.settings.busy_retry_after_seconds)
    with runtime.database.read_session() as db:
        assert db.execute(select(StoredRead.id).where(StoredRead.plate == "7BUSY01")).first() is None

    # The device resends as told: stored now, and once however often it resends.
    assert device.post("/api/v1/alpr/reads", json=read).json()["stored"] == 1
    assert device.post("/api/v1/alpr/reads", json=read).json()["duplicates"] == 1
    assert device.post("/api/v1/cad/calls", json=call).status_code in (200, 201, 202)
    with runtime.database.read_session() as db:
        assert len(db.execute(select(StoredRead.id).where(StoredRead.plate == "7BUSY01")).all()) == 1


def test_a_read_published_over_mqtt_while_the_database_is_locked_is_stored_once_it_frees(runtime):
    """An MQTT message has no one to resend it: the subscriber waits the lock out instead of dropping it."""
    import json
    import os
    import uuid

    import paho.mqtt.publish as publish
    from fastapi.testclient import TestClient
    from support import wait_until as wait_until_sync

    from rtcc.app import create_app

    mqtt_url = os.environ.get("RTCC_TEST_MQTT_URL", "mqtt://127.0.0.1:1883")
    runtime.settings.mqtt_url = mqtt_url
    runtime.settings.mqtt_frigate_topic = f"frigate/test-{uuid.uuid4().hex[:8]}/events"
    runtime.settings.database_write_attempts = 50  # more tries than the lock below lasts
    plate = f"7MQ{uuid.uuid4().hex[:4].upper()}"
    message = json.dumps({"reads": [{"plate": plate, "read_at": clock.iso(clock.utcnow()), "device_id": "gate-9",
                                     "read_id": plate, "confidence": 0.9}]})
    host, port = mqtt_url.split("//")[1].split(":")

    def stored() -> bool:
        with runtime.database.read_session() as db:
            return db.execute(select(StoredRead.id).where(StoredRead.plate == plate)).first() is not None

    with TestClient(create_app(runtime=runtime)) as client:
        subscriber = client.app.state.mqtt_reads
        wait_until_sync(lambda: subscriber.stats.connected, timeout=15, what="the MQTT subscriber to connect")
        with database_locked(runtime, "plate_reads", "seen_plates", "plate_alerts"):
            publish.single(f"rtcc/alpr/rtcc/gate-{plate}", message, qos=1, hostname=host, port=int(port))
            wait_until_sync(lambda: runtime.database.write_health.counts()["retries"] >= 1, timeout=15,
                            what="the subscriber to meet the locked database")
        wait_until_sync(stored, timeout=30, what="the read to be stored once the database freed")
