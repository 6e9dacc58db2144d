"""CPU cost of recording one privacy-masked camera (decode, overlay, libx264) against plain stream copy.

    python bench/privacy_mask_cost.py [--seconds 20] [--width 1280] [--height 720] [--fps 15] [--sensor-noise 0]

Both runs use the recorder's own ffmpeg command on a realtime-paced (-re) file camera holding a
testsrc2 H.264 stream; the masked run has masking_arguments spliced in place of the stream copy.
CPU is user + system time of the ffmpeg child (getrusage RUSAGE_CHILDREN) over its wall time,
in percent of one core. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from rtcc.video.analytics.privacy import STREAM_COPY_ARGUMENTS, masking_arguments, render_mask_png
from rtcc.video.recording.recorder import ffmpeg_command

# A window and a yard: about 15% of the picture.
MASK_POLYGONS = [
    [[0.05, 0.05], [0.30, 0.05], [0.30, 0.40], [0.05, 0.40]],
    [[0.60, 0.55], [0.95, 0.60], [0.90, 0.95], [0.65, 0.90]],
]


def make_camera_clip(path: Path, *, width: int, height: int, fps: int, sensor_noise: int) -> None:
    """Ten seconds of moving test pattern, encoded as a camera would (H.264, 1 s GOP)."""
    video_filter = f"noise=alls={sensor_noise}:allf=t" if sensor_noise else "null"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}",
                    "-vf", video_filter, "-t", "10", "-c:v", "libx264", "-preset", "medium", "-g", str(fps),
                    "-pix_fmt", "yuv420p", str(path)], check=True)


def cpu_percent_of_one_core(command: list[str]) -> float:
    """Run ffmpeg to completion; its CPU time over its wall time, in percent of one core."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    subprocess.run(command, check=True, stdin=subprocess.DEVNULL, capture_output=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return 100.0 * cpu / wall


def recorder_command(clip: Path, workdir: Path, seconds: float, mask_png: Path | None, fps: int) -> list[str]:
    """The recorder's command for a file:// camera, masked or not, stopped after `seconds`."""
    workdir.mkdir(parents=True, exist_ok=True)
    command = ffmpeg_command(ffmpeg="ffmpeg", url=f"file://{clip}", pattern=workdir / "seg_%05d.mp4",
                             segment_list=workdir / "segments.csv", segment_seconds=6, io_timeout_s=10)
    copy_at = next(i for i in range(len(command)) if tuple(command[i:i + len(STREAM_COPY_ARGUMENTS)]) == STREAM_COPY_ARGUMENTS)
    inputs, outputs = masking_arguments(mask_png, fps_hint=fps) if mask_png else ([], list(STREAM_COPY_ARGUMENTS))
    return [*command[:copy_at], *inputs, *outputs, "-t", str(seconds), *command[copy_at + len(STREAM_COPY_ARGUMENTS):]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--sensor-noise", type=int, default=0, help="ffmpeg noise strength added to the source (0-100)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        clip = root / "camera.mp4"
        make_camera_clip(clip, width=options.width, height=options.height, fps=options.fps, sensor_noise=options.sensor_noise)
        mask_png = render_mask_png(MASK_POLYGONS, root / "mask.png")
        copy = cpu_percent_of_one_core(recorder_command(clip, root / "copy", options.seconds, None, options.fps))
        masked = cpu_percent_of_one_core(recorder_command(clip, root / "masked", options.seconds, mask_png, options.fps))
    print(json.dumps({
        "masked_cpu_percent_of_one_core": round(masked, 1),
        "copy_cpu_percent_of_one_core": round(copy, 2),
        "ratio": round(masked / copy, 1) if copy else None,
        "stream": f"{options.width}x{options.height}@{options.fps} testsrc2 H.264, sensor_noise={options.sensor_noise}",
        "seconds": options.seconds,
    }))


if __name__ == "__main__":
    main()
