"""The simulated cameras serve real RTSP from GStreamer: H.264, moving traffic, readable plates, a live clock."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from itertools import pairwise

import av
import numpy as np
import pytest

from rtcc.sim import cameras as sim_cameras
from rtcc.sim.cameras import MediaDependencyError, SimulatedCameras, describe

CLOCK = re.compile(r"(\d{4}-\d{2}-\d{2})\D?(\d{2}:\d{2}:\d{2}\.\d{3})")  # OCR may read the space as _


def start_or_fail(cameras: SimulatedCameras) -> SimulatedCameras:
    """Start; a missing GStreamer is a failure with the fix in the message, never a skip."""
    try:
        return cameras.start()
    except MediaDependencyError as error:
        pytest.fail(f"GStreamer for the simulated cameras is missing; run scripts/media-deps.sh as root.\n{error}")


def decode_after_keyframe(url: str, count: int, *, transport: str = "tcp", every: int = 1):
    """`count` decoded frames (with the wall time each came out), starting at the first keyframe."""
    frames = []
    with av.open(url, options={"rtsp_transport": transport}, timeout=10) as container:
        stream = container.streams.video[0]
        seen = 0
        for frame in container.decode(stream):
            if not frames and not seen and not frame.key_frame:
                continue  # before the first keyframe a decoder shows guesses
            if seen % every == 0:
                frames.append((time.time(), frame))
            seen += 1
            if len(frames) == count:
                return stream.codec_context.name, frames
    raise AssertionError(f"{url} ended after {len(frames)} frames")


def grey(frame) -> np.ndarray:
    return frame.to_ndarray(format="gray").astype(np.int16)


@pytest.fixture(scope="module")
def live_cameras(tmp_path_factory):
    cameras = start_or_fail(SimulatedCameras(2, port=0, mode="live", cache_dir=tmp_path_factory.mktemp("sim")))
    yield cameras
    cameras.stop()
    assert not cameras.running()


def test_live_streams_are_720p_h264_with_moving_traffic(live_cameras):
    assert live_cameras.mode == "live" and len(live_cameras.urls) == 2
    for url in live_cameras.urls:
        codec, frames = decode_after_keyframe(url, 2, every=10)
        assert codec == "h264"
        (_, first), (_, later) = frames
        assert (first.width, first.height) == (1280, 720)
        road = slice(216, 696)
        assert np.abs(grey(first)[road] - grey(later)[road]).mean() > 3, "vehicles did not move"
        changed_clock_pixels = (np.abs(grey(first)[:80, :1000] - grey(later)[:80, :1000]) > 60).sum()
        assert changed_clock_pixels > 300, "the clock did not tick"


def test_plates_and_clock_are_readable(live_cameras):
    from rapidocr import RapidOCR

    ocr = RapidOCR()
    _, [(arrived, frame)] = decode_after_keyframe(live_cameras.urls[0], 1)
    texts = [text.replace(" ", "") for text in ocr(frame.to_ndarray(format="bgr24")).txts]
    plates = set(live_cameras.plates(1))
    assert len(plates) == 6 and all(re.fullmatch(r"[1-9][A-Z]{3}\d{3}", p) for p in plates)
    assert plates & set(texts), f"no plate of camera 1 ({sorted(plates)}) read in {texts}"
    clock = next((m for m in map(CLOCK.search, texts) if m), None)
    assert clock, f"no clock read in {texts}"
    shown = datetime.fromisoformat(f"{clock[1]}T{clock[2]}").replace(tzinfo=UTC).timestamp()
    # Glass-to-glass: the clock was drawn when the frame was composed, a moment before it arrived.
    assert -0.05 < arrived - shown < 2.0, f"clock {clock[0]} vs arrival {arrived}"
    assert set(live_cameras.plates(2)) != plates


def test_sub_stream_is_640x360(live_cameras):
    codec, [(_, frame)] = decode_after_keyframe(live_cameras.sub_urls[1], 1)
    assert (codec, frame.width, frame.height) == ("h264", 640, 360)


def test_two_consumers_of_one_camera_at_once(live_cameras):
    results = {}

    def consume(name):
        results[name] = decode_after_keyframe(live_cameras.urls[0], 5)[1]

    threads = [threading.Thread(target=consume, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(results["first"]) == len(results["second"]) == 5
    # One shared encoder: both consumers were served during the same moments.
    assert abs(results["first"][-1][0] - results["second"][-1][0]) < 1.5


def test_udp_transport_with_ffmpeg(live_cameras):
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", "udp", "-select_streams", "v:0", "-show_entries",
         "stream=codec_name,width,height", "-of", "json", live_cameras.urls[1]],
        capture_output=True, text=True, timeout=20, check=False)
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout)["streams"][0] == {"codec_name": "h264", "width": 1280, "height": 720}
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-rtsp_transport", "udp", "-i", live_cameras.sub_urls[0], "-frames:v", "10",
         "-f", "null", "-"], capture_output=True, text=True, timeout=20, check=False)
    assert decoded.returncode == 0, decoded.stderr


def test_a_stopped_camera_goes_away_and_comes_back(live_cameras):
    url = live_cameras.urls[1]
    container = av.open(url, options={"rtsp_transport": "tcp"}, timeout=5)
    packets = container.demux(container.streams.video[0])
    next(packets)
    live_cameras.stop_camera(2)
    with pytest.raises(ConnectionError, match="404"):
        describe(url)
    started = time.monotonic()
    with pytest.raises((StopIteration, av.error.FFmpegError, OSError)):
        while time.monotonic() - started < 8:
            next(packets)
    container.close()
    assert time.monotonic() - started < 8, "the client of a stopped camera kept receiving"
    describe(live_cameras.urls[0])  # the others carry on
    live_cameras.start_camera(2)
    assert "m=video" in describe(url)


def test_port_in_use_is_a_clear_error(live_cameras, tmp_path):
    with pytest.raises(RuntimeError, match="cannot listen"):
        SimulatedCameras(1, port=live_cameras.port, mode="live", cache_dir=tmp_path).start()


@pytest.mark.parametrize("interpreter", ["no-such-python3", sys.executable], ids=["no-python3", "python-without-gi"])
def test_missing_gstreamer_says_how_to_fix(monkeypatch, tmp_path, interpreter):
    monkeypatch.setattr(sim_cameras, "GST_PYTHON", str(tmp_path / interpreter) if "/" not in interpreter else interpreter)
    with pytest.raises(MediaDependencyError, match="media-deps.sh"):
        SimulatedCameras(1, port=0, cache_dir=tmp_path).start()


def test_loop_mode_streams_by_copy_with_timestamps_rising_across_the_wrap(tmp_path):
    loop_seconds = 2.0
    cameras = start_or_fail(SimulatedCameras(6, port=0, cache_dir=tmp_path, loop_seconds=loop_seconds))
    results: dict[str, list] = {}

    def collect(url):
        with av.open(url, options={"rtsp_transport": "tcp"}, timeout=10) as container:
            stream = container.streams.video[0]
            results[url] = [(stream.codec_context.name, stream.codec_context.width, stream.codec_context.height)]
            first_pts = None
            for packet in container.demux(stream):
                if packet.pts is None:
                    continue
                first_pts = packet.pts if first_pts is None else first_pts
                results[url].append(packet.pts)
                if (packet.pts - first_pts) * stream.time_base > loop_seconds * 1.5:
                    return

    try:
        assert cameras.mode == "loop"
        threads = [threading.Thread(target=collect, args=(url,)) for url in cameras.urls + cameras.sub_urls[:1]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        clips = sorted((tmp_path / "clips").glob("*.h264"))
        assert len(clips) == 12
        mtimes = [clip.stat().st_mtime_ns for clip in clips]
    finally:
        cameras.stop()
    for url in cameras.urls:
        header, *pts = results[url]
        assert header == ("h264", 1280, 720)
        assert len(pts) > 1.5 * loop_seconds * 25 * 0.9, f"{url}: {len(pts)} packets"
        assert all(b > a for a, b in pairwise(pts)), f"{url}: PTS went backwards"
    assert results[cameras.sub_urls[0]][0] == ("h264", 640, 360)

    # The clips are cached: a second start encodes nothing.
    started = time.monotonic()
    with SimulatedCameras(6, port=0, cache_dir=tmp_path, loop_seconds=loop_seconds):
        pass
    assert [clip.stat().st_mtime_ns for clip in clips] == mtimes
    assert time.monotonic() - started < 5


def test_ffmpeg_is_installed():
    assert shutil.which("ffmpeg") and shutil.which("ffprobe"), "run scripts/media-deps.sh"


# --- cameras that ask for credentials ---

CREDENTIALS = ("viewer", "p@ss:w0rd")  # characters that must be percent-encoded in a URL


@pytest.fixture(scope="module")
def credentialled_camera(tmp_path_factory):
    cameras = start_or_fail(SimulatedCameras(1, port=0, mode="live", cache_dir=tmp_path_factory.mktemp("sim-auth"),
                                             credentials=CREDENTIALS))
    yield cameras
    cameras.stop()


def ffprobe(url: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-select_streams", "v:0", "-show_entries",
                           "stream=codec_name,width,height", "-of", "json", url],
                          capture_output=True, text=True, timeout=20, check=False)


def test_a_credentialled_camera_plays_with_the_right_credentials_in_the_url(credentialled_camera):
    main = credentialled_camera.with_credentials(credentialled_camera.urls[0])
    assert main.startswith("rtsp://viewer:p%40ss%3Aw0rd@127.0.0.1:")
    for url, size in ((main, (1280, 720)), (credentialled_camera.with_credentials(credentialled_camera.sub_urls[0]),
                                            (640, 360))):
        probe = ffprobe(url)
        assert probe.returncode == 0, probe.stderr
        assert json.loads(probe.stdout)["streams"][0] == {"codec_name": "h264", "width": size[0], "height": size[1]}


@pytest.mark.parametrize("userinfo", ["", "viewer:wrong@", "someone:p%40ss%3Aw0rd@"],
                         ids=["no-credentials", "wrong-password", "wrong-user"])
def test_a_credentialled_camera_refuses_missing_or_wrong_credentials_with_401(credentialled_camera, userinfo):
    probe = ffprobe(credentialled_camera.urls[0].replace("rtsp://", f"rtsp://{userinfo}"))
    assert probe.returncode != 0 and "401 Unauthorized" in probe.stderr


def test_describe_answers_the_digest_challenge(credentialled_camera):
    url = credentialled_camera.urls[0]
    with pytest.raises(ConnectionError, match="401"):
        describe(url)
    with pytest.raises(ConnectionError, match="401") as refused:
        describe(url, credentials=("viewer", "wrong"))
    assert "wrong" not in str(refused.value)
    assert "m=video" in describe(url, credentials=CREDENTIALS)
    # Credentials in the URL work too (the sub mount: a main pipeline just described is still tearing down).
    assert "m=video" in describe(credentialled_camera.with_credentials(credentialled_camera.sub_urls[0]))


def test_cameras_without_credentials_stay_open(live_cameras):
    assert live_cameras.credentials is None and live_cameras.with_credentials(live_cameras.urls[0]) == live_cameras.urls[0]
    assert "m=video" in describe(live_cameras.urls[0], credentials=("anyone", "anything"))
