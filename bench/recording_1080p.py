"""Recorder CPU per 1080p30 H.264 stream (~6 Mbit/s), the issue's reference stream.

Generates a 1080p30 clip once, records N copies of it as live cameras (file:// sources are paced in
real time, like a camera) with the real recorder, and reads the recorders' ffmpeg CPU from /proc.
Prints one JSON object. Target (issue 3): <= 2 % of one core per stream; plain `ffmpeg -c copy` was
measured at 0.75 % here.
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rtcc.video.recording.recorder import CameraRecorder
from rtcc.video.recording.storage import SegmentStore

STREAMS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 30
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:13]) / TICKS


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        clip = Path(directory) / "1080p30.mp4"
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30",
                        "-vf", "noise=alls=12:allf=t", "-t", "20", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "6M",
                        "-maxrate", "6M", "-bufsize", "12M", "-g", "60", "-pix_fmt", "yuv420p", str(clip)], check=True)
        bitrate = os.path.getsize(clip) * 8 / 20 / 1e6

        async def scenario() -> list[float]:
            async def ignore(*_):
                pass

            recorders = [CameraRecorder(camera_id=n, url=f"file://{clip}", store=SegmentStore(Path(directory) / "media"),
                                        segment_seconds=6, on_segment=ignore, on_status=ignore) for n in range(STREAMS)]
            tasks = [asyncio.create_task(r.run()) for r in recorders]
            await asyncio.sleep(5)
            pids = [r._process.pid for r in recorders if r._process]
            before = {pid: cpu_seconds(pid) for pid in pids}
            started = time.monotonic()
            await asyncio.sleep(SECONDS)
            elapsed = time.monotonic() - started
            used = [100 * (cpu_seconds(pid) - before[pid]) / elapsed for pid in pids]
            for recorder in recorders:
                await recorder.stop()
            await asyncio.gather(*tasks)
            return sorted(used)

        per_stream = asyncio.run(scenario())
    print(json.dumps({
        "benchmark": "recording_1080p30", "streams": STREAMS, "bitrate_mbit_s": round(bitrate, 1), "measured_seconds": SECONDS,
        "cpu_percent_of_one_core_per_stream_median": round(per_stream[len(per_stream) // 2], 2),
        "cpu_percent_of_one_core_per_stream_max": round(per_stream[-1], 2), "target_cpu_percent_per_stream": 2.0,
    }))


if __name__ == "__main__":
    main()
