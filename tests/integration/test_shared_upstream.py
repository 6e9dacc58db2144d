"""One upstream per camera: a recorded camera's live view comes from its recorder's ffmpeg (real ffmpeg, real RTSP)."""

import asyncio
import os
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from factories import make_camera

from rtcc.cameras.models import Camera
from rtcc.cameras.service import stream_url_for_ingest
from rtcc.video.fmp4 import MediaFragment
from rtcc.video.live.registry import LiveRelayRegistry, LiveSettings
from rtcc.video.models import RecordingSegment
from rtcc.video.analytics.privacy import mask_file_for
from rtcc.video.recording.recorder import ffmpeg_command
from rtcc.video.pipeline.recording_supervisor import RecordingSupervisor, media_store


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A bright 8 s H.264 clip, a keyframe a second, for the cameras that are not the simulated one."""
    path = tmp_path_factory.mktemp("shared") / "street.mp4"
    result = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=c=0xE0C080:size=640x360:rate=15",
                             "-vf", "noise=alls=6:allf=t", "-t", "8", "-c:v", "libx264", "-g", "15", "-pix_fmt", "yuv420p",
                             str(path)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"ffmpeg is missing or broken (run scripts/media-deps.sh): {result.stderr[-300:]}")
    return path


@pytest.fixture
def recording_runtime(runtime):
    runtime.settings.recording_enabled = True
    runtime.settings.segment_seconds = 2
    runtime.settings.recorder_reconcile_seconds = 0.5
    runtime.settings.stream_io_timeout_seconds = 5
    return runtime


def ffmpeg_processes_reading(needle: str) -> int:
    """How many ffmpeg processes have `needle` (a camera URL or file) on their command line."""
    count = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command_line = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if command_line and command_line[0].endswith(b"ffmpeg") and any(needle.encode() in part for part in command_line):
            count += 1
    return count


def rtsp_sessions_to(port: int) -> int:
    """Established TCP connections to the camera's RTSP port (RTSP over TCP: one per session), as the camera counts them."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                remote_port, state = int(fields[2].rsplit(":", 1)[1], 16), fields[3]
                count += remote_port == port and state == "01"
    return count


def camera_source(runtime, camera_id: int) -> tuple[str, Path | None]:
    """The URL and mask the live endpoint computes for a camera (live_api.py does the same)."""
    with runtime.database.session() as db:
        camera = db.get(Camera, camera_id)
        return (stream_url_for_ingest(camera, runtime=runtime),
                mask_file_for(camera.id, camera.privacy_masks, runtime.settings.data_dir / "masks"))


def indexed_segments(runtime, camera_id: int) -> int:
    with runtime.database.session() as db:
        return db.query(RecordingSegment).filter_by(camera_id=camera_id).count()


async def first_items(viewer, timeout: float = 15.0) -> tuple[str, MediaFragment]:
    """The kind of the first non-status item, and the first fragment after it."""
    while True:
        kind, value = await asyncio.wait_for(viewer.next(), timeout)
        if kind != "status":
            break
    first_kind = kind
    while kind != "fragment":
        kind, value = await asyncio.wait_for(viewer.next(), timeout)
    return first_kind, value


