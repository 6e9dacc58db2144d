"""Where the live relay still finds the ffmpeg child helpers; their home is rtcc.video.pipeline.ffmpeg_child."""

from __future__ import annotations

from rtcc.video.pipeline.ffmpeg_child import (
    collect_stderr,
    end_with_parent,
    signal_if_running,
    wait_or_kill,
)

__all__ = ["collect_stderr", "end_with_parent", "signal_if_running", "wait_or_kill"]
