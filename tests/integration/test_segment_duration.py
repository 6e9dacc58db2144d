"""A segment's duration is read from its own fMP4 boxes: no ffprobe (nor any process) runs to index or salvage one."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from rtcc.video.recording.storage import media_duration_s

FRAGMENTED = "+frag_keyframe+empty_moov+default_base_moof"


def encode(path: Path, seconds: int, *, audio: bool = False, fragmented: bool = True) -> Path:
    """A clip as the recorder writes one (fragmented MP4, a keyframe a second), with AAC audio if asked."""
    inputs = ["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=10"]
    if audio:
        inputs += ["-f", "lavfi", "-i", "sine=frequency=440"]
    result = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *inputs, "-t", str(seconds), "-c:v", "libx264",
                             "-g", "10", "-pix_fmt", "yuv420p", *(["-c:a", "aac"] if audio else []),
                             *(["-movflags", FRAGMENTED] if fragmented else []), "-f", "mp4", str(path)],
                            capture_output=True, check=False)
    assert result.returncode == 0, result.stderr[-300:]
    return path


def refuse_processes(monkeypatch) -> None:
    """Any process started from here on fails the test."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("a process was started to read a segment's duration")
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)


def test_duration_of_whole_cut_short_audio_and_unreadable_segments(tmp_path, monkeypatch):
    whole = encode(tmp_path / "whole.mp4", 3)
    with_audio = encode(tmp_path / "audio.mp4", 3, audio=True)
    progressive = encode(tmp_path / "progressive.mp4", 2, fragmented=False)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])  # killed mid-fragment
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\0\0\4\0mdat" + b"not video" * 100)
    header_only = tmp_path / "header.mp4"
    header_only.write_bytes(whole.read_bytes()[:28])
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    refuse_processes(monkeypatch)

    assert media_duration_s(whole) == pytest.approx(3.0, abs=0.01)
    assert media_duration_s(with_audio) == pytest.approx(3.0, abs=0.01), "the video track's length, not the audio's"
    assert media_duration_s(progressive) == pytest.approx(2.0, abs=0.05), "a plain MP4 says its length in its header"
    # A segment the disk or a crash cut short: its last fragment counts once its media data begins (as ffprobe's).
    assert 1.0 <= media_duration_s(cut) <= 3.0
    assert media_duration_s(garbage) == media_duration_s(header_only) == media_duration_s(empty) == 0.0
    assert media_duration_s(tmp_path / "missing.mp4") == 0.0