async def wait_until(condition, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(step)
    return condition()


def test_a_recorded_camera_has_one_upstream_for_recording_and_every_viewer(recording_runtime, signed_in_as, clip):
    from rtcc.sim.cameras import SimulatedCameras

    runtime = recording_runtime
    with SimulatedCameras(1, 0, mode="live", cache_dir=runtime.settings.data_dir / "sim") as simulated:
        recorded = make_camera(runtime, name="sim 1", main_stream_url=simulated.urls[0])
        not_recorded = make_camera(runtime, name="file, not recorded", main_stream_url=f"file://{clip}", record_mode="off")
        rtsp_port = urlsplit(simulated.urls[0]).port

        async def scenario():
            registry = LiveRelayRegistry(LiveSettings(idle_stop_seconds=2))
            supervisor = RecordingSupervisor(runtime, live_relays=registry)
            supervising = asyncio.create_task(supervisor.run())
            try:
                assert await wait_until(lambda: recorded in registry.recorder_feeds, 10)
                url, mask = camera_source(runtime, recorded)
                relay = registry.get_or_start(recorded, url, mask_png=mask)
                first, second = relay.add_viewer(), relay.add_viewer()
                for viewer in (first, second):
                    kind, fragment = await first_items(viewer, timeout=20)
                    assert kind == "init" and fragment.keyframe, "a viewer starts with init, then a keyframe"
                assert registry.get_or_start(recorded, url, mask_png=mask) is relay

                # One RTSP session, one ffmpeg, though the camera is recorded and watched twice.
                assert ffmpeg_processes_reading(simulated.urls[0]) == 1
                assert rtsp_sessions_to(rtsp_port) == 1
                stats = relay.stats()
                assert stats["upstream"] == "recorder" and stats["upstream_starts"] == 0 and stats["viewers"] == 2

                # A viewer that stops reading: its queue stays bounded, recording and the other viewer go on.
                stalled = relay.add_viewer(capacity=8)
                received: list[MediaFragment] = []

                async def keep_reading():
                    while True:
                        kind, value = await first.next()
                        if kind == "fragment":
                            received.append(value)

                reading = asyncio.create_task(keep_reading())
                assert await wait_until(lambda: indexed_segments(runtime, recorded) >= 1, 15)
                segments_before = indexed_segments(runtime, recorded)
                await asyncio.sleep(6)
                reading.cancel()
                assert indexed_segments(runtime, recorded) >= segments_before + 2, "recording stalled"
                assert stalled.drops > 0 and stalled.pending_fragments() <= 8
                assert len(received) >= 30, "the reading viewer must keep getting ~10 fragments a second"
                assert ffmpeg_processes_reading(simulated.urls[0]) == 1

                # A camera that is not recorded: its own upstream, opened on demand, closed after the idle timeout.
                other_url, other_mask = camera_source(runtime, not_recorded)
                assert not_recorded not in registry.recorder_feeds
                other = registry.get_or_start(not_recorded, other_url, mask_png=other_mask)
                viewer = other.add_viewer()
                kind, fragment = await first_items(viewer)
                assert kind == "init" and fragment.keyframe
                assert other.stats()["upstream"] == "own" and other.stats()["upstream_starts"] == 1
                assert ffmpeg_processes_reading(str(clip)) == 1
                other.remove_viewer(viewer)
                assert await wait_until(lambda: not_recorded not in registry.relays, 8)
                assert await wait_until(lambda: ffmpeg_processes_reading(str(clip)) == 0, 5)
                assert ffmpeg_processes_reading(simulated.urls[0]) == 1, "recording goes on"
            finally:
                await registry.stop_all()
                await supervisor.stop()
                supervising.cancel()
            # Stopping live view never stopped the recorder; stopping the recorder ended the only session.
            assert ffmpeg_processes_reading(simulated.urls[0]) == 0

        asyncio.run(scenario())


def test_a_masked_recorded_camera_is_masked_live_too(recording_runtime, signed_in_as, clip):
    import av

    runtime = recording_runtime
    admin, _ = signed_in_as("admin")
    camera_id = make_camera(runtime, name="overlooks a yard", main_stream_url=f"file://{clip}")
    top_left_quarter = [[[0, 0], [0.5, 0], [0.5, 0.5], [0, 0.5]]]
    assert admin.patch(f"/api/v1/cameras/{camera_id}", json={"privacy_masks": top_left_quarter}).status_code == 200

    async def scenario():
        registry = LiveRelayRegistry(LiveSettings(idle_stop_seconds=2))
        supervisor = RecordingSupervisor(runtime, live_relays=registry)
        supervising = asyncio.create_task(supervisor.run())
        try:
            assert await wait_until(lambda: camera_id in registry.recorder_feeds, 10)
            url, mask = camera_source(runtime, camera_id)
            assert mask is not None
            relay = registry.get_or_start(camera_id, url, mask_png=mask)
            viewer = relay.add_viewer()
            kind, init = await asyncio.wait_for(viewer.next(), 20)
            while kind != "init":
                kind, init = await asyncio.wait_for(viewer.next(), 20)
            _, fragment = await first_items(viewer)
            assert await wait_until(lambda: indexed_segments(runtime, camera_id) >= 1, 15)
            assert relay.stats()["upstream"] == "recorder" and ffmpeg_processes_reading(str(clip)) == 1
            return init.data + fragment.data
        finally:
            await registry.stop_all()
            await supervisor.stop()
            supervising.cancel()

    movie = asyncio.run(scenario())
    path = runtime.settings.data_dir / "live.mp4"
    path.write_bytes(movie)
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="bgr24")
    assert frame.shape[:2] == (360, 640)
    assert frame[10:170, 10:310].max() <= 16, "masked pixels reached live view"
    assert frame[200:350, 330:630].mean() > 100
    with runtime.database.session() as db:
        segment = db.query(RecordingSegment).filter_by(camera_id=camera_id).first()
    with av.open(str(media_store(runtime).absolute(segment.path))) as container:
        recorded = next(container.decode(video=0)).to_ndarray(format="bgr24")
    assert recorded[10:170, 10:310].max() <= 16, "masked pixels reached the disk"
    assert recorded[200:350, 330:630].mean() > 100


def test_a_live_branch_nobody_reads_never_holds_recording_back(clip, tmp_path):
    """The recorder's own command: stdout left unread for seconds, segments still close on time."""
    command = ffmpeg_command(ffmpeg="ffmpeg", url=f"file://{clip}", pattern=tmp_path / "seg_%05d.mp4",
                             segment_list=tmp_path / "segments.csv", segment_seconds=1, io_timeout_s=5,
                             live_fragment_ms=100)
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(6)
        listed = (tmp_path / "segments.csv").read_text().splitlines() if (tmp_path / "segments.csv").exists() else []
        assert process.poll() is None, process.stderr.read().decode()[-500:]
        assert len(listed) >= 4, f"only {len(listed)} segments closed in 6 s while the live branch was not read"
    finally:
        process.stdout.close()  # a live branch blocked on a full pipe ends when its reader goes away
        process.terminate()
        process.wait(timeout=10)
