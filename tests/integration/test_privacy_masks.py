"""Privacy masks burnt in by real ffmpeg, spliced into the recorder's own command: masked pixels never reach disk."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from rtcc.video.analytics.privacy import (
    InvalidPrivacyMask,
    apply_mask_to_frame,
    mask_for_size,
    render_mask_png,
)
from rtcc.video.recording.recorder import ffmpeg_command

WIDTH, HEIGHT = 640, 360
BRIGHT = "0xE0C080"  # every channel >= 128, so an unmasked pixel can never pass for black
TOP_LEFT_BOX = [[0.0, 0.0], [0.3, 0.0], [0.3, 0.35], [0.0, 0.35]]
CENTRE_TRIANGLE = [[0.45, 0.45], [0.8, 0.55], [0.55, 0.9]]
# Reaches past the frame on purpose: clamped, it must still black out the top-right corner pixel.
TOP_RIGHT_CORNER = [[0.75, -0.2], [1.2, -0.2], [1.2, 0.4]]
# Samples this far inside/outside a polygon's edge. H.264 codes 4:2:0 chroma in blocks 16 image pixels wide,
# so the bright side of a diagonal edge rings up to ~10 px into the black (its own colour, not masked content).
EDGE_MARGIN_PX = 10
BLACK_AT_MOST = 16
BRIGHT_AT_LEAST = 100


def make_clip(path: Path, *, size: str, seconds: float, colour: str = BRIGHT, offset_s: float = 0.0, fmt: str = "mp4") -> Path:
    """A bright H.264 clip with sensor-like noise, as a camera would send."""
    command = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c={colour}:size={size}:rate=15",
               "-vf", "noise=alls=6:allf=t", "-t", str(seconds), "-c:v", "libx264", "-g", "15", "-pix_fmt", "yuv420p"]
    if offset_s:
        command += ["-output_ts_offset", str(offset_s)]
    result = subprocess.run([*command, "-f", fmt, str(path)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"ffmpeg is missing or broken (run scripts/media-deps.sh): {result.stderr[-300:]}")
    return path


@pytest.fixture(scope="module")
def bright_clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "bright.mp4", size=f"{WIDTH}x{HEIGHT}", seconds=4)


def record_masked(source: Path, polygons, workdir: Path, *, seconds: float = 4) -> list[Path]:
    """Run the recorder's ffmpeg command with the mask spliced in; the closed segment files."""
    mask_png = render_mask_png(polygons, workdir / "mask.png")
    pattern, segment_list = workdir / "seg_%05d.mp4", workdir / "segments.csv"
    command = ffmpeg_command(ffmpeg="ffmpeg", url=f"file://{source}", pattern=pattern, segment_list=segment_list,
                             segment_seconds=2, io_timeout_s=5, mask_png=mask_png)
    # A file camera plays as if live and loops; here it is read once, as fast as possible, so the test is quick.
    looping = command.index("-re")
    assert command[looping:looping + 3] == ["-re", "-stream_loop", "-1"], command
    del command[looping:looping + 3]
    segment_at = command.index("segment") - 1  # stop after `seconds`, like a recorder being stopped
    command = [*command[:segment_at], "-t", str(seconds), *command[segment_at:]]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr[-1000:]
    names = [line.split(",")[0] for line in segment_list.read_text().splitlines() if line.strip()]
    assert names, "no segment closed"
    return [workdir / name for name in names]


def decoded_frames(segments: list[Path]) -> list[np.ndarray]:
    frames = []
    for segment in segments:
        capture = cv2.VideoCapture(str(segment))
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame)
        capture.release()
    assert frames, "the segments hold no decodable video"
    return frames


