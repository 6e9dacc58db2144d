"""A full recording disk: the camera says so, the video already indexed stays, other disks keep recording."""

import asyncio
import subprocess

import pytest

from rtcc.video.recording.recorder import CameraRecorder
from rtcc.video.recording.storage import SegmentStore


@pytest.fixture
def small_disk(tmp_path):
    """A real 600 KB filesystem (tmpfs), as a disk that fills up."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount_point)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"cannot mount a small tmpfs for the full-disk test (needs root): {result.stderr}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.fixture(scope="module")
def busy_clip(tmp_path_factory):
    """Noisy video (about 1 Mbit/s) so a small disk fills within seconds."""
    path = tmp_path_factory.mktemp("clips") / "noise.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=15",
                    "-vf", "noise=alls=40:allf=t", "-t", "10", "-c:v", "libx264", "-b:v", "1500k", "-g", "15",
                    "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def test_a_full_disk_is_reported_and_other_cameras_keep_recording(small_disk, tmp_path, busy_clip):
    statuses: dict[int, list[str]] = {1: [], 2: []}
    indexed: dict[int, list] = {1: [], 2: []}

    async def on_segment(segment):
        indexed[segment.camera_id].append(segment)

    async def on_status(camera_id, status):
        statuses[camera_id].append(f"{status.state}: {status.detail}")

    async def scenario():
        full = CameraRecorder(camera_id=1, url=f"file://{busy_clip}", store=SegmentStore(small_disk), segment_seconds=1,
                              on_segment=on_segment, on_status=on_status)
        roomy = CameraRecorder(camera_id=2, url=f"file://{busy_clip}", store=SegmentStore(tmp_path / "big"), segment_seconds=1,
                               on_segment=on_segment, on_status=on_status)
        tasks = [asyncio.create_task(full.run()), asyncio.create_task(roomy.run())]
        await asyncio.sleep(9)
        await full.stop()
        await roomy.stop()
        await asyncio.gather(*tasks)

    asyncio.run(scenario())
    assert any("disk_full" in status for status in statuses[1]), statuses[1]
    assert indexed[1], "what fitted on the disk before it filled was indexed"
    assert len(indexed[2]) >= 5 and not any("disk_full" in status for status in statuses[2])
    for segment in indexed[1]:
        assert (small_disk / segment.path).stat().st_size == segment.bytes  # indexed video is intact
