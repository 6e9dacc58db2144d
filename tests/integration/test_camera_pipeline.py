"""The camera pipeline in `rtcc serve`: every ffmpeg it starts is RTCC_FFMPEG_PATH's, and a camera that records,
is watched for health and reads plates runs two ffmpeg processes (its recorder and one sub-stream decoder)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import support

from rtcc.cameras import service as cameras
from rtcc.core.actor import SYSTEM
from rtcc.settings import Settings
from rtcc.core.runtime import build_runtime
from rtcc.sim.cameras import SimulatedCameras
from rtcc.sim.city import seed_city
from rtcc.video.models import RecordingSegment

sys.path.insert(0, str(Path(__file__).parents[1] / "e2e"))
from browser_support import LIVE_CAMERA, SIMULATED_CAMERA_NETWORK, serving


def processes() -> dict[int, tuple[int, list[str], str]]:
    """Every process now: pid -> (parent pid, command line, executable), read from /proc as `ps` would."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = [part.decode() for part in (entry / "cmdline").read_bytes().split(b"\0") if part]
            executable = os.readlink(entry / "exe")
        except (OSError, IndexError, ValueError):
            continue
        found[int(entry.name)] = (ppid, command, executable)
    return found


def ffmpeg_descendants(root_pid: int, table: dict) -> dict[int, tuple[list[str], str]]:
    """The ffmpeg-family processes (ffmpeg, ffprobe) under root_pid (any depth): pid -> (command line, executable)."""
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, stack = {}, list(children.get(root_pid, []))
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        _, command, executable = table[pid]
        # An ffprobe counts too (it must not run at all: segment durations are read from their boxes).
        if command and any(name in Path(command[0]).name or name in Path(executable).name for name in ("ffmpeg", "ffprobe")):
            found[pid] = (command, executable)
    return found


def server_pid(data_dir: Path) -> int:
    for pid, (_, command, _) in processes().items():
        if "rtcc.cli" in command and "serve" in command and str(data_dir) in command:
            return pid
    raise AssertionError("the server process was not found")


def test_every_ffmpeg_runs_the_configured_copy_and_a_camera_runs_at_most_two(tmp_path):
    copy = tmp_path / "bin" / "rtcc-test-ffmpeg"
    copy.parent.mkdir()
    shutil.copy2(shutil.which("ffmpeg"), copy)
    data_dir = tmp_path / "data"
    with SimulatedCameras(1, 0, mode="live", cache_dir=tmp_path / "sim") as simulated:
        runtime = build_runtime(Settings(data_dir=data_dir, camera_network_allowlist=[SIMULATED_CAMERA_NETWORK]))
        try:
            runtime.database.upgrade()
            values = {**LIVE_CAMERA, "main_stream_url": simulated.urls[0], "sub_stream_url": simulated.sub_urls[0],
                      "reads_plates": True}
            with runtime.database.session() as db:
                agency, _ = seed_city(db, runtime=runtime)
                camera_id = cameras.create_camera(db, runtime=runtime, actor=SYSTEM, agency_ori=agency.ori, values=values).id
            env = {"RTCC_FFMPEG_PATH": str(copy), "RTCC_SEGMENT_SECONDS": "2", "RTCC_RECORDER_RECONCILE_SECONDS": "1",
                   "RTCC_CAMERA_NETWORK_ALLOWLIST": json.dumps([SIMULATED_CAMERA_NETWORK])}
            server_log = tmp_path / "server.log"
            with serving(data_dir, server_log, env=env):
                root = server_pid(data_dir)
                seen: dict[int, tuple[list[str], str]] = {}
                most_streams = 0

                def sample() -> None:
                    nonlocal most_streams
                    now = ffmpeg_descendants(root, processes())
                    seen.update(now)
                    # Stream children read the camera; a still cut from the recording (plate crops) reads a file.
                    most_streams = max(most_streams, sum(1 for command, _ in now.values()
                                                         if any(part.startswith("rtsp://") for part in command)))

                def recorded_and_decoding() -> bool:
                    sample()
                    with runtime.database.session() as db:
                        segments = db.query(RecordingSegment).filter_by(camera_id=camera_id).count()
                    return segments >= 3 and most_streams >= 2

                support.wait_until(recorded_and_decoding, timeout=90, poll=0.5, what=lambda: (
                    f"3 segments and the camera's decoder: {sorted(seen)} {server_log.read_text()[-3000:]}"))
                until = time.monotonic() + 10  # a while longer: restarts or a second decoder would show here
                while time.monotonic() < until:
                    sample()
                    time.sleep(0.3)
        finally:
            runtime.close()

    assert seen, "the server started no ffmpeg"
    for pid, (command, executable) in seen.items():
        assert command[0] == str(copy) and Path(executable) == copy.resolve(), (pid, command[:3], executable)
    assert most_streams == 2, f"the camera ran {most_streams} ffmpeg processes at once (recorder + one decoder is 2)"
    recorders = [command for command, _ in seen.values() if "segment" in " ".join(command)]
    decoders = [command for command, _ in seen.values() if "rawvideo" in command]
    assert recorders and decoders
    # The one decoder serves plates (640x360 colour at 2 fps) and health (resized from it): no 64x36 decoder runs.
    assert {command[command.index("-vf") + 1] for command in decoders} == {"fps=2.0,scale=640:360"}
