"""Live view from the segment a recorder writes: nothing read unwatched, instant start, one timeline across segments."""

import asyncio
import itertools
import subprocess
from pathlib import Path

import pytest

from rtcc.video.fmp4 import (
    InitSegment,
    MediaFragment,
    find_box,
    fragment_decode_span,
    iter_boxes,
    video_only_init,
)
from rtcc.video.recording.recorder import ffmpeg_command
from rtcc.video.live.recording_feed import RecorderLiveFeed
from rtcc.video.recording.storage import SegmentStore


@pytest.fixture(scope="module")
def clip_with_audio(tmp_path_factory) -> Path:
    """8 s of H.264 (a keyframe a second) with an AAC track, as many cameras send."""
    path = tmp_path_factory.mktemp("feed") / "street.mp4"
    result = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=15",
                             "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000", "-t", "8",
                             "-c:v", "libx264", "-g", "15", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"ffmpeg is missing or broken (run scripts/media-deps.sh): {result.stderr[-300:]}")
    return path


class Collector:
    def __init__(self) -> None:
        self.inits: list[InitSegment] = []
        self.fragments: list[MediaFragment] = []
        self.statuses: list[str] = []

    def on_feed_init(self, init: InitSegment) -> None:
        self.inits.append(init)

    def on_feed_fragment(self, fragment: MediaFragment) -> None:
        self.fragments.append(fragment)

    def on_feed_status(self, state: str, detail: str | None) -> None:
        self.statuses.append(state)


def tracks_in(init: InitSegment) -> int:
    moov = find_box(init.data, [b"moov"])
    return sum(box_type == b"trak" for box_type, _, _ in iter_boxes(init.data, *moov))


def test_a_watched_recording_is_one_live_stream_and_an_unwatched_one_is_not_read(clip_with_audio, tmp_path):
    import av

    store = SegmentStore(tmp_path / "media")
    session = store.new_session(7)
    command = ffmpeg_command(ffmpeg="ffmpeg", url=f"file://{clip_with_audio}", pattern=session.pattern,
                             segment_list=session.segment_list, segment_seconds=1, io_timeout_s=5, live_fragment_ms=100)

    async def scenario() -> tuple[Collector, dict, dict]:
        process = await asyncio.create_subprocess_exec(*command, stdin=asyncio.subprocess.DEVNULL,
                                                       stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        feed = RecorderLiveFeed(camera_id=7, url=f"file://{clip_with_audio}")
        following = asyncio.create_task(feed.follow_session(session, process))

        async def index_as_the_recorder_does():  # closed segments move out of incoming while being tailed
            while True:
                await asyncio.to_thread(session.collect_closed)
                await asyncio.sleep(0.5)

        indexing = asyncio.create_task(index_as_the_recorder_does())
        try:
            await asyncio.sleep(2.5)
            unwatched = feed.stats()
            collector = Collector()
            feed.subscribe(collector)
            await asyncio.sleep(4)
            feed.unsubscribe(collector)
            await asyncio.sleep(0.2)
            left = feed.stats()
            return collector, unwatched, left
        finally:
            indexing.cancel()
            process.terminate()
            await process.wait()
            await following

    collector, unwatched, left = asyncio.run(scenario())
    assert unwatched["fragments"] == 0 and not unwatched["reading"], "nobody watched, yet the feed read the segments"
    assert not left["reading"], "the last viewer left, yet the feed goes on reading"
    assert left["segments_followed"] >= 2, "the feed must follow the recorder from one segment into the next"

    assert len(collector.inits) == 1, "one init for the whole run: rollovers are invisible to the player"
    init = collector.inits[0]
    assert init.is_h264 and tracks_in(init) == 1, "live view is video only"
    assert collector.fragments[0].keyframe, "a viewer starts at a keyframe"
    assert len(collector.fragments) >= 25, "about ten fragments a second"

    # One decode timeline: each fragment starts where the one before ended, across segment boundaries.
    _, track = video_only_init(init)  # the track and trex default duration, as the recording's storage reads them
    spans = [fragment_decode_span(fragment, track) for fragment in collector.fragments]
    assert all(later[0] == earlier[1] for earlier, later in itertools.pairwise(spans)), spans[:40]

    movie = tmp_path / "live.mp4"
    movie.write_bytes(init.data + b"".join(fragment.data for fragment in collector.fragments))
    with av.open(str(movie)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) >= 50
    times = [frame.time for frame in frames]
    assert times == sorted(times) and times[-1] - times[0] >= 3.0
