"""A clip cut from recordings (evidence export, playback) holds every frame of the window asked for.

The camera: 15 fps H.264 with B-frames (as many cameras' main profile streams) and a keyframe every second,
each frame carrying its number as eight black/white blocks. Debian's ffmpeg encodes it and cuts it into 3 s
segments with the recorder's own output arguments; they are indexed as the recorder indexes them. A frame's
time is its segment's indexed start plus its timestamp in the segment: what the index tells a user.

Before the cut used in- and outpoints, ffmpeg's seek on the concat list failed (segments starting at a
timestamp other than 0, or a start that is no whole tick of the segment's clock) and the clip began at the next
keyframe: these windows lost 6 of 61 frames, the recording's first 15, and all 9 of a short clip.
"""

import io
import subprocess
from datetime import timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from factories import make_camera

from rtcc.video.pipeline.recording_supervisor import media_store
from rtcc.video.recording.outputs import recording_outputs
from rtcc.video.recording.salvage import SegmentIndexer
from rtcc.video.recording.storage import RecordingSession

FPS, GOP, SEGMENT_SECONDS, SECONDS = 15, 15, 3, 9
WIDTH, HEIGHT, BITS = 320, 240, 8


@pytest.fixture
def database_url(tmp_path):
    """SQLite only: this test is about the video cut; the index is tested on PostgreSQL elsewhere."""
    return f"sqlite:///{tmp_path / 'rtcc.sqlite3'}"


def numbered_frame(number: int) -> bytes:
    image = np.full((HEIGHT, WIDTH, 3), 40, np.uint8)
    for bit in range(BITS):
        if number >> bit & 1:
            image[100:140, bit * 40:(bit + 1) * 40] = 255
    image[0:20, (number * 3) % 300:(number * 3) % 300 + 20] = 128  # something moves, as on a street
    return image.tobytes()


def number_of(image: np.ndarray) -> int:
    return sum(1 << bit for bit in range(BITS) if image[120, bit * 40 + 20].mean() > 128)


def numbers_in(video: Path | bytes) -> list[int]:
    """The frame numbers a clip shows, in the order it plays them."""
    with av.open(str(video) if isinstance(video, Path) else io.BytesIO(video)) as container:
        return [number_of(frame.to_ndarray(format="rgb24")) for frame in container.decode(video=0)]


@pytest.fixture(scope="module")
def camera_video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("clip-frames") / "camera.mp4"
    encode = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{WIDTH}x{HEIGHT}",
         "-r", str(FPS), "-i", "-", "-c:v", "libx264", "-g", str(GOP), "-keyint_min", str(GOP), "-sc_threshold", "0",
         "-bf", "2", "-pix_fmt", "yuv420p", str(path)],
        input=b"".join(numbered_frame(number) for number in range(FPS * SECONDS)), capture_output=True, check=False)
    if encode.returncode != 0:
        pytest.fail(f"ffmpeg is missing or broken (run scripts/media-deps.sh): {encode.stderr[-300:]}")
    return path


@pytest.fixture
def recorded(runtime, camera_video):
    """The camera's video in indexed segments, and when (by the index) each numbered frame was recorded."""
    camera_id = make_camera(runtime, name="Main & 3rd", main_stream_url=f"file://{camera_video}")
    store = media_store(runtime)
    session = RecordingSession(store, camera_id)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(camera_video), "-map", "0:v", "-c", "copy",
                    *recording_outputs(pattern=session.pattern, segment_list=session.segment_list,
                                       segment_seconds=SEGMENT_SECONDS)], check=True)
    segments = session.collect_closed(final=True)
    indexer = SegmentIndexer(runtime, store)
    recorded_at = {}
    for segment in segments:
        assert indexer.index(segment)
        with av.open(str(store.absolute(segment.path))) as container:
            frames = [(number_of(frame.to_ndarray(format="rgb24")), frame.time) for frame in container.decode(video=0)]
        first = min(time for _, time in frames)
        recorded_at.update({number: segment.started_at + timedelta(seconds=time - first) for number, time in frames})
    assert len(segments) == SECONDS // SEGMENT_SECONDS and sorted(recorded_at) == list(range(FPS * SECONDS))
    return {"camera_id": camera_id, "segments": segments, "recorded_at": recorded_at}


def frames_between(recorded, start, end) -> list[int]:
    return sorted(number for number, at in recorded["recorded_at"].items() if start <= at < end)


def assert_holds_window(shown: list[int], wanted: list[int]) -> None:
    missing = sorted(set(wanted) - set(shown))
    assert not missing, f"{len(missing)} of the window's {len(wanted)} frames missing: {missing[:20]}"
    assert shown == sorted(set(shown)), "every frame once, in the order recorded"
    # Stream copy starts at the keyframe at or before the window (a GOP at most before it); it ends at most
    # playback.REORDER_ALLOWANCE_S (and the frames decoded before it) after.
    assert shown[0] == wanted[0] // GOP * GOP
    assert shown[-1] - wanted[-1] <= FPS


def test_an_evidence_export_holds_every_frame_of_a_window_across_two_segments(recorded, signed_in_as, runtime):
    """Starting inside the first GOP of a segment, ending mid-segment: the window crosses a segment boundary."""
    analyst, _ = signed_in_as("analyst")
    second, third = recorded["segments"][1], recorded["segments"][2]
    start, end = second.started_at + timedelta(seconds=0.537), third.started_at + timedelta(seconds=1.611)
    wanted = frames_between(recorded, start, end)
    assert len(wanted) >= 4 * FPS
    created = analyst.post(f"/api/v1/cameras/{recorded['camera_id']}/exports", json={
        "start": start.isoformat(), "end": end.isoformat(), "case_number": "HOM-2026-0117",
        "purpose": "homicide investigation, suspect vehicle", "purpose_category": "0900"})
    assert created.status_code == 201, created.text
    bag = runtime.settings.data_dir / "exports" / created.json()["path"]
    clip = next((bag / "data").iterdir())
    assert_holds_window(numbers_in(clip), wanted)


def test_playback_of_a_whole_recording_holds_its_first_and_last_frames(recorded, signed_in_as):
    """Asked from before the recording began to after it ended (the colleague's 5 of 10 frames)."""
    analyst, _ = signed_in_as("analyst")
    first, last = recorded["segments"][0], recorded["segments"][-1]
    start, end = first.started_at - timedelta(seconds=1), last.ended_at + timedelta(seconds=1)
    movie = analyst.get(f"/api/v1/cameras/{recorded['camera_id']}/playback",
                        params={"start": start.isoformat(), "end": end.isoformat()})
    assert movie.status_code == 200, movie.text
    assert numbers_in(movie.content) == list(range(FPS * SECONDS))


def test_playback_of_less_than_a_gop_holds_the_window(recorded, signed_in_as):
    """Under a second inside a segment's first GOP: the clip begins at that GOP's keyframe (it was empty)."""
    analyst, _ = signed_in_as("analyst")
    first = recorded["segments"][0]
    start, end = first.started_at + timedelta(seconds=0.1437), first.started_at + timedelta(seconds=0.7781)
    movie = analyst.get(f"/api/v1/cameras/{recorded['camera_id']}/playback",
                        params={"start": start.isoformat(), "end": end.isoformat()})
    assert movie.status_code == 200, movie.text
    assert_holds_window(numbers_in(movie.content), frames_between(recorded, start, end))
