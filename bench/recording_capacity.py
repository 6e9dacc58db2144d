"""Recording cost: CPU per stream-copied RTSP stream, and whether 2 cores keep up with 50 streams.

Serves N simulated RTSP cameras (loop mode: pre-encoded, no encoding cost in the server), records
them all with the real recorder for a while, and reads the CPU time of the recorder's ffmpeg
processes from /proc. Prints one JSON object. Targets (issue 3): <= 2% of one core per stream,
>= 50 streams on 2 cores.
"""

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from measure import free_port  # bench/ is the script's folder
from rtcc.auth import service as accounts
from rtcc.cameras import service as cameras
from rtcc.core.actor import SYSTEM
from rtcc.settings import Settings
from rtcc.core.runtime import build_runtime
from rtcc.sim.cameras import SimulatedCameras
from rtcc.video.models import RecordingSegment
from rtcc.video.pipeline.recording_supervisor import RecordingSupervisor

STREAMS = int(sys.argv[1]) if len(sys.argv) > 1 else 50
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 45
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (and its reaped children) from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / TICKS


def ffmpeg_pids() -> list[int]:
    own = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if command and command[0].endswith(b"ffmpeg") and f"PPid:\t{own}\n" in status:
                found.append(int(entry.name))
    return found


def main() -> None:
    with tempfile.TemporaryDirectory() as directory, SimulatedCameras(STREAMS, free_port(), mode="loop") as sim:
        # Simulated cameras stream on loopback, which production refuses unless the camera network is named.
        runtime = build_runtime(Settings(data_dir=Path(directory), segment_seconds=6, recorder_reconcile_seconds=1,
                                         camera_network_allowlist=["127.0.0.0/8"]))
        runtime.database.upgrade()
        with runtime.database.session() as db:
            accounts.ensure_agency(db, runtime=runtime, ori="CA0199900", name="bench")
            for index, url in enumerate(sim.urls, start=1):
                cameras.create_camera(db, runtime=runtime, actor=SYSTEM, agency_ori="CA0199900", values={
                    "name": f"bench {index}", "kind": "city_fixed", "latitude": 34.09, "longitude": -118.36, "main_stream_url": url})
        server_before = cpu_seconds(sim.pid)

        async def scenario() -> dict:
            await runtime.bus.start()
            supervisor = RecordingSupervisor(runtime)
            task = asyncio.create_task(supervisor.run())
            await asyncio.sleep(12)  # connect and settle
            pids = ffmpeg_pids()
            before = {pid: cpu_seconds(pid) for pid in pids}
            started = time.monotonic()
            await asyncio.sleep(SECONDS)
            elapsed = time.monotonic() - started
            used = [cpu_seconds(pid) - before[pid] for pid in pids if Path(f"/proc/{pid}").exists()]
            recording = sum(recorder.status.state == "recording" for _, recorder, _ in supervisor.recorders.values())
            stopping = time.monotonic()
            await supervisor.stop()
            stop_seconds = time.monotonic() - stopping
            task.cancel()
            await runtime.bus.stop()
            return {"elapsed": elapsed, "used": used, "recording": recording, "processes": len(pids),
                    "stop_seconds": stop_seconds, "left_running": len(ffmpeg_pids())}

        result = asyncio.run(scenario())
        with runtime.database.session() as db:
            per_camera = {}
            for segment in db.query(RecordingSegment):
                per_camera[segment.camera_id] = per_camera.get(segment.camera_id, 0) + segment.duration_s
        used = sorted(result["used"])
        per_stream = [100 * seconds / result["elapsed"] for seconds in used]
        print(json.dumps({
            "benchmark": "recording_capacity",
            "streams": STREAMS,
            "measured_seconds": round(result["elapsed"], 1),
            "recorder_processes": result["processes"],
            "streams_recording_at_end": result["recording"],
            "cpu_percent_of_one_core_per_stream_median": round(per_stream[len(per_stream) // 2], 2) if per_stream else None,
            "cpu_percent_of_one_core_per_stream_max": round(max(per_stream), 2) if per_stream else None,
            "cpu_percent_of_one_core_all_recorders": round(sum(per_stream), 1),
            "cameras_with_video": len(per_camera),
            "recorded_seconds_per_camera_min": round(min(per_camera.values()), 1) if per_camera else 0,
            "stop_all_seconds": round(result["stop_seconds"], 1),
            "recorders_left_running_after_stop": result["left_running"],
            "sim_server_cpu_percent": round(100 * (cpu_seconds(sim.pid) - server_before) / (result["elapsed"] + 12), 1),
            "target_cpu_percent_per_stream": 2.0,
            "target_streams": 50,
        }))


if __name__ == "__main__":
    main()
