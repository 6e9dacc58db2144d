"""Live-view latency and fan-out: glass-to-glass delay through the relay, and N viewers of one camera.

    python bench/live_latency.py [--seconds 15] [--viewers 50] [--fan-out-seconds 10]

A generator stamps each frame with the wall-clock time as a row of black/white blocks (42 bits of
epoch milliseconds, then the same bits inverted as a check), encodes it with x264 (zerolatency,
ultrafast, 1 s GOP) and serves it as MPEG-TS on a local TCP socket. The relay (in a uvicorn
subprocess, as in `rtcc serve`) stream-copies it to fMP4 over a WebSocket. The client decodes
every fragment with PyAV and reads the blocks back: latency = decoded-at - stamped-at.

first_frame_ms: from opening the WebSocket to the first decoded picture (the first viewer of a
camera whose relay was not running: ffmpeg start, probe, first keyframe).

Measured path: encode + MPEG-TS mux + TCP + relay ffmpeg (demux, remux, 100 ms fragments) +
parser + WebSocket + decode. Not included: a camera's sensor and its own encoder, the network
to the camera, RTSP/RTP packetisation, and the browser's MSE buffer and display (the player
keeps that under ~1 s by chasing the live edge). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from measure import family_cpu_seconds, free_port  # noqa: E402  (bench/ is the script's folder)

WIDTH, HEIGHT, FPS = 640, 360, 25
BITS = 42
BLOCK_WIDTH, BLOCK_HEIGHT = 14, 20
BLOCK_TOP = HEIGHT - 2 * BLOCK_HEIGHT
WARM_UP_SECONDS = 2.0  # the cached GOP a new viewer starts with is old by design; skip it


# --- the stamped source ---
def draw_frame(numpy, cv2, stamp_ms: int):
    """A grey frame with the time as text and as machine-readable blocks along the bottom."""
    frame = numpy.full((HEIGHT, WIDTH), 96, numpy.uint8)
    cv2.putText(frame, time.strftime("%H:%M:%S", time.gmtime(stamp_ms / 1000)) + f".{stamp_ms % 1000:03d}",
                (20, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 255, 3)
    for bit in range(BITS):
        value = 255 if stamp_ms >> (BITS - 1 - bit) & 1 else 0
        left = 10 + bit * BLOCK_WIDTH
        frame[BLOCK_TOP:BLOCK_TOP + BLOCK_HEIGHT, left:left + BLOCK_WIDTH] = value
        frame[BLOCK_TOP + BLOCK_HEIGHT:HEIGHT, left:left + BLOCK_WIDTH] = 255 - value
    return frame


def constant_bitrate(kbps: int) -> list[str]:
    """x264 options that pad a simple picture to a real camera's bitrate (filler NAL units), or none."""
    if not kbps:
        return []
    return ["-b:v", f"{kbps}k", "-minrate", f"{kbps}k", "-maxrate", f"{kbps}k", "-bufsize", f"{kbps // 2}k",
            "-x264-params", "nal-hrd=cbr:filler=1"]


def read_stamp(gray) -> int | None:
    """The epoch milliseconds drawn by draw_frame, or None when the check row disagrees."""
    stamp = 0
    for bit in range(BITS):
        centre = 10 + bit * BLOCK_WIDTH + BLOCK_WIDTH // 2
        upper = gray[BLOCK_TOP + 5:BLOCK_TOP + BLOCK_HEIGHT - 5, centre - 3:centre + 3].mean() > 128
        lower = gray[BLOCK_TOP + BLOCK_HEIGHT + 5:HEIGHT - 5, centre - 3:centre + 3].mean() > 128
        if upper == lower:
            return None
        stamp = stamp << 1 | int(upper)
    return stamp


# A camera-like RTSP server: GStreamer (Debian's python3-gi) re-packetises the encoder's RTP, no jitter buffer.
RTSP_SERVER = """
import sys, gi
gi.require_version("Gst", "1.0"); gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer, GLib
Gst.init(None)
server = GstRtspServer.RTSPServer(); server.set_service(sys.argv[1])
factory = GstRtspServer.RTSPMediaFactory(); factory.set_shared(True)
factory.set_launch('( udpsrc port=%s caps="application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=96"'
                   ' ! rtph264depay ! h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 config-interval=-1 )'
                   % sys.argv[2])
server.get_mount_points().add_factory("/stamped", factory)
server.attach(None)
print("READY", flush=True)
GLib.MainLoop().run()
"""


