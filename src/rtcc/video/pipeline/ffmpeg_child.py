"""One ffmpeg child: spawned from settings.ffmpeg_path, stopped politely, killed if it lingers, its last words kept.

Every ffmpeg a camera runs (recorder, sub-stream decoder) is one of these; `Backoff` spaces its restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import random
import signal
from collections import deque

PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Looked up here, not in the child: a preexec_fn should do as little as it can. Linux only (elsewhere: None).
_prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)

# What ffmpeg says when it fails, and what an operator should read in the camera's status.
FAILURE_PATTERNS = (
    ("401 Unauthorized", "wrong_credentials", "the camera refused the credentials (401)"),
    ("403 Forbidden", "wrong_credentials", "the camera refused access (403)"),
    ("Connection refused", "unreachable", "connection refused"),
    ("No route to host", "unreachable", "no route to host"),
    ("Network is unreachable", "unreachable", "network unreachable"),
    ("Name or service not known", "unreachable", "host name not found"),
    ("timed out", "unreachable", "timed out waiting for the camera"),
    ("404 Not Found", "bad_stream", "stream path not found (404)"),
    ("Invalid data found", "bad_stream", "the stream is not valid video"),
    ("Could not find codec parameters", "bad_stream", "no decodable video in the stream"),
    ("does not contain any stream", "bad_stream", "no video in the stream"),
    ("Unsupported codec", "unsupported_codec", "unsupported codec"),
    ("not currently supported in container", "unsupported_codec", "codec cannot be stored as MP4"),
    ("No space left on device", "disk_full", "the recording disk is full"),
)


def classify_failure(stderr_lines: list[str]) -> tuple[str, str]:
    """(kind, human detail) from ffmpeg's last words."""
    text = "\n".join(stderr_lines)
    for needle, kind, detail in FAILURE_PATTERNS:
        if needle.lower() in text.lower():
            return kind, detail
    last = stderr_lines[-1].strip() if stderr_lines else "the stream ended"
    return "error", last[:200]


def end_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM when the server dies, even by SIGKILL, so no orphan keeps writing."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


async def collect_stderr(process: asyncio.subprocess.Process | None, sink: deque[str]) -> None:
    """Keep the child's recent stderr lines (its last words explain a failure)."""
    if process is None or process.stderr is None:
        return
    async for raw in process.stderr:
        if line := raw.decode("utf-8", "replace").strip():
            sink.append(line)


async def discard(stream: asyncio.StreamReader) -> None:
    """Read a stream to its end, keeping nothing."""
    while await stream.read(1 << 16):
        pass


def signal_if_running(process: asyncio.subprocess.Process | None, signal_number: int) -> None:
    """Send a signal unless the child has already exited."""
    if process is not None and process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal_number)


async def wait_or_kill(process: asyncio.subprocess.Process | None, timeout_s: float) -> None:
    """Wait for the child to exit; kill it after `timeout_s`."""
    if process is None:
        return
    try:
        await asyncio.wait_for(process.wait(), timeout=timeout_s)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


class FfmpegChild:
    """One run of ffmpeg: start(), read its stdout if piped, stop() politely, finish() to reap it and its last words.

    `arguments` is everything after the executable. The polite stop is SIGINT for a writer (ffmpeg closes its
    open file cleanly) and SIGTERM for a decoder; a child still alive `grace_s` later is killed.
    """

    def __init__(self, arguments: list[str], *, ffmpeg: str, stdout: bool = False, stop_signal: int = signal.SIGINT,
                 grace_s: float = 10.0, last_words: int = 30):
        self.command = [ffmpeg, *arguments]
        self.pipe_stdout = stdout
        self.stop_signal = stop_signal
        self.grace_s = grace_s
        self.last_words: deque[str] = deque(maxlen=last_words)
        self.process: asyncio.subprocess.Process | None = None
        self._stderr_reader: asyncio.Task | None = None

    async def start(self) -> asyncio.subprocess.Process:
        """Spawn ffmpeg in its own session (so our Ctrl-C is not its), ending with the server, clocks in UTC."""
        self.process = await asyncio.create_subprocess_exec(
            *self.command, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if self.pipe_stdout else asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE, env={**os.environ, "TZ": "UTC"}, start_new_session=True,
            preexec_fn=end_with_parent,  # its own session keeps it from our Ctrl-C, so it must know when we die
        )
        self._stderr_reader = asyncio.create_task(collect_stderr(self.process, self.last_words))
        return self.process

    @property
    def stdout(self) -> asyncio.StreamReader | None:
        return self.process.stdout if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    def stop(self) -> None:
        """Ask ffmpeg to end (it finishes what it is writing); finish() kills it if it will not."""
        signal_if_running(self.process, self.stop_signal)

    async def finish(self) -> tuple[str, str]:
        """Wait for the child to end (killing it after the grace period); (kind, detail) from its last words."""
        # asyncio's wait() returns only once every pipe of the child has closed, and a full buffer of unread
        # frames pauses the stdout pipe, which then never sees its end: a decoder stopped while ffmpeg was still
        # writing a frame would never be reaped (and its ffmpeg would block writing, past its polite stop). What
        # it writes after we stopped reading is thrown away.
        draining = asyncio.create_task(discard(self.process.stdout)) if self.stdout is not None else None
        await wait_or_kill(self.process, timeout_s=self.grace_s)
        if draining is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(draining, timeout=2)
        if self._stderr_reader is not None:
            # Its stderr ends with it; a grandchild still holding the pipe must not hold us too.
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._stderr_reader, timeout=2)
        return classify_failure(list(self.last_words))


class Backoff:
    """Seconds to wait before the next restart: doubling up to a ceiling, jittered, back to the start on success."""

    def __init__(self, *, initial_s: float = 1.0, max_s: float = 60.0, jitter: float = 0.25):
        self.initial_s, self.max_s, self.jitter = initial_s, max_s, jitter
        self.next_s = initial_s

    def reset(self) -> None:
        self.next_s = self.initial_s

    async def wait(self, stopping: asyncio.Event) -> None:
        """Sleep the current delay (or until `stopping`), then double it for next time."""
        # Jittered, so cameras that failed together (a switch rebooting) do not all retry in the same instant.
        delay = self.next_s * random.uniform(1 - self.jitter, 1 + self.jitter) if self.jitter else self.next_s
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=delay)
        self.next_s = min(self.next_s * 2, self.max_s)
