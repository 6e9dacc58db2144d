"""The few things every ffmpeg child needs: its last words kept, a polite stop, and a kill if it lingers."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque


async def collect_stderr(process: asyncio.subprocess.Process | None, sink: deque[str]) -> None:
    """Keep the child's recent stderr lines (its last words explain a failure)."""
    if process is None or process.stderr is None:
        return
    async for raw in process.stderr:
        if line := raw.decode("utf-8", "replace").strip():
            sink.append(line)


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
    except asyncio.TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
