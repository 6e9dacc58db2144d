"""What a recorded camera costs in the `rtcc serve` configuration, against a bare ffmpeg segmenter of the same stream.

    python bench/recording_cost.py [--cameras 4] [--seconds 20] [--runs 3]

Serves N simulated RTSP cameras (loop mode: pre-encoded, so the camera side costs the server nothing),
then measures, in CPU seconds per camera-minute:
- bare: one `ffmpeg -rtsp_transport tcp -i URL -c copy -f segment` per camera, nothing else;
- serve, no viewer: the app of `rtcc serve` (create_app under uvicorn, in a subprocess, every background
  job running) recording the N cameras: its ffmpeg children plus the server process itself;
- serve, one viewer: the same with one WebSocket viewer per camera reading live view (the bench route
  /bench-live/{id} is the live endpoint less sign-in and audit, which cost once per connection).
- the server's fixed cost: the same server with no camera (its jobs, bus, checkpoints), shared over the N
  cameras; `*_less_fixed_cost` is a recorded camera's own cost, what each further camera adds.
All three run at once and are sampled at the same instants (side by side, same stream): on a shared, noisy
machine the load of the moment falls on all of them alike, where windows taken one after another measured
the noise (bare ffmpeg alone varied 0.18-0.28 between runs). Each figure is the median of `runs` windows of
`seconds`; each ratio is the median of the per-window ratios of serve over bare. Also reports how long the
first viewer waits for its first fragment. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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
SETTLE_SECONDS = 12  # connect, probe, first segment closed


def total(figure: tuple[float, float]) -> float:
    return figure[0] + figure[1]


# --- bare ffmpeg ---
def start_bare(urls: list[str], directory: Path) -> list[subprocess.Popen]:
    """One plain `ffmpeg -c copy -f segment` per camera: what a recorded camera is measured against."""
    processes = []
    for index, url in enumerate(urls):
        out = directory / f"bare{index}"
        out.mkdir(parents=True)
        processes.append(subprocess.Popen(
            ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "warning", "-rtsp_transport", "tcp", "-i", url,
             "-c", "copy", "-f", "segment", "-segment_time", str(SEGMENT_SECONDS), "-reset_timestamps", "1",
             "-segment_format", "mp4", str(out / "%06d.mp4")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return processes


def stop_bare(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=10)


# --- the server under test ---
def run_server(port: int, data_dir: Path, urls: list[str]) -> None:
    """create_app of `rtcc serve` under uvicorn, recording the cameras, plus the unauthenticated bench route."""
    import uvicorn
    from starlette.concurrency import run_in_threadpool
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    from rtcc.app import create_app
    from rtcc.auth import service as accounts
    from rtcc.cameras import service as cameras
    from rtcc.cameras.models import Camera
    from rtcc.cameras.service import stream_url_for_ingest
    from rtcc.core.actor import SYSTEM
    from rtcc.settings import Settings
    from rtcc.core.runtime import build_runtime
    from rtcc.video.live.registry import serve_live_viewer
    from rtcc.video.analytics.privacy import mask_file_for

    # `rtcc serve`'s defaults, but for the data dir, the port and loopback cameras being allowed.
    settings = Settings(data_dir=data_dir, recording_enabled=True, segment_seconds=SEGMENT_SECONDS, port=port,
                        camera_network_allowlist=["127.0.0.0/8"])
    runtime = build_runtime(settings)
    runtime.database.upgrade()
    with runtime.database.session() as db:
        accounts.ensure_agency(db, runtime=runtime, ori="CA0199900", name="bench")
        for index, url in enumerate(urls, start=1):
            cameras.create_camera(db, runtime=runtime, actor=SYSTEM, agency_ori="CA0199900", values={
                "name": f"bench {index}", "kind": "city_fixed", "latitude": 34.09, "longitude": -118.36,
                "main_stream_url": url})
    app = create_app(runtime=runtime)

    def source_of(camera_id: int):
        with runtime.database.session() as db:
            camera = db.get(Camera, camera_id)
            return (stream_url_for_ingest(camera, runtime=runtime),
                    mask_file_for(camera.id, camera.privacy_masks, settings.data_dir / "masks"))

    async def bench_live(websocket: WebSocket):
        camera_id = int(websocket.path_params["camera_id"])
        url, mask = await run_in_threadpool(source_of, camera_id)
        await websocket.accept()
        await serve_live_viewer(websocket, websocket.app.state.live_relays.get_or_start(camera_id, url, mask_png=mask))

    app.router.routes.insert(0, WebSocketRoute("/bench-live/{camera_id}", bench_live))  # before the console's mount
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


async def watch(url: str, stop: asyncio.Event, first_fragment_s: list[float]) -> int:
    """A viewer that counts fragments until stop; notes how long the first one took."""
    from websockets.asyncio.client import connect

    fragments = 0
    opened = time.monotonic()
    async with connect(url, max_size=None) as websocket:
        while not stop.is_set():
            try:
                message = await asyncio.wait_for(websocket.recv(), 1)
            except TimeoutError:
                continue
            if isinstance(message, bytes):
                fragments += 1
                if fragments == 2:  # the first binary message is the init segment
                    first_fragment_s.append(time.monotonic() - opened)
    return fragments


def start_server(urls: list[str], directory: Path):
    """`rtcc serve`'s app in a subprocess recording these cameras; (process, port) once /healthz answers."""
    import httpx

    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "serve.log", "w") as log:
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), str(directory / "data"), *urls],
                                  stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server, port
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            raise RuntimeError("the server did not start: " + (directory / "serve.log").read_text()[-2000:])
        time.sleep(0.3)


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def concurrent_windows(groups: dict[str, list[int]], cameras: int, seconds: float,
                       runs: int) -> list[dict[str, tuple[float, float]]]:
    """Per window, every group's (processes, their children) CPU seconds per camera-minute, all sampled at the
    same instants: the groups share the machine's noise, so their ratios hold on a busy box."""
    windows = []
    for _ in range(runs):
        before, started = {name: family_cpu_seconds(pids) for name, pids in groups.items()}, time.monotonic()
        time.sleep(seconds)
        after, elapsed = {name: family_cpu_seconds(pids) for name, pids in groups.items()}, time.monotonic() - started
        windows.append({name: tuple((end - start) / cameras / elapsed * 60
                                    for start, end in zip(before[name], after[name], strict=True))
                        for name in groups})
    return windows


