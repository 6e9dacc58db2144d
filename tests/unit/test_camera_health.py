"""Camera health verdicts from synthetic 64x36 grey frames with sensor noise, and uptime arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from rtcc.video.analytics.health import (
    FrameHealthAnalyser,
    MotionDetector,
    intervals_from_status_changes,
    normalised_correlation,
    uptime_percent,
)

WIDTH, HEIGHT = 64, 36
NOISE_SIGMA = 2.0  # grey levels left after a camera's noise is averaged down to 64x36
rng = np.random.default_rng(7)


def textured_view(seed: int) -> np.ndarray:
    """A street-like view: smooth random shapes with edges, grey 30..220."""
    coarse = np.random.default_rng(seed).uniform(30, 220, size=(6, 10)).astype(np.float32)
    return cv2.resize(coarse, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC).clip(0, 255)


STREET = textured_view(1)
ELSEWHERE = textured_view(2)  # where the camera points once knocked


def with_noise(view: np.ndarray) -> np.ndarray:
    return (view + rng.normal(0, NOISE_SIGMA, view.shape)).clip(0, 255).astype(np.uint8)


def street_with_traffic(second: int) -> np.ndarray:
    """The street with a car crossing it and a pedestrian walking back and forth."""
    view = STREET.copy()
    car_x = (second * 5) % (WIDTH + 12) - 12
    view[20:28, max(0, car_x):max(0, car_x + 12)] = 240
    walker_x = 10 + abs((second % 40) - 20)
    view[8:16, walker_x:walker_x + 3] = 15
    return with_noise(view)


def covered_lens() -> np.ndarray:
    """A hand over the lens: lit, blurred to almost nothing."""
    return with_noise(np.full((HEIGHT, WIDTH), 70.0) + np.linspace(0, 6, WIDTH)[None, :])


def black() -> np.ndarray:
    return with_noise(np.full((HEIGHT, WIDTH), 2.0))


def feed(analyser: FrameHealthAnalyser, frames, start_s: float) -> list[str]:
    """Feed one frame a second from start_s; the verdict after each."""
    return [analyser.feed(frame, start_s + offset) for offset, frame in enumerate(frames)]


def settled(start_s: float = 60) -> FrameHealthAnalyser:
    """An analyser that has watched a minute of normal traffic."""
    analyser = FrameHealthAnalyser()
    assert set(feed(analyser, (street_with_traffic(s) for s in range(int(start_s))), 0)) == {"ok"}
    return analyser


def test_a_busy_street_stays_ok_for_ten_minutes():
    analyser = FrameHealthAnalyser()
    verdicts = feed(analyser, (street_with_traffic(s) for s in range(600)), 0)
    assert set(verdicts) == {"ok"}
    assert len(analyser.history) == 120  # bounded, whatever runs


def test_black_is_reported_after_black_seconds_and_clears_when_the_picture_returns():
    analyser = settled()
    verdicts = feed(analyser, (black() for _ in range(10)), 60)
    assert verdicts[:5] == ["ok"] * 5  # a moment of black (a cut, a flash) is not a fault
    assert verdicts[5:] == ["black"] * 5
    back = feed(analyser, (street_with_traffic(s) for s in range(10)), 70)
    assert back[-1] == "ok" and "black" in back[:2]  # clears after clear_seconds, not on one frame


def test_a_frozen_picture_is_reported_after_frozen_seconds():
    analyser = settled()
    stuck = street_with_traffic(61)
    verdicts = feed(analyser, [stuck] * 30, 60)
    assert verdicts[:20] == ["ok"] * 20
    assert verdicts[21:] == ["frozen"] * 9
    assert feed(analyser, (street_with_traffic(s) for s in range(5)), 90)[-1] == "ok"


def test_a_still_scene_with_sensor_noise_is_not_frozen():
    analyser = FrameHealthAnalyser()
    assert set(feed(analyser, (with_noise(STREET) for _ in range(120)), 0)) == {"ok"}


def test_a_covered_lens_is_tamper():
    analyser = settled()
    verdicts = feed(analyser, (covered_lens() for _ in range(600)), 60)
    assert verdicts[:3] == ["ok"] * 3
    # Stays covered for ten minutes: the flat picture is never learnt as the camera's view.
    assert set(verdicts[4:]) == {"tamper_covered"}
    assert feed(analyser, (street_with_traffic(s) for s in range(5)), 660)[-1] == "ok"


def test_a_uniform_night_scene_from_the_start_is_not_covered():
    analyser = FrameHealthAnalyser()
    dim_and_flat = [with_noise(np.full((HEIGHT, WIDTH), 40.0)) for _ in range(120)]
    assert set(feed(analyser, dim_and_flat, 0)) == {"ok"}


def test_a_camera_knocked_to_a_new_view_is_tamper_until_put_back():
    analyser = settled()
    verdicts = feed(analyser, (with_noise(ELSEWHERE) for _ in range(60)), 60)
    assert verdicts[:10] == ["ok"] * 10
    assert set(verdicts[11:]) == {"tamper_moved"}
    back = feed(analyser, (street_with_traffic(s) for s in range(10)), 120)
    assert back[-1] == "ok"


def test_a_new_view_held_for_the_relearn_time_becomes_the_view():
    analyser = FrameHealthAnalyser(moved_relearn_seconds=300)
    feed(analyser, (street_with_traffic(s) for s in range(60)), 0)
    verdicts = feed(analyser, (with_noise(ELSEWHERE) for _ in range(400)), 60)
    assert verdicts[100] == "tamper_moved" and verdicts[-1] == "ok"
    analyser.rebaseline()
    assert analyser.feed(with_noise(STREET), 460) == "ok"


def test_dusk_dimming_over_half_an_hour_is_learnt_not_tamper():
    analyser = FrameHealthAnalyser()
    seconds = 1800
    verdicts = [analyser.feed(with_noise(STREET * (1.0 - 0.6 * s / seconds)), s) for s in range(seconds)]
    assert set(verdicts) == {"ok"}


def test_thresholds_are_constructor_parameters():
    quick = FrameHealthAnalyser(black_seconds=1, clear_seconds=0)
    feed(quick, (street_with_traffic(s) for s in range(5)), 0)
    assert feed(quick, [black(), black()], 5) == ["ok", "black"]


def test_normalised_correlation():
    assert normalised_correlation(STREET, STREET) == pytest.approx(1.0)
    assert normalised_correlation(STREET, 255 - STREET) == pytest.approx(-1.0)
    assert normalised_correlation(STREET, np.full_like(STREET, 9)) == 0.0
    assert normalised_correlation(STREET, ELSEWHERE) < 0.5


T0 = datetime(2025, 3, 1, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_uptime_of_recording_spans_merges_overlaps_and_clips_to_the_window():
    spans = [(at(-2), at(1)), (at(0.5), at(2)), (at(2), at(3)), (at(12), at(30))]
    # Up: 0-3 h (overlapping and touching spans merged) and 12-24 h (clipped): 15 of 24 h.
    assert uptime_percent(spans, at(0), at(24)) == pytest.approx(62.5)
    assert uptime_percent([], at(0), at(24)) == 0.0
    assert uptime_percent([(at(-5), None)], at(0), at(24)) == pytest.approx(100.0)  # still recording


def test_uptime_of_status_history_counts_only_up_statuses():
    changes = [(at(0), "online"), (at(6), "offline"), (at(7), "stale"), (at(8), "online"), (at(20), "frozen")]
    intervals = intervals_from_status_changes(changes, until=at(24))
    assert intervals[1] == (at(6), at(7), "offline")
    assert uptime_percent(intervals, at(0), at(24)) == pytest.approx(100 * 18 / 24)
    week = uptime_percent(intervals, at(24) - timedelta(days=7), at(24))
    assert week == pytest.approx(100 * 18 / (7 * 24))


def test_uptime_takes_plain_seconds_and_refuses_an_empty_window():
    assert uptime_percent([(0, 30), (60, 90)], 0, 120) == pytest.approx(50.0)
    with pytest.raises(ValueError):
        uptime_percent([], 10, 10)


def test_motion_is_announced_when_it_starts_and_at_most_once_a_minute():
    detector = MotionDetector(min_interval_s=60)
    still = [detector.feed(with_noise(STREET), second) for second in range(30)]
    assert not any(still)  # sensor noise is not motion
    busy = [detector.feed(street_with_traffic(second), 30 + second) for second in range(150)]
    announced = [30 + second for second, said in enumerate(busy) if said]
    assert announced and announced[0] <= 32  # within a couple of frames of the car appearing
    assert all(later - earlier >= 60 for earlier, later in zip(announced, announced[1:]))
    assert len(announced) == 3  # 150 s of traffic: at 30-32 s, then once a minute
