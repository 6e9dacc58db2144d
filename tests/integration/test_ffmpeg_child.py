"""One ffmpeg child, stopped while its output is unread: it is reaped, and nothing of it stays open."""

import asyncio
import signal

from rtcc.video.pipeline.ffmpeg_child import FfmpegChild

FRAME = 640 * 360 * 3  # one raw RGB frame: far more than the pipe's reader buffers before it pauses


def test_a_decoder_stopped_with_frames_unread_is_reaped_and_its_pipes_close():
    # The decoder stops reading the moment it is told to stop, while ffmpeg still writes frames. Before the
    # fix asyncio's wait() never returned (it waits for every pipe to close; the paused stdout pipe never saw
    # its end), so stopping a camera hung its pipeline for good.
    async def scenario():
        child = FfmpegChild(["-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=15",
                             "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                            ffmpeg="ffmpeg", stdout=True, stop_signal=signal.SIGTERM, grace_s=5)
        process = await child.start()
        await process.stdout.readexactly(FRAME)
        await asyncio.sleep(1.0)  # frames pile up unread, as after a stop
        child.stop()
        await asyncio.wait_for(child.finish(), timeout=60)  # a guard against the hang, not a speed limit
        return process

    process = asyncio.run(scenario())
    assert process.returncode is not None and process.returncode != -signal.SIGKILL, "ffmpeg was not stopped politely"
    assert process.stdout.at_eof(), "the output pipe was left open"
    assert process._transport.is_closing(), "the child's transport (and its file descriptors) was left open"
