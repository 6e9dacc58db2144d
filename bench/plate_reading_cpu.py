"""CPU cost of reading plates from one camera's video, and the plates it reads.

    python bench/plate_reading_cpu.py [--seconds 60] [--runs 3] [--before /tmp/wt-plates] [--fps 2]

One simulated camera (loop mode: its traffic carries the plates of `SimulatedCameras.plates(1)`) is decoded
by ffmpeg exactly as the server decodes a plate-reading camera (sub-stream, fps, 640x360 BGR into a pipe), and
each frame goes through the server's reading path: a bounded queue that drops the oldest frame, the motion gate,
the reader's per-frame read, the PlateTracker. Each run is a fresh process, so its CPU figure is that process's
own time (user + system) over the measured window, the ffmpeg child's reported apart; model loading is left
out. `--before TREE` runs the same measurement on another checkout (e.g. `git worktree add /tmp/wt-plates HEAD`)
first, on the same camera. Prints one JSON object: the median run of each tree, and every run.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 640, 360


def thread_count() -> int:
    return len(os.listdir("/proc/self/task"))


def frame_reader(settings):
    """The reader the server uses per camera frame in this tree, and the function that reads one frame with it."""
    try:
        from rtcc.alpr.video.frame_reading import VideoFramePlateReader, read_video_frame
    except ImportError:  # a checkout from before the frame path: frames are read as still images
        from rtcc.alpr.reader import PlateReader

        reader = PlateReader(region="us", threads=1)
        return reader, reader.read_image
    reader = VideoFramePlateReader.from_settings(settings, region="us")
    return reader, lambda pixels: read_video_frame(reader, pixels)


def measure(url: str, seconds: float, fps: float, planted: list[str]) -> dict:
    """One run in this process: decode, gate, read, track for `seconds`; CPU and reads."""
    import numpy as np

    from rtcc.alpr.video.passes import MotionGate, PlateTracker
    from rtcc.settings import Settings

    reader, read_frame = frame_reader(Settings())
    read_frame(np.zeros((HEIGHT, WIDTH, 3), np.uint8))  # models loaded and warmed before the clock starts
    gate, tracker = MotionGate(), PlateTracker()
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-rtsp_transport", "tcp",
               "-timeout", "10000000", "-i", url, "-an", "-sn", "-dn", "-vf", f"fps={fps},scale={WIDTH}:{HEIGHT}",
               "-pix_fmt", "bgr24", "-f", "rawvideo", "pipe:1"]
    frame_bytes = WIDTH * HEIGHT * 3
    queue: collections.deque = collections.deque()
    counts = {"decoded": 0, "dropped": 0}
    arrived = threading.Condition()
    decoder = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)

    def pump() -> None:  # the worker's decode task: bounded queue, the oldest frame dropped when reading lags
        while (raw := decoder.stdout.read(frame_bytes)) and len(raw) == frame_bytes:
            with arrived:
                counts["decoded"] += 1
                if len(queue) >= 4:
                    queue.popleft()
                    counts["dropped"] += 1
                queue.append((np.frombuffer(raw, np.uint8).reshape(HEIGHT, WIDTH, 3), datetime.now(UTC)))
                arrived.notify()

    threading.Thread(target=pump, daemon=True).start()
    with arrived:  # the clock starts at the first frame: connecting is not reading
        arrived.wait_for(lambda: queue, timeout=30)
    passes, frames_handled = [], 0
    threads_peak = thread_count()
    started_usage, started = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    while time.monotonic() - started < seconds:
        with arrived:
            if not arrived.wait_for(lambda: queue, timeout=5):
                break
            pixels, captured_at = queue.popleft()
        reads = read_frame(pixels) if gate.should_read(pixels) else []
        passes += tracker.feed(captured_at, reads, pixels)
        frames_handled += 1
        threads_peak = max(threads_peak, thread_count())
    ended_usage, wall = resource.getrusage(resource.RUSAGE_SELF), time.monotonic() - started
    decoder.terminate()
    decoder.wait(timeout=10)
    passes += tracker.flush()
    ffmpeg = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ended_usage.ru_utime - started_usage.ru_utime) + (ended_usage.ru_stime - started_usage.ru_stime)
    correct = [vehicle_pass.plate for vehicle_pass in passes if vehicle_pass.plate in planted]
    return {
        "cpu_pct_of_core": round(100 * cpu / wall, 1),  # this process alone: decode pipe, gate, reader, tracker
        # Under load a slow reader drops frames and so looks cheaper than it is: what it costs keeping up.
        "cpu_ms_per_frame": round(1000 * cpu / max(1, frames_handled), 1),
        "cpu_pct_of_core_keeping_up": round(100 * fps * cpu / max(1, frames_handled), 1),
        "ffmpeg_cpu_pct_of_core": round(100 * (ffmpeg.ru_utime + ffmpeg.ru_stime) / wall, 1),  # whole ffmpeg run
        "threads_peak": threads_peak,
        "seconds": round(wall, 1),
        "frames_decoded": counts["decoded"], "frames_dropped": counts["dropped"],
        "frames_read": gate.frames_read, "frames_skipped": gate.frames_skipped,
        "boxes_recognised": getattr(reader, "boxes_recognised", None),  # OCR calls on the frame path
        "passes": len(passes), "passes_correct": len(correct),
        "plates_read": len(set(correct)), "plates_planted": len(planted),
        "wrong_plates": sorted({vehicle_pass.plate for vehicle_pass in passes} - set(planted)),
    }


def run_tree(tree: Path, url: str, seconds: float, fps: float, planted: list[str]) -> dict:
    """One measuring run in a fresh process importing `tree`'s code."""
    environment = {**os.environ, "PYTHONPATH": str(tree / "src"), "OMP_NUM_THREADS": "1"}
    child = subprocess.run([sys.executable, __file__, "--child", url, "--seconds", str(seconds), "--fps", str(fps),
                            "--planted", ",".join(planted)], env=environment, capture_output=True, text=True,
                           timeout=seconds + 180, check=False)
    if child.returncode != 0:
        raise RuntimeError(f"run in {tree} failed: {child.stderr[-2000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def median_run(runs: list[dict]) -> dict:
    """The run with the median cost of keeping up (its reads come with it): the figure a dropped frame cannot flatter."""
    middle = statistics.median_low([run["cpu_pct_of_core_keeping_up"] for run in runs])
    return next(run for run in runs if run["cpu_pct_of_core_keeping_up"] == middle)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fps", type=float, default=2.0)
    parser.add_argument("--before", type=Path, help="another checkout to measure first (the code before a change)")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--planted", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.seconds, args.fps, [p for p in args.planted.split(",") if p])))
        return 0
    sys.path.insert(0, str(REPO / "src"))
    from rtcc.sim.cameras import SimulatedCameras

    trees = ([("before", args.before.resolve())] if args.before else []) + [("after", REPO)]
    out: dict = {"camera": "1 simulated street camera, loop mode, sub-stream 640x360", "fps": args.fps,
                 "seconds_per_run": args.seconds, "runs": args.runs, "cpus": os.cpu_count()}
    with SimulatedCameras(1, port=0, mode="loop") as cameras:
        planted = cameras.plates(1)
        for name, tree in trees:
            runs = [run_tree(tree, cameras.sub_urls[0], args.seconds, args.fps, planted) for _ in range(args.runs)]
            out[name] = {"tree": str(tree), "median": median_run(runs), "every_run": runs}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