def measure_side_by_side(urls: list[str], directory: Path, seconds: float, runs: int) -> dict:
    """Bare ffmpeg, the server with no camera and the server recording the cameras, all running at once."""
    bare = start_bare(urls, directory / "bare")
    empty, _ = start_server([], directory / "empty")
    server, port = start_server(urls, directory / "serve")
    try:
        time.sleep(SETTLE_SECONDS)
        groups = {"bare": [process.pid for process in bare], "empty": [empty.pid], "serve": [server.pid]}
        idle = concurrent_windows(groups, len(urls), seconds, runs)
        recorder_processes = len(ffmpeg_children(server.pid))

        first_fragment_s: list[float] = []
        watched: dict = {}

        async def with_viewers():
            stop = asyncio.Event()
            viewers = [asyncio.create_task(watch(f"ws://127.0.0.1:{port}/bench-live/{camera_id}", stop, first_fragment_s))
                       for camera_id in range(1, len(urls) + 1)]
            await asyncio.sleep(3)  # every viewer has its first fragments
            watched["ffmpeg_processes"] = len(ffmpeg_children(server.pid))
            watched["cpu"] = await asyncio.to_thread(concurrent_windows, groups, len(urls), seconds, runs)
            stop.set()
            watched["fragments"] = await asyncio.gather(*viewers)

        asyncio.run(with_viewers())
        return {"idle": idle, "watched": watched["cpu"], "first_fragment_s": first_fragment_s,
                "fragments": watched["fragments"], "recorder_processes": recorder_processes,
                "ffmpeg_processes_with_viewers": watched["ffmpeg_processes"]}
    finally:
        stop_server(server)
        stop_server(empty)
        stop_bare(bare)


