"""A stream whose codec MP4 cannot hold is reported as unsupported_codec; nothing crashes."""

import asyncio
import subprocess

from rtcc.video.recording.recorder import CameraRecorder
from rtcc.video.recording.storage import SegmentStore


def test_an_unsupported_codec_is_named_in_the_status(tmp_path):
    source = tmp_path / "raw.avi"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=5", "-t", "2",
                    "-c:v", "rawvideo", "-pix_fmt", "yuv420p", "-f", "avi", str(source)], check=True)
    statuses = []

    async def on_segment(segment):
        raise AssertionError("nothing should be recorded from an unsupported codec")

    async def on_status(camera_id, status):
        statuses.append(status)

    async def scenario():
        recorder = CameraRecorder(camera_id=1, url=f"file://{source}", store=SegmentStore(tmp_path / "media"),
                                  segment_seconds=1, on_segment=on_segment, on_status=on_status)
        task = asyncio.create_task(recorder.run())
        for _ in range(50):
            await asyncio.sleep(0.1)
            if any(s.state == "offline" for s in statuses):
                break
        await recorder.stop()
        await task

    asyncio.run(scenario())
    offline = [s for s in statuses if s.state == "offline"]
    assert offline and offline[0].detail.startswith("unsupported_codec"), statuses
