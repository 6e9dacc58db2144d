"""Settings grouped per domain: every RTCC_* name as before, each setting in one group, thresholds that take effect."""

import subprocess
import sys

import numpy as np
import pytest
from pydantic import ValidationError

from rtcc.alpr.video.passes import MotionGate
from rtcc.settings import SETTINGS_GROUPS, Settings
from rtcc.video.analytics.health import FrameHealthAnalyser
from rtcc.video.settings import VideoSettings


def test_every_setting_is_declared_by_exactly_one_domain_group():
    declared = [name for group in SETTINGS_GROUPS for name in group.__dict__.get("__annotations__", {})
                if name in group.model_fields]
    assert sorted(declared) == sorted(Settings.model_fields)
    assert len(declared) == len(set(declared))


def test_a_group_reads_the_same_rtcc_variables_on_its_own(monkeypatch):
    monkeypatch.setenv("RTCC_HEALTH_BLACK_SECONDS", "2.5")
    monkeypatch.setenv("RTCC_SEGMENT_SECONDS", "4")
    assert VideoSettings().health_black_seconds == Settings().health_black_seconds == 2.5
    assert VideoSettings().segment_seconds == 4


def test_the_core_settings_import_no_domain():
    """core sits below every domain, so reading its settings must not pull one in."""
    loaded = subprocess.run([sys.executable, "-c", "import sys, rtcc.core.config; "
                             "print(sorted(m for m in sys.modules if m.startswith('rtcc.') and not m.startswith('rtcc.core')))"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


def test_thresholds_out_of_their_bounds_are_refused_by_name():
    with pytest.raises(ValidationError, match="video_reads_fps"):
        Settings(video_reads_fps=100)
    with pytest.raises(ValidationError, match="health_moved_max_correlation"):
        Settings(health_moved_max_correlation=2)


def test_the_black_picture_threshold_is_the_setting():
    black = np.zeros((36, 64), dtype=np.uint8)
    quick = FrameHealthAnalyser(**Settings(health_black_seconds=1).frame_health_thresholds())
    default = FrameHealthAnalyser(**Settings().frame_health_thresholds())
    verdicts = [(quick.feed(black, second), default.feed(black, second)) for second in (0.0, 0.5, 1.0, 1.5, 2.0)]
    assert verdicts[-1] == ("black", "ok")  # the default waits 5 s


def test_the_plate_motion_gate_threshold_is_the_setting():
    still = np.full((360, 640, 3), 90, dtype=np.uint8)
    every_frame = MotionGate(**Settings(video_reads_motion_threshold=0).motion_gate_thresholds())
    gated = MotionGate(**Settings().motion_gate_thresholds())
    read = [(every_frame.should_read(still), gated.should_read(still)) for _ in range(4)]
    assert [pair[0] for pair in read] == [True] * 4
    assert [pair[1] for pair in read] == [True, False, False, False]  # a still picture is read once


def test_plate_reading_frame_sizes_are_settings():
    settings = Settings(video_reads_sub_stream_width=800, video_reads_sub_stream_height=450)
    assert settings.plate_frame_size("sub") == (800, 450)
    assert settings.plate_frame_size("main") == (1280, 720)


@pytest.mark.parametrize("name", ["cad_time_zone", "review_time_zone"])
def test_every_time_zone_setting_refuses_an_unknown_zone(name):
    # Each group's validator has its own name: two of the same name in the composed Settings, one hid the other.
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        Settings(**{name: "Mars/Olympus"})


def test_no_two_groups_name_a_validator_alike():
    # A validator is a method: one of the same name in a later group overrides, and the earlier check never runs.
    names = [name for group in SETTINGS_GROUPS for name in group.__pydantic_decorators__.field_validators
             if name in vars(group)]  # the validators each group declares itself
    assert "_known_review_time_zone" in names
    assert len(names) == len(set(names)), sorted(name for name in names if names.count(name) > 1)
