"""Cameras that speak HTTP: an HLS playlist and an MJPEG (multipart/x-mixed-replace) feed are recorded too."""

import asyncio
import http.server
import subprocess
import threading
import time
from pathlib import Path

import pytest

from rtcc.video.recording.recorder import CameraRecorder
from rtcc.video.recording.storage import SegmentStore


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


def serve(directory: Path, handler=None):
    handler = handler or (lambda *a, **k: QuietHandler(*a, directory=str(directory), **k))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def record(url: str, store_dir: Path, seconds: float) -> tuple[list, list[str]]:
    segments, statuses = [], []

    async def on_segment(segment):
        segments.append(segment)

    async def on_status(camera_id, status):
        statuses.append(f"{status.state}: {status.detail}")

    async def scenario():
        recorder = CameraRecorder(camera_id=1, url=url, store=SegmentStore(store_dir), segment_seconds=1,
                                  on_segment=on_segment, on_status=on_status)
        task = asyncio.create_task(recorder.run())
        await asyncio.sleep(seconds)
        await recorder.stop()
        await task

    asyncio.run(scenario())
    return segments, statuses


def codec_of(path: Path) -> str:
    return subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name",
                           "-of", "csv=p=0", str(path)], capture_output=True, text=True).stdout.strip()


def test_an_hls_camera_is_recorded(tmp_path):
    hls = tmp_path / "hls"
    hls.mkdir()
    made = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=15", "-t", "6",
                           "-c:v", "libx264", "-g", "15", "-pix_fmt", "yuv420p", "-f", "hls", "-hls_time", "1",
                           "-hls_list_size", "0", str(hls / "index.m3u8")], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.fail(f"ffmpeg could not make an HLS stream: {made.stderr[-300:]}")
    server = serve(hls)
    try:
        segments, _ = record(f"http://127.0.0.1:{server.server_port}/index.m3u8", tmp_path / "media", 5)
    finally:
        server.shutdown()
    assert len(segments) >= 2
    assert codec_of(tmp_path / "media" / segments[0].path) == "h264"


def test_an_mjpeg_camera_is_recorded(tmp_path):
    frames_dir = tmp_path / "frames"
    frames_dir.mkdir()
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10", "-t", "2",
                    str(frames_dir / "f%03d.jpg")], check=True)
    frames = [path.read_bytes() for path in sorted(frames_dir.glob("*.jpg"))]

    class MjpegCamera(http.server.BaseHTTPRequestHandler):
        """What cheap IP cameras serve: JPEGs one after another in a multipart response."""

        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            try:
                for n in range(300):
                    jpeg = frames[n % len(frames)]
                    self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(jpeg) + jpeg + b"\r\n")
                    time.sleep(0.1)
            except (BrokenPipeError, ConnectionResetError):
                pass

    server = serve(tmp_path, MjpegCamera)
    try:
        segments, statuses = record(f"http://127.0.0.1:{server.server_port}/video.mjpg", tmp_path / "media", 8)
    finally:
        server.shutdown()
    # ffmpeg probes an MJPEG feed for a while before the first segment opens; what matters is video on disk.
    assert segments and sum(segment.duration_s for segment in segments) >= 2, statuses
    assert codec_of(tmp_path / "media" / segments[0].path) == "mjpeg"