def serve_stamped_source(port: int, stop: threading.Event, source: str = "tcp",
                         bitrate_kbps: int = 0) -> tuple[str, list[subprocess.Popen]]:
    """Render stamped frames in real time into x264; serve them as MPEG-TS over TCP or over RTSP (GStreamer)."""
    import cv2
    import numpy

    processes: list[subprocess.Popen] = []
    if source == "rtsp":
        rtp_port = free_port()
        rtsp = subprocess.Popen(["/usr/bin/python3", "-c", RTSP_SERVER, str(port), str(rtp_port)],
                                stdout=subprocess.PIPE, text=True)
        processes.append(rtsp)
        rtsp.stdout.readline()  # READY
        output, url = ["-f", "rtp", f"rtp://127.0.0.1:{rtp_port}?pkt_size=1200"], f"rtsp://127.0.0.1:{port}/stamped"
    else:
        output = ["-f", "mpegts", "-muxdelay", "0", "-flush_packets", "1", f"tcp://127.0.0.1:{port}?listen=1"]
        url = f"tcp://127.0.0.1:{port}"
    encoder = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "rawvideo", "-pix_fmt", "gray", "-s", f"{WIDTH}x{HEIGHT}",
         "-r", str(FPS), "-i", "-", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
         "-g", str(FPS), "-pix_fmt", "yuv420p", *constant_bitrate(bitrate_kbps), *output],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    processes.insert(0, encoder)

    def render():
        next_frame = time.monotonic()
        while not stop.is_set():
            try:
                encoder.stdin.write(draw_frame(numpy, cv2, time.time_ns() // 1_000_000).tobytes())
                encoder.stdin.flush()
            except (BrokenPipeError, ValueError):
                return
            next_frame += 1 / FPS
            time.sleep(max(0.0, next_frame - time.monotonic()))

    threading.Thread(target=render, daemon=True).start()
    return url, processes


# --- the server under test (a subprocess, so its CPU is measured apart from the clients) ---
def run_server(port: int, source_url: str) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route, WebSocketRoute

    from rtcc.video.live.registry import LiveRelayRegistry, serve_live_viewer

    registry = LiveRelayRegistry()

    async def live(websocket):
        await websocket.accept()
        await serve_live_viewer(websocket, registry.get_or_start(1, source_url))

    async def stats(_request):
        return JSONResponse({str(camera): figures for camera, figures in registry.stats().items()})

    app = Starlette(routes=[WebSocketRoute("/live", live), Route("/stats", stats)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", ws_max_size=16 * 1024 * 1024)


def cpu_seconds(root_pid: int) -> float:
    """User+system CPU seconds of a process and its descendants (the relay's ffmpeg)."""
    return sum(family_cpu_seconds([root_pid]))


async def decoding_viewer(url: str, seconds: float, latencies: list[float], counts: dict) -> None:
    """A browser-like viewer that decodes every frame and reads its stamp."""
    import av
    from websockets.asyncio.client import connect

    from rtcc.video.fmp4 import Fmp4Parser, InitSegment, find_box

    parser, decoder = Fmp4Parser(), None
    started, cpu_started = time.monotonic(), time.thread_time()
    async with connect(url, max_size=None) as websocket:
        counts.setdefault("connected_s", time.monotonic() - started)
        while time.monotonic() - started < seconds:
            message = await asyncio.wait_for(websocket.recv(), 10)
            if isinstance(message, str):
                counts.setdefault("messages", []).append(json.loads(message).get("type"))
                continue
            for segment in parser.feed(message):
                if isinstance(segment, InitSegment):
                    decoder = av.CodecContext.create("h264", "r")
                    decoder.extradata = avc_configuration(segment.data, find_box)
                    decoder.thread_count = 1  # frame threading would hold frames back, as no browser does
                    continue
                position = segment.data_offset
                for size in segment.sample_sizes:
                    for frame in decoder.decode(av.Packet(segment.data[position:position + size])):
                        decoded_ms = time.time_ns() / 1e6
                        stamp = read_stamp(frame.to_ndarray(format="gray"))
                        counts["frames"] = counts.get("frames", 0) + 1
                        counts.setdefault("first_frame_s", time.monotonic() - started)  # from opening the socket
                        if stamp is None:
                            counts["unreadable"] = counts.get("unreadable", 0) + 1
                        elif time.monotonic() - started > WARM_UP_SECONDS:
                            latencies.append(decoded_ms - stamp)
                    position += size
    # This thread only: the stamped-frame renderer runs in another thread of the same process.
    counts["cpu_percent"] = (time.thread_time() - cpu_started) / (time.monotonic() - started) * 100


def avc_configuration(init: bytes, find_box) -> bytes:
    """The avcC payload (SPS/PPS) from an init segment, as a decoder's extradata."""
    moov = find_box(init, [b"moov"])
    stsd = find_box(init, [b"trak", b"mdia", b"minf", b"stbl", b"stsd"], *moov)
    entry_start = stsd[0] + 8 + 8 + 78  # stsd header, avc1 box header, visual sample entry
    config = find_box(init, [b"avcC"], entry_start, stsd[1])
    return init[config[0]:config[1]]


async def counting_viewer(url: str, seconds: float, results: list[dict]) -> None:
    """A viewer that only counts what arrives (a browser's network side)."""
    from websockets.asyncio.client import connect

    fragments = received_bytes = 0
    async with connect(url, max_size=None) as websocket:
        started = time.monotonic()
        while (remaining := seconds - (time.monotonic() - started)) > 0:
            try:
                message = await asyncio.wait_for(websocket.recv(), remaining)
            except TimeoutError:
                break
            if isinstance(message, bytes):
                fragments += 1
                received_bytes += len(message)
    results.append({"fragments": fragments, "bytes": received_bytes, "seconds": seconds})


def http_json(port: int, path: str) -> dict:
    import httpx

    return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5).json()


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--seconds", type=float, default=15.0, help="single-viewer latency run")
    options.add_argument("--viewers", type=int, default=50)
    options.add_argument("--fan-out-seconds", type=float, default=10.0)
    options.add_argument("--source", choices=("tcp", "rtsp"), default="tcp",
                         help="MPEG-TS over local TCP, or RTSP from a GStreamer server (needs python3-gi)")
    options.add_argument("--bitrate-kbps", type=int, default=0, help="pad the stream to this bitrate (0: natural)")
    options.add_argument("--serve", nargs=2, metavar=("PORT", "SOURCE_URL"), help=argparse.SUPPRESS)
    arguments = options.parse_args()
    if arguments.serve:
        run_server(int(arguments.serve[0]), arguments.serve[1])
        return

    source_port, server_port = free_port(), free_port()
    stop = threading.Event()
    source_url, source_processes = serve_stamped_source(source_port, stop, arguments.source,
                                                        arguments.bitrate_kbps)
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(server_port), source_url])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                http_json(server_port, "/stats")
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        url = f"ws://127.0.0.1:{server_port}/live"

        # Phase 1: one decoding viewer alone.
        latencies: list[float] = []
        counts: dict = {}
        server_cpu, wall = cpu_seconds(server.pid), time.monotonic()
        asyncio.run(decoding_viewer(url, arguments.seconds, latencies, counts))
        elapsed = time.monotonic() - wall
        relay_cpu_one = (cpu_seconds(server.pid) - server_cpu) / elapsed * 100

        # Phase 2: N counting viewers plus one decoding viewer, all at once.
        async def fan_out():
            results: list[dict] = []
            await asyncio.gather(*(counting_viewer(url, arguments.fan_out_seconds, results)
                                   for _ in range(arguments.viewers)),
                                 decoding_viewer(url, arguments.fan_out_seconds, loaded_latencies, loaded_counts))
            return results

        loaded_latencies: list[float] = []
        loaded_counts: dict = {}
        server_cpu, wall = cpu_seconds(server.pid), time.monotonic()
        results = asyncio.run(fan_out())
        elapsed = time.monotonic() - wall
        relay_cpu_many = (cpu_seconds(server.pid) - server_cpu) / elapsed * 100
        stats = http_json(server_port, "/stats").get("1", {})
        rates = [result["fragments"] / result["seconds"] for result in results]
        figures = {
            "latency_ms_p50": percentile(latencies, 0.5),
            "latency_ms_p95": percentile(latencies, 0.95),
            "latency_ms_max": percentile(latencies, 1.0),
            "first_frame_ms": round(counts["first_frame_s"] * 1000) if "first_frame_s" in counts else None,
            "frames": counts.get("frames", 0),
            "frames_measured": len(latencies),
            "frames_unreadable": counts.get("unreadable", 0),
            "viewer_cpu_percent": round(counts.get("cpu_percent", 0.0), 1),
            "relay_cpu_percent_1_viewer": round(relay_cpu_one, 1),
            "viewers_max_tested": len(results) + 1,
            "viewers_receiving": sum(1 for rate in rates if rate > 0),
            "fragments_per_second_per_viewer_min": round(min(rates), 2) if rates else None,
            "fragments_per_second_per_viewer_median": round(statistics.median(rates), 2) if rates else None,
            "megabits_per_second_per_viewer": round(statistics.median(
                result["bytes"] * 8 / result["seconds"] / 1e6 for result in results), 3) if results else None,
            "relay_cpu_percent_with_viewers": round(relay_cpu_many, 1),
            "latency_ms_p50_with_viewers": percentile(loaded_latencies, 0.5),
            "latency_ms_p95_with_viewers": percentile(loaded_latencies, 0.95),
            "drops": stats.get("drops"),
            "upstream_starts": stats.get("upstream_starts"),
            "relay_fragments": stats.get("fragments"),
            "source": f"x264 ultrafast zerolatency {WIDTH}x{HEIGHT}@{FPS} GOP 1 s, "
                      + ("RTP into GStreamer RTSP server, RTSP/TCP to the relay" if arguments.source == "rtsp"
                         else "MPEG-TS over local TCP"),
            "bitrate_kbps_requested": arguments.bitrate_kbps or None,
            "fragment_ms": 100,
            "cpus": os.cpu_count(),
        }
        print(json.dumps(figures))
    finally:
        stop.set()
        for process in (server, *source_processes):
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


if __name__ == "__main__":
    main()
