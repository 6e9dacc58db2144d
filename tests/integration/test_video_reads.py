"""Plate reads from live video: a real simulated RTSP camera, real ffmpeg, the real reader, reads stored once per pass."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import cv2
import pytest
from sqlalchemy import select
from factories import make_camera
from support import wait_until_async

from rtcc.alpr.hotlists import HotlistCache
from rtcc.alpr.models import PlateRead
from rtcc.alpr.video.consumer import CameraPlateReader, PlateReadingSupervisor
from rtcc.video.pipeline.recording_supervisor import RecordingSupervisor

PASSES = 2  # vehicle passes stored before the reading stops: enough to tell one read per pass from one per frame
READ_DEADLINE_S = 60


@pytest.fixture
def database_url(tmp_path):
    """SQLite only: this test is about video, and ingest is tested on PostgreSQL elsewhere."""
    return f"sqlite:///{tmp_path / 'rtcc.sqlite3'}"


def test_live_camera_plates_are_read_once_per_pass_and_stored_with_crops(runtime, simulated):
    camera_id = make_camera(runtime, name="Main St ALPR", reads_plates=True, main_stream_url=simulated.urls[0],
                            sub_stream_url=simulated.sub_urls[0])
    worker = CameraPlateReader(runtime=runtime, hotlists=HotlistCache(), camera_id=camera_id,
                               url=simulated.sub_urls[0], source="sub", fps=2)

    async def scenario() -> tuple[float, float]:
        task = asyncio.create_task(worker.run())
        started, cpu_started = time.monotonic(), time.process_time()
        try:
            await wait_until_async(lambda: worker.passes_stored >= PASSES, timeout=READ_DEADLINE_S, poll=0.5,
                                   what=lambda: f"{PASSES} vehicle passes stored: {worker.stats()}")
        finally:
            await worker.stop()
            await asyncio.wait_for(task, timeout=15)
        return time.process_time() - cpu_started, time.monotonic() - started

    cpu_seconds, read_seconds = asyncio.run(scenario())
    with runtime.database.read_session() as db:
        reads = db.execute(select(PlateRead.plate, PlateRead.source, PlateRead.crop_path, PlateRead.direction,
                                  PlateRead.confidence).where(PlateRead.camera_id == camera_id)).all()
    truth = set(simulated.plates(1))
    correct = [read for read in reads if read.plate in truth]
    stats = worker.stats()
    print(f"\nstats={stats} cpu={cpu_seconds / read_seconds:.0%} of a core; reads={[(r.plate, r.confidence, r.direction) for r in reads]} "
          f"truth={sorted(truth)} correct={len(correct)}/{len(reads)}")
    assert stats["frames_decoded"] >= stats["frames_read"] > 0  # the motion gate reads a part of what is decoded
    assert correct, f"no stored read is a simulated plate: {[r.plate for r in reads]} vs {sorted(truth)}"
    for read in correct:
        assert read.source == "reader" and read.crop_path
        assert (runtime.settings.data_dir / read.crop_path).is_file()
    # One read per vehicle pass, not one per frame (the simulated traffic loops, so a plate may pass twice). Per
    # plate: every plate in view is read on each frame, so the whole count may exceed the frames read.
    assert max(Counter(read.plate for read in reads).values()) < stats["frames_read"]


def test_a_read_off_the_sub_stream_gets_its_crop_cut_again_from_the_main_stream_recording(runtime, simulated):
    runtime.settings.recording_enabled = True
    runtime.settings.segment_seconds = 2
    runtime.settings.recorder_reconcile_seconds = 0.5
    camera_id = make_camera(runtime, name="Main St ALPR", reads_plates=True, main_stream_url=simulated.urls[0],
                            sub_stream_url=simulated.sub_urls[0])
    worker = CameraPlateReader(runtime=runtime, hotlists=HotlistCache(), camera_id=camera_id,
                               url=simulated.sub_urls[0], source="sub", fps=2, sharpen_from_recording=True)

    async def scenario() -> None:
        await runtime.bus.start()
        recorder = RecordingSupervisor(runtime)
        recording = asyncio.create_task(recorder.run())
        reading = asyncio.create_task(worker.run())
        try:
            await wait_until_async(lambda: worker.crops_sharpened >= 1, timeout=45, poll=0.5,
                                   what=lambda: f"a crop cut from the recording: {worker.stats()}")
        finally:  # the reader's and the recorder's ffmpeg end whatever happened
            await worker.stop()
            await asyncio.wait_for(reading, timeout=20)
            await recorder.stop()
            recording.cancel()
            await runtime.bus.stop()

    asyncio.run(scenario())
    with runtime.database.read_session() as db:
        reads = db.execute(select(PlateRead.plate, PlateRead.crop_path).where(PlateRead.camera_id == camera_id)).all()
    sharpened = [read for read in reads if read.crop_path and read.crop_path.endswith("_main.jpg")]
    assert sharpened, f"no crop was cut from the recording: {worker.stats()} {reads}"
    from rtcc.alpr.reader import PlateReader

    reader = PlateReader()
    compared = 0
    for read in sharpened:
        main = cv2.imread(str(runtime.settings.data_dir / read.crop_path))
        sub = cv2.imread(str(runtime.settings.data_dir / read.crop_path.replace("_main.jpg", ".jpg")))
        assert main is not None and sub is not None  # the sub-stream crop is kept beside it
        on_main = {found.plate: found.box for found in reader.read_image(main)}
        on_sub = {found.plate: found.box for found in reader.read_image(sub)}
        assert read.plate in on_main, (read.plate, list(on_main))
        if read.plate in on_sub:  # 720 lines against 360: the plate has about twice the pixels each way
            # Measured by the reader's box width: its height on a crop as small as the sub-stream's is loose (1.15-1.6x
            # the sub-stream box's in five runs, which failed this test three times), the width 1.67-2.08x.
            assert on_main[read.plate][2] >= 1.5 * on_sub[read.plate][2], (read.plate, on_main[read.plate], on_sub[read.plate])
            compared += 1
    assert compared, "no sub-stream crop of a sharpened read could be read to compare"


def test_supervisor_reads_only_cameras_that_read_plates(runtime):
    opted_in = make_camera(runtime, reads_plates=True, groups=["downtown"], main_stream_url="rtsp://127.0.0.1:9/main",
                           sub_stream_url="rtsp://127.0.0.1:9/sub")
    make_camera(runtime, groups=["downtown"], main_stream_url="rtsp://127.0.0.1:9/other")
    # The "alpr" group only scopes who sees a camera now; it no longer switches plate reading on.
    make_camera(runtime, groups=["alpr"], main_stream_url="rtsp://127.0.0.1:9/group-only")
    main_only = make_camera(runtime, reads_plates=True, main_stream_url="rtsp://127.0.0.1:9/solo")
    wanted = PlateReadingSupervisor(runtime, HotlistCache())._wanted()
    assert set(wanted) == {opted_in, main_only}
    assert wanted[opted_in][:2] == ("rtsp://127.0.0.1:9/sub", "sub")
    assert wanted[opted_in][4] is runtime.settings.recording_enabled  # recorded continuously: crops are cut again
    assert wanted[main_only][:2] == ("rtsp://127.0.0.1:9/solo", "main")
