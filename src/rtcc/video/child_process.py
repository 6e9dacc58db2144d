"""The few things every ffmpeg child needs: its last words kept, a polite stop, and a kill if it lingers."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import signal
from collections import deque

PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Looked up here, not in the child: a preexec_fn should do as little as it can. Linux only (elsewhere: None).
_prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)


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
