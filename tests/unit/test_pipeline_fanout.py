"""The camera pipeline's parts without a camera: one decode for every consumer, bounded queues, the source table,
and one ffmpeg child's stop, kill and last words."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime

import numpy as np
import pytest

from rtcc.video.pipeline.consumers import (
    CONSUMER_KINDS,
    ConsumerFeed,
    ConsumerKind,
    DecodedFrame,
    FrameNeeds,
    consumer_kind,
    decoding_for,
    register_consumer_kind,
)
from rtcc.video.pipeline.decoder import decoder_arguments
from rtcc.video.pipeline.ffmpeg_child import Backoff, FfmpegChild
from rtcc.video.pipeline.health_consumer import HEALTH_NEEDS
from rtcc.video.pipeline.sources import HTTP_PROTOCOLS, RTSP_PROTOCOLS, input_arguments

PLATES_NEEDS = FrameNeeds(width=640, height=360, fps=2.0, colour=True, stream="sub")


class Collecting:
    """A consumer that keeps what it is given, optionally slowly."""

    def __init__(self, delay_s: float = 0.0):
        self.frames: list[DecodedFrame] = []
        self.delay_s = delay_s
        self.closed = False

    async def consume(self, frame: DecodedFrame) -> None:
        self.frames.append(frame)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)

    async def close(self) -> None:
        self.closed = True

    def stats(self) -> dict:
        return {"kept": len(self.frames)}


def colour_frame(at_s: float) -> DecodedFrame:
    pixels = np.full((360, 640, 3), 200, dtype=np.uint8)
    pixels[:180] = 40  # a dark top half survives the downscale
    return DecodedFrame(pixels, at_s, datetime(2026, 1, 1, tzinfo=UTC))


def test_health_and_plates_share_one_decode_at_the_plates_size_and_rate():
    decode = decoding_for([HEALTH_NEEDS, PLATES_NEEDS])
    assert (decode.width, decode.height, decode.fps, decode.colour, decode.stream) == (640, 360, 2.0, True, "sub")
    # Health alone keeps its own cheap decode: 64x36 grey at 1 fps.
    alone = decoding_for([HEALTH_NEEDS])
    assert (alone.width, alone.height, alone.fps, alone.colour) == (64, 36, 1.0, False)
    # A consumer that needs the main stream takes the decoder there; the others are served from it.
    assert decoding_for([HEALTH_NEEDS, FrameNeeds(1280, 720, 2.0, colour=True, stream="main")]).stream == "main"
    with pytest.raises(ValueError):
        decoding_for([])


def test_each_consumer_gets_frames_at_its_own_size_and_rate():
    async def scenario():
        health, plates = Collecting(), Collecting()
        feeds = [ConsumerFeed("health", health, HEALTH_NEEDS), ConsumerFeed("plates", plates, PLATES_NEEDS)]
        tasks = [asyncio.create_task(feed.run()) for feed in feeds]
        for number in range(10):  # 5 s of a 2 fps decode
            for feed in feeds:
                feed.offer(colour_frame(number * 0.5))
            await asyncio.sleep(0)
        for feed in feeds:
            feed.end()
        await asyncio.gather(*tasks)
        return health, plates, feeds

    health, plates, feeds = asyncio.run(scenario())
    assert len(plates.frames) == 10 and len(health.frames) == 5  # health at 1 fps takes every other frame
    assert plates.frames[0].pixels.shape == (360, 640, 3)
    grey = health.frames[0].pixels
    assert grey.shape == (36, 64) and grey.dtype == np.uint8
    assert grey[:18].mean() < 60 and grey[18:].mean() > 150  # the picture is the same picture, smaller and grey
    assert health.closed and plates.closed
    assert [feed.stats()["frames_dropped"] for feed in feeds] == [0, 0]


def test_a_consumer_that_lags_loses_its_own_oldest_frames_and_nobody_elses():
    async def scenario():
        slow, fast = Collecting(delay_s=0.05), Collecting()
        slow_feed = ConsumerFeed("slow", slow, PLATES_NEEDS, queue_frames=2)
        fast_feed = ConsumerFeed("fast", fast, PLATES_NEEDS, queue_frames=2)
        tasks = [asyncio.create_task(slow_feed.run()), asyncio.create_task(fast_feed.run())]
        for number in range(20):
            slow_feed.offer(colour_frame(number * 0.5))
            fast_feed.offer(colour_frame(number * 0.5))
            await asyncio.sleep(0.001)
        slow_feed.end()
        fast_feed.end()
        await asyncio.gather(*tasks)
        return slow, fast, slow_feed, fast_feed

    slow, fast, slow_feed, fast_feed = asyncio.run(scenario())
    assert fast_feed.frames_dropped == 0 and len(fast.frames) == 20
    assert slow_feed.frames_dropped > 0
    assert slow_feed.frames_dropped + len(slow.frames) == 20  # every frame is either handled or counted as dropped
    assert slow.frames[-1].monotonic_s == 19 * 0.5  # the newest frame is kept: a late picture is worth least
    assert slow_feed.stats()["frames_dropped"] == slow_feed.frames_dropped and slow_feed.stats()["kept"] == len(slow.frames)


def test_a_new_analytic_is_a_registered_kind_not_a_new_supervisor():
    kind = ConsumerKind("test_redaction_preview", wants=lambda camera, runtime, recorded: HEALTH_NEEDS,
                        build=lambda context: Collecting())
    try:
        register_consumer_kind(kind)
        assert consumer_kind("test_redaction_preview") is kind
    finally:
        CONSUMER_KINDS.pop("test_redaction_preview", None)
    with pytest.raises(KeyError, match="no consumer kind"):
        consumer_kind("test_redaction_preview")


def test_every_source_kind_keeps_its_whitelist_and_timeout():
    assert input_arguments("rtsp://10.0.0.5/s1#rtcc-transport=udp", io_timeout_s=7) == [
        "-rtsp_transport", "udp", "-timeout", "7000000", "-protocol_whitelist", RTSP_PROTOCOLS, "-i", "rtsp://10.0.0.5/s1"]
    assert input_arguments("https://cam.example/live.m3u8", io_timeout_s=5) == [
        "-rw_timeout", "5000000", "-protocol_whitelist", HTTP_PROTOCOLS, "-i", "https://cam.example/live.m3u8"]
    assert input_arguments("file:///srv/clips/street.mp4", io_timeout_s=5) == [
        "-re", "-stream_loop", "-1", "-protocol_whitelist", "file", "-i", "/srv/clips/street.mp4"]
    # Live view starts after a short probe; a looping file needs none.
    assert input_arguments("rtsp://10.0.0.5/s1", io_timeout_s=5, probe_seconds=0.5)[:4] == [
        "-analyzeduration", "500000", "-fflags", "nobuffer"]
    assert "-analyzeduration" not in input_arguments("file:///srv/a.mp4", io_timeout_s=5, probe_seconds=0.5)


def test_the_decoder_asks_ffmpeg_for_exactly_one_size_rate_and_pixel_format():
    colour = decoder_arguments("rtsp://10.0.0.5/sub", PLATES_NEEDS, io_timeout_s=10)
    assert colour[colour.index("-vf") + 1] == "fps=2.0,scale=640:360" and colour[colour.index("-pix_fmt") + 1] == "bgr24"
    grey = decoder_arguments("rtsp://10.0.0.5/sub", HEALTH_NEEDS, io_timeout_s=10)
    assert grey[grey.index("-vf") + 1] == "fps=1.0,scale=64:36:flags=area,format=gray"
    assert grey[-3:] == ["-f", "rawvideo", "pipe:1"] and "-protocol_whitelist" in grey


def test_a_child_says_why_it_failed():
    async def scenario():
        child = FfmpegChild(["-c", "echo 'rtsp://10.0.0.5: Connection refused' >&2; exit 1"], ffmpeg="/bin/sh")
        await child.start()
        return await child.finish()

    assert asyncio.run(scenario()) == ("unreachable", "connection refused")


def test_a_child_that_ignores_the_polite_stop_is_killed_after_its_grace():
    async def scenario():
        child = FfmpegChild(["-c", "trap '' INT; echo ready; exec sleep 30"], ffmpeg="/bin/sh", stdout=True,
                            stop_signal=signal.SIGINT, grace_s=0.5)
        process = await child.start()
        await process.stdout.readline()  # the trap is set
        child.stop()
        started = asyncio.get_running_loop().time()
        await child.finish()
        return process.returncode, asyncio.get_running_loop().time() - started

    returncode, waited_s = asyncio.run(scenario())
    assert returncode == -signal.SIGKILL and 0.4 <= waited_s < 5


def test_backoff_doubles_to_its_ceiling_and_starts_again_after_success():
    async def scenario():
        backoff, stopping = Backoff(initial_s=0.01, max_s=0.04, jitter=0), asyncio.Event()
        delays = []
        for _ in range(4):
            delays.append(backoff.next_s)
            await backoff.wait(stopping)
        backoff.reset()
        return delays, backoff.next_s

    assert asyncio.run(scenario()) == ([0.01, 0.02, 0.04, 0.04], 0.01)


def test_a_consumer_at_the_decoders_rate_gets_every_frame_however_unevenly_it_arrives():
    plates, health = Collecting(), Collecting()
    plates_feed = ConsumerFeed("plates", plates, PLATES_NEEDS, queue_frames=10, decoded_fps=2.0)
    health_feed = ConsumerFeed("health", health, HEALTH_NEEDS, queue_frames=10, decoded_fps=2.0)
    for at_s in (0.0, 0.1, 0.2, 1.0, 1.05):  # a stalled stream catching up
        plates_feed.offer(colour_frame(at_s))
        health_feed.offer(colour_frame(at_s))
    assert plates_feed.frames_offered == 5  # none thinned out by the jitter
    assert health_feed.frames_offered == 2  # health still at its own 1 fps