def ffmpeg_children(parent: int) -> list[int]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if command and command[0].endswith(b"ffmpeg") and f"PPid:\t{parent}\n" in status:
            found.append(int(entry))
    return found


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--cameras", type=int, default=4)
    options.add_argument("--seconds", type=float, default=20.0, help="length of one measured window")
    options.add_argument("--runs", type=int, default=3, help="windows per figure (the median is reported)")
    options.add_argument("--serve", nargs="+", help=argparse.SUPPRESS)
    arguments = options.parse_args()
    if arguments.serve:
        run_server(int(arguments.serve[0]), Path(arguments.serve[1]), arguments.serve[2:])
        return

    from rtcc.sim.cameras import SimulatedCameras

    with tempfile.TemporaryDirectory() as directory, \
            SimulatedCameras(arguments.cameras, free_port(), mode="loop", cache_dir=Path(directory) / "sim") as sim:
        figures = measure_side_by_side(sim.urls, Path(directory), arguments.seconds, arguments.runs)

    def median(values) -> float:
        return statistics.median(list(values))

    def figure_of(windows: list[dict], name: str, part=total) -> float:
        return median(part(window[name]) for window in windows)

    idle, watched = figures["idle"], figures["watched"]
    # Per window: a recorded camera's cost (its ffmpeg and the server's share), over bare ffmpeg in the same window.
    def ratios(windows: list[dict], less_fixed: bool = False) -> list[float]:
        return [(total(window["serve"]) - (window["empty"][0] if less_fixed else 0)) / total(window["bare"])
                for window in windows]

    print(json.dumps({
        "benchmark": "recording_cost",
        "cameras": arguments.cameras,
        "window_seconds": arguments.seconds,
        "runs": arguments.runs,
        "unit": "CPU seconds per camera-minute",
        "measurement": "side by side: bare ffmpeg, an empty server and the recording server run at once, sampled "
                       "at the same instants; ratios are medians of per-window ratios",
        "bare_ffmpeg_segment": round(figure_of(idle, "bare"), 3),
        "serve_no_viewer": round(figure_of(idle, "serve"), 3),
        "serve_one_viewer": round(figure_of(watched, "serve"), 3),
        "ratio_no_viewer": round(median(ratios(idle)), 2),
        "ratio_one_viewer": round(median(ratios(watched)), 2),
        "target_ratio_no_viewer": 1.2,
        "server_fixed_cost_shared_per_camera": round(figure_of(idle, "empty", lambda part: part[0]), 3),
        "serve_no_viewer_less_fixed_cost": round(median(total(window["serve"]) - window["empty"][0] for window in idle), 3),
        "ratio_no_viewer_less_fixed_cost": round(median(ratios(idle, less_fixed=True)), 2),
        "runs_ratio_no_viewer": [round(value, 2) for value in ratios(idle)],
        "runs_ratio_no_viewer_less_fixed_cost": [round(value, 2) for value in ratios(idle, less_fixed=True)],
        "runs_bare": [round(total(window["bare"]), 3) for window in idle],
        "runs_no_viewer": [round(total(window["serve"]), 3) for window in idle],
        "runs_one_viewer": [round(total(window["serve"]), 3) for window in watched],
        "runs_server_fixed_cost": [round(window["empty"][0], 3) for window in idle],
        "no_viewer_server_process_median": round(figure_of(idle, "serve", lambda part: part[0]), 3),
        "no_viewer_ffmpeg_median": round(figure_of(idle, "serve", lambda part: part[1]), 3),
        "one_viewer_server_process_median": round(figure_of(watched, "serve", lambda part: part[0]), 3),
        "one_viewer_ffmpeg_median": round(figure_of(watched, "serve", lambda part: part[1]), 3),
        "first_fragment_seconds_max": round(max(figures["first_fragment_s"]), 3) if figures["first_fragment_s"] else None,
        "first_fragment_seconds_median": (round(median(figures["first_fragment_s"]), 3)
                                          if figures["first_fragment_s"] else None),
        "fragments_per_viewer": figures["fragments"],
        "ffmpeg_processes_no_viewer": figures["recorder_processes"],
        "ffmpeg_processes_with_viewers": figures["ffmpeg_processes_with_viewers"],
        "segment_seconds": SEGMENT_SECONDS,
        "cpus": os.cpu_count(),
    }))


if __name__ == "__main__":
    main()
