"""What the recorder's ffmpeg pays for live view: its command with and without short fragments, beside bare ffmpeg.

    python bench/recording_fragments.py [--cameras 6] [--seconds 20] [--runs 4]

A recorded camera's live view is read from the segment its recorder writes (docs/live-view.md), so the
recorder writes fragmented MP4 in 100 ms fragments, flushed as each completes. This measures, side by side
on the same simulated RTSP cameras (every group runs at once and is sampled at the same instants, started in
a shuffled order), in CPU seconds per camera-minute:
- bare: `ffmpeg -rtsp_transport tcp -i URL -c copy -f segment` (the figure issue 11 compares with);
- recorder_keyframe_fragments: the recorder's exact command without live fragments (a fragment per keyframe);
- recorder_live_fragments: the recorder's exact command (100 ms fragments, flush_packets=1), as `rtcc serve` runs it;
- recorder_live_fragments_unflushed: the same without flush_packets (fragments wait in ffmpeg's 32 KiB buffer,
  which delays live view, so not an option: it splits the cost of building fragments from writing them);
- recorder_200ms_fragments: 200 ms fragments (half the writes; adds ~100 ms to live latency).
Ratios are medians of the per-window ratios over bare. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from measure import family_cpu_seconds, free_port  # noqa: E402  (bench/ is the script's folder)

SEGMENT_SECONDS = 6


def command(variant: str, url: str, out: Path) -> list[str]:
    from rtcc.video.recording.recorder import ffmpeg_command

    if variant == "bare":
        return ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "warning", "-rtsp_transport", "tcp", "-i", url,
                "-c", "copy", "-f", "segment", "-segment_time", str(SEGMENT_SECONDS), "-reset_timestamps", "1",
                "-segment_format", "mp4", str(out / "%06d.mp4")]
    fragment_ms = {"recorder_keyframe_fragments": None, "recorder_200ms_fragments": 200}.get(variant, 100)
    arguments = ffmpeg_command(ffmpeg="ffmpeg", url=url, pattern=out / "s_%06d.mp4", segment_list=out / "list.csv",
                               segment_seconds=SEGMENT_SECONDS, io_timeout_s=10, live_fragment_ms=fragment_ms)
    if variant == "recorder_live_fragments_unflushed":
        arguments = [argument.replace(":flush_packets=1", "") for argument in arguments]
    return arguments


VARIANTS = ("bare", "recorder_keyframe_fragments", "recorder_live_fragments", "recorder_live_fragments_unflushed",
            "recorder_200ms_fragments")


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--cameras", type=int, default=6)
    options.add_argument("--seconds", type=float, default=20.0)
    options.add_argument("--runs", type=int, default=4)
    arguments = options.parse_args()

    from rtcc.sim.cameras import SimulatedCameras

    with tempfile.TemporaryDirectory() as directory, \
            SimulatedCameras(arguments.cameras, free_port(), mode="loop", cache_dir=Path(directory) / "sim") as sim:
        processes: dict[str, list[subprocess.Popen]] = {variant: [] for variant in VARIANTS}
        order = [(variant, index) for variant in VARIANTS for index in range(arguments.cameras)]
        random.Random(1).shuffle(order)  # no variant always starts first
        try:
            for variant, index in order:
                out = Path(directory) / variant / str(index)
                out.mkdir(parents=True)
                processes[variant].append(subprocess.Popen(command(variant, sim.urls[index], out), stdin=subprocess.DEVNULL,
                                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            time.sleep(10)
            windows = []
            for _ in range(arguments.runs):
                before, started = {v: sum(family_cpu_seconds([p.pid for p in ps])) for v, ps in processes.items()}, time.monotonic()
                time.sleep(arguments.seconds)
                after, elapsed = {v: sum(family_cpu_seconds([p.pid for p in ps])) for v, ps in processes.items()}, time.monotonic() - started
                windows.append({v: (after[v] - before[v]) / arguments.cameras / elapsed * 60 for v in VARIANTS})
        finally:
            for group in processes.values():
                for process in group:
                    process.terminate()
            for group in processes.values():
                for process in group:
                    process.wait(timeout=10)
    print(json.dumps({
        "benchmark": "recording_fragments",
        "cameras_per_variant": arguments.cameras, "window_seconds": arguments.seconds, "runs": arguments.runs,
        "unit": "CPU seconds per camera-minute (ffmpeg only)",
        **{variant: round(statistics.median(window[variant] for window in windows), 3) for variant in VARIANTS},
        "ratio_over_bare": {variant: round(statistics.median(window[variant] / window["bare"] for window in windows), 3)
                            for variant in VARIANTS},
    }))


if __name__ == "__main__":
    main()
