"""Redaction speed: frames per second the release pipeline makes of a 720p clip on this machine's CPUs.

Two synthetic 720p clips made by ffmpeg: testsrc2 (moving colour pattern, no faces; its counters look like plate
text) and a street photograph from the ALPR dev set (../shared) panned slowly: a car with its plate and a person
seen through the windscreen, the one face-like thing any image the project holds shows. CenterFace's cost per
frame does not depend on what it finds (one network pass per frame). One drawn box is tracked over each clip.
Each stage is the time the Python loop spent in it; decoding and encoding run in their own ffmpeg processes beside
the loop, so their figures are only the waits for them. Prints one JSON object.
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support import alpr_dev_set  # noqa: E402

from rtcc.governance.releases.redaction import STAGES, FaceDetector, ManualBox, redact_clip  # noqa: E402

SECONDS, FPS, RUNS = 1, 25, 3
STREET = "cfaa9dd2-a388-4e92-bb3a-ae65c28d8139.jpg"  # 1280x720, plate KL3B8K, a person behind the windscreen


def make_clips(folder: Path) -> dict[str, Path]:
    clips = {"testsrc2_720p": ["-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate={FPS}"]}
    street = alpr_dev_set() / STREET
    if street.exists():  # a slow pan across the photograph, so every frame differs a little
        clips["street_720p"] = ["-loop", "1", "-framerate", str(FPS), "-i", str(street), "-vf",
                                      "scale=1344:756,crop=1280:720:'32+30*sin(t)':'18+16*sin(t)'"]
    made = {}
    for name, source in clips.items():
        path = folder / f"{name}.mp4"
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *source, "-t", str(SECONDS), "-r", str(FPS),
                        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(path)], check=True)
        made[name] = path
    return made


def measure(clip: Path, detector: FaceDetector, folder: Path) -> dict:
    runs, stages = [], {stage: [] for stage in STAGES}
    result = None
    for run in range(RUNS):
        started = time.perf_counter()
        result = redact_clip(clip, folder / f"out-{run}.mp4", ffmpeg="ffmpeg", face_detector=detector,
                             manual_boxes=[ManualBox(frame=0, box=(200, 420, 160, 120))])
        elapsed = time.perf_counter() - started
        runs.append(result.frames / elapsed)
        for stage in STAGES:
            stages[stage].append(1000 * result.seconds[stage] / result.frames)
    return {"fps_median": round(statistics.median(runs), 2), "fps_runs": [round(fps, 2) for fps in runs],
            "frames": result.frames, "ms_per_frame_median": {s: round(statistics.median(v), 2) for s, v in stages.items()},
            "found": {"face_boxes": result.face_boxes, "plate_frames": result.plate_frames,
                      "plate_boxes": result.plate_boxes}}


def main() -> None:
    load_before = os.getloadavg()[0]  # the machine is shared: say how busy it was
    full, half = FaceDetector(), FaceDetector(width=640)
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        clips = make_clips(folder)
        results = {name: measure(path, full, folder) for name, path in clips.items()}
        # The same pipeline with CenterFace shown the frame at 640 pixels wide (faster, misses faces under ~20 px).
        if "street_720p" in clips:
            results["street_720p_faces_at_640"] = measure(clips["street_720p"], half, folder)
    print(json.dumps({
        "benchmark": "redaction_speed", "resolution": "1280x720", "clip_seconds": SECONDS, "clip_fps": FPS,
        "runs": RUNS, "cpus": os.cpu_count(), "load_average_1m_before": round(load_before, 2),
        "load_average_1m_after": round(os.getloadavg()[0], 2), "machine": platform.processor() or platform.machine(),
        "clips": results,
        "stages": "decode and encode are waits on their ffmpeg processes; face = CenterFace (OpenCV DNN, full frame); "
                  "plate = the plate reader's row localiser; track = drawn boxes; blur = all boxes",
    }))


if __name__ == "__main__":
    main()