def inside_and_outside(polygons, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean maps of pixels safely inside the mask and safely outside it."""
    mask = mask_for_size(polygons, width, height)
    kernel = np.ones((2 * EDGE_MARGIN_PX + 1,) * 2, np.uint8)
    inside = cv2.erode(mask, kernel, borderType=cv2.BORDER_REPLICATE) > 0
    outside = cv2.dilate(mask, kernel) == 0
    return inside, outside


def assert_masked(frames: list[np.ndarray], polygons) -> None:
    for number, frame in enumerate(frames):
        height, width = frame.shape[:2]
        inside, outside = inside_and_outside(polygons, width, height)
        brightest_channel = frame.max(axis=2)
        assert inside.any() and outside.any()
        assert brightest_channel[inside].max() <= BLACK_AT_MOST, f"frame {number}: a masked pixel reached disk"
        assert brightest_channel[outside].min() >= BRIGHT_AT_LEAST, f"frame {number}: an unmasked pixel went dark"


def test_several_polygons_are_black_on_disk_and_the_rest_is_untouched(bright_clip, tmp_path):
    polygons = [TOP_LEFT_BOX, CENTRE_TRIANGLE]
    frames = decoded_frames(record_masked(bright_clip, polygons, tmp_path))
    assert len(frames) >= 55  # ~4 s at 15 fps: every frame was kept, none dropped by the filter
    assert frames[0].shape[:2] == (HEIGHT, WIDTH)  # the 1920x1080 mask was fitted to the camera
    assert_masked(frames, polygons)


def test_a_polygon_past_the_frame_blacks_out_the_corner(bright_clip, tmp_path):
    frames = decoded_frames(record_masked(bright_clip, [TOP_RIGHT_CORNER], tmp_path))
    assert_masked(frames, [TOP_RIGHT_CORNER])
    for frame in frames:
        assert frame[0, WIDTH - 1].max() <= BLACK_AT_MOST
        assert frame[:3, WIDTH - 3:].max() <= BLACK_AT_MOST


def test_segments_start_on_a_keyframe_and_have_one_at_least_every_second(bright_clip, tmp_path):
    segments = record_masked(bright_clip, [TOP_LEFT_BOX], tmp_path)
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "frame=pict_type,pts_time",
                            "-of", "csv=p=0", str(segments[0])], capture_output=True, text=True, check=True)
    rows = [line.split(",")[:2] for line in probe.stdout.split() if line]
    keyframe_times = [float(time) for time, kind in rows if kind == "I"]
    assert keyframe_times[0] == 0.0
    # x264 may add scene-cut keyframes (noise on a flat colour looks like one); the gap never exceeds ~1 s.
    frame_times = [float(time) for time, _ in rows]
    gaps = [b - a for a, b in zip(keyframe_times, [*keyframe_times[1:], frame_times[-1]])]
    assert max(gaps) <= 1.0 + 1 / 15 + 1e-3


def test_mask_holds_when_the_camera_changes_resolution_mid_stream(tmp_path):
    # ffmpeg rebuilds its filter graph on a size change; a mask fed as a second input would be lost there.
    first = make_clip(tmp_path / "a.ts", size="640x360", seconds=2, fmt="mpegts")
    second = make_clip(tmp_path / "b.ts", size="320x180", seconds=2, colour="0xC0E0A0", offset_s=2, fmt="mpegts")
    joined = tmp_path / "camera.ts"
    joined.write_bytes(first.read_bytes() + second.read_bytes())
    frames = decoded_frames(record_masked(joined, [TOP_LEFT_BOX, CENTRE_TRIANGLE], tmp_path))
    assert len(frames) >= 50
    assert_masked(frames, [TOP_LEFT_BOX, CENTRE_TRIANGLE])


def test_mask_covers_frames_with_negative_timestamps(bright_clip, tmp_path):
    # A camera clock can hand ffmpeg frames stamped before the mask's own first frame.
    shifted = tmp_path / "early.ts"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(bright_clip), "-c", "copy",
                    "-output_ts_offset", "-1", "-f", "mpegts", str(shifted)], check=True)
    frames = decoded_frames(record_masked(shifted, [TOP_LEFT_BOX], tmp_path))
    assert_masked(frames, [TOP_LEFT_BOX])


def test_mask_png_is_opaque_black_inside_and_transparent_outside(tmp_path):
    path = render_mask_png([TOP_LEFT_BOX, TOP_RIGHT_CORNER], tmp_path / "masks" / "cam7.png", width=320, height=180)
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image.shape == (180, 320, 4)
    assert (image[:, :, :3] == 0).all()
    assert image[10, 10, 3] == 255 and image[0, 319, 3] == 255
    assert image[170, 160, 3] == 0
    assert not list(path.parent.glob("*.tmp"))  # the atomic write left nothing behind


def test_apply_mask_to_frame_blacks_out_only_the_polygons():
    frame = np.full((360, 640, 3), 200, np.uint8)
    masked = apply_mask_to_frame(frame, [TOP_LEFT_BOX, TOP_RIGHT_CORNER])
    assert (frame == 200).all()  # the caller's frame is left alone
    inside, outside = inside_and_outside([TOP_LEFT_BOX, TOP_RIGHT_CORNER], 640, 360)
    assert masked[inside].max() == 0 and masked[outside].min() == 200
    assert (apply_mask_to_frame(frame, []) == frame).all()
    gray = apply_mask_to_frame(np.full((36, 64), 90, np.uint8), [TOP_LEFT_BOX])
    assert gray[0, 0] == 0 and gray[30, 60] == 90


def test_a_polygon_with_too_few_points_is_refused(tmp_path):
    with pytest.raises(InvalidPrivacyMask):
        render_mask_png([[[0.1, 0.1], [0.2, 0.2]]], tmp_path / "bad.png")
