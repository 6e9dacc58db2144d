"""A plate that crosses the frame, leaves and comes round again is two passes, even with no gap between them."""

from datetime import UTC, datetime, timedelta

from rtcc.alpr.reader import PlateRead
from rtcc.alpr.video.passes import PlateTracker

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def seen_at(left: int) -> list[PlateRead]:
    return [PlateRead("7ABC123", 0.95, (left, 200, 110, 30), "us", [])]


def test_a_plate_seen_again_far_behind_where_it_went_starts_a_new_pass():
    tracker = PlateTracker(gap_seconds=3.0)
    ended = []
    lefts = [40, 160, 280, 400, 520, 30, 150, 270]  # left to right, then back at the left edge half a second later
    for number, left in enumerate(lefts):
        ended += tracker.feed(START + timedelta(seconds=0.5 * number), seen_at(left))
    assert [(vehicle_pass.plate, vehicle_pass.sightings, vehicle_pass.direction) for vehicle_pass in ended] == [
        ("7ABC123", 5, "right")]
    assert [(vehicle_pass.sightings, vehicle_pass.direction) for vehicle_pass in tracker.flush()] == [(3, "right")]


def test_a_plate_that_jitters_or_stops_stays_one_pass():
    tracker = PlateTracker(gap_seconds=3.0)
    ended = []
    for number, left in enumerate([200, 230, 226, 260, 255, 255, 300]):
        ended += tracker.feed(START + timedelta(seconds=0.5 * number), seen_at(left))
    assert ended == [] and tracker.open_passes == 1
