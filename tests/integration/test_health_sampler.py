"""The sub-stream sampler on real ffmpeg: a camera that goes black is reported black; a dead one offline."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from pathlib import Path

import pytest

from rtcc.video.analytics.health import FrameHealthAnalyser, SubStreamSampler


@pytest.fixture(scope="module")
def goes_black_clip(tmp_path_factory) -> Path:
    """8 s: 4 s of moving test pattern, then 4 s of black, as a camera whose picture dies."""
    path = tmp_path_factory.mktemp("clips") / "goes_black.mp4"
    result = subprocess.run([
        "ffmpeg", "-nostdin", "-v", "error", "-y",
        "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=15:duration=4",
        "-f", "lavfi", "-i", "color=c=black:size=320x180:rate=15:duration=4",
        "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0",
        "-c:v", "libx264", "-g", "15", "-pix_fmt", "yuv420p", str(path)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"ffmpeg is missing or broken (run scripts/media-deps.sh): {result.stderr[-300:]}")
    return path


def test_sampler_on_a_real_stream_turns_black(goes_black_clip):
    statuses: list[str] = []

    async def record_status(state: str, detail: str | None) -> None:
        statuses.append(state)

    async def scenario() -> tuple[list[str], tuple]:
        sampler = SubStreamSampler(f"file://{goes_black_clip}", fps=2, stale_after_s=5, on_status=record_status,
                                   privacy_masks=[[[0, 0], [0.25, 0], [0.25, 0.4], [0, 0.4]]])
        analyser = FrameHealthAnalyser(black_seconds=1.5, clear_seconds=1)
        verdicts: list[str] = []
        async with contextlib.aclosing(sampler.frames()) as frames:
            async for frame in frames:
                assert frame.pixels.shape == (36, 64)
                assert frame.pixels[:14, :15].max() == 0  # the privacy mask is applied before analysis
                verdicts.append(analyser.feed(frame.pixels, frame.monotonic_s))
                if verdicts[-1] == "black":
                    break
        return verdicts, sampler.status

    verdicts, final_status = asyncio.run(asyncio.wait_for(scenario(), timeout=18))
    assert verdicts[-1] == "black"
    assert verdicts.count("ok") >= 4  # the picture was healthy for its first seconds
    assert statuses[0] == "online"  # it starts as "connecting"; the first frame makes it online
    assert final_status == ("stopped", None)


def test_sampler_reports_offline_when_it_cannot_connect():
    async def scenario() -> tuple:
        sampler = SubStreamSampler("rtsp://127.0.0.1:9/nothing", io_timeout_s=2)
        async with contextlib.aclosing(sampler.frames()) as frames:
            consumer = asyncio.create_task(anext(frames, None))
            for _ in range(50):
                await asyncio.sleep(0.1)
                if sampler.status[0] == "offline":
                    break
            status = sampler.status
            await sampler.stop()
            assert await consumer is None  # frames() ends on stop
        return status

    state, detail = asyncio.run(asyncio.wait_for(scenario(), timeout=10))
    assert state == "offline"
    assert detail.startswith("unreachable")
