"""Vehicle passes from per-frame reads: grouping, per-character voting, direction, and the motion gate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from rtcc.alpr.reader import PlateCandidate, PlateRead
from rtcc.alpr.video.passes import MotionGate, PlateTracker, edit_distance, same_vehicle

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def read(plate: str, confidence: float = 0.9, box=(100, 200, 100, 30), candidates=None) -> PlateRead:
    return PlateRead(plate, confidence, box, "us", [PlateCandidate(text, score) for text, score in candidates or []])


def frame(value: int = 0) -> np.ndarray:
    return np.full((360, 640, 3), value, dtype=np.uint8)


def test_edit_distance_and_same_vehicle():
    assert edit_distance("5RRS790", "5RRS790") == 0
    assert edit_distance("5RRS790", "5RR5790") == 1
    assert edit_distance("5RRS790", "RRS790") == 1
    assert same_vehicle("5RRS790", "8RRS790")
    assert same_vehicle("7WTC285", "7WTC2")  # cut by the frame edge: a long fragment joins
    assert not same_vehicle("7WTC285", "9GDK486")
    assert not same_vehicle("7WTC285", "285")  # too short a fragment to tell


def test_a_pass_is_emitted_once_after_the_gap_with_a_per_character_vote():
    tracker = PlateTracker(gap_seconds=3)
    assert tracker.feed(at(0), [read("5RRS790", 0.9)], frame()) == []
    assert tracker.feed(at(0.5), [read("5RR5790", 0.6)], frame()) == []  # one misread character
    assert tracker.feed(at(1.0), [read("5RRS79", 0.8)], frame()) == []  # clipped: another length, outvoted
    assert tracker.feed(at(1.5), [read("5RRS790", 0.8)], frame()) == []
    assert tracker.feed(at(4.0), [], frame()) == []  # 2.5 s without a sighting: not yet gone
    passes = tracker.feed(at(4.6), [], frame())
    assert len(passes) == 1
    vehicle_pass = passes[0]
    assert vehicle_pass.plate == "5RRS790"
    assert vehicle_pass.sightings == 4
    assert (vehicle_pass.first_seen, vehicle_pass.last_seen, vehicle_pass.best_seen) == (at(0), at(1.5), at(0))
    assert 0.5 < vehicle_pass.confidence <= 0.9
    assert tracker.open_passes == 0 and tracker.feed(at(10), [], frame()) == []


def test_voting_uses_the_candidates_and_only_those_of_the_modal_length():
    tracker = PlateTracker()
    tracker.feed(at(0), [read("1JRW173", 0.7, candidates=[("1JRW173", 0.7), ("1JRV173", 0.2)])])
    tracker.feed(at(1), [read("1JRV173", 0.65, candidates=[("1JRV173", 0.65), ("1JRW173", 0.5)])])
    tracker.feed(at(2), [read("JRW173", 0.9, candidates=[("JRW173", 0.9)])])
    (vehicle_pass,) = tracker.flush()
    assert vehicle_pass.plate == "1JRW173"  # W: 0.7 + 0.5 against V: 0.2 + 0.65; the 6-long read is outvoted by length


def test_two_vehicles_in_one_frame_are_two_passes_and_noise_is_ignored():
    tracker = PlateTracker()
    for second in range(3):
        tracker.feed(at(second), [read("9GDK486", 1.0), read("4LDL054", 0.95), read("T112120", 0.06)])
    plates = sorted(vehicle_pass.plate for vehicle_pass in tracker.flush())
    assert plates == ["4LDL054", "9GDK486"]


def test_a_weak_pass_is_discarded_not_stored():
    tracker = PlateTracker(min_pass_confidence=0.5)
    tracker.feed(at(0), [read("902UTC", 0.35)])
    assert tracker.flush() == [] and tracker.passes_discarded == 1


def test_best_crop_comes_from_the_best_sighting_with_padding_inside_the_frame():
    tracker = PlateTracker()
    tracker.feed(at(0), [read("5UEC187", 0.6, box=(0, 0, 100, 30))], frame(10))
    tracker.feed(at(0.5), [read("5UEC187", 1.0, box=(300, 200, 100, 30))], frame(200))
    tracker.feed(at(1.0), [read("5UEC187", 0.7, box=(500, 200, 100, 30))], frame(50))
    (vehicle_pass,) = tracker.flush()
    assert vehicle_pass.best_crop is not None and int(vehicle_pass.best_crop.mean()) == 200
    assert vehicle_pass.best_crop.shape == (30 + 2 * 36, 100 + 2 * 60, 3)


def sideways_pass(boxes) -> str | None:
    tracker = PlateTracker()
    for second, box in enumerate(boxes):
        tracker.feed(at(second * 0.5), [read("7WTC285", 0.9, box=box)])
    return tracker.flush()[0].direction


def test_direction_from_the_box_movement():
    assert sideways_pass([(100, 200, 100, 30), (300, 200, 100, 30)]) == "right"
    assert sideways_pass([(500, 200, 100, 30), (300, 205, 100, 30)]) == "left"
    assert sideways_pass([(300, 200, 60, 18), (290, 230, 100, 30)]) == "towards"
    assert sideways_pass([(290, 230, 100, 30), (300, 200, 60, 18)]) == "away"
    assert sideways_pass([(300, 200, 100, 30), (305, 200, 100, 30)]) is None  # parked
    assert sideways_pass([(300, 200, 100, 30)]) is None  # seen once


def test_a_parked_car_is_reported_once_per_max_pass_seconds():
    tracker = PlateTracker(max_pass_seconds=10)
    emitted = []
    for second in range(25):
        emitted += tracker.feed(at(second), [read("4LDL054", 0.9)])
    assert [vehicle_pass.plate for vehicle_pass in emitted] == ["4LDL054", "4LDL054"]


def test_open_passes_are_bounded():
    tracker = PlateTracker(max_open_passes=2)
    emitted = tracker.feed(at(0), [read("AAA1111"), read("BBB2222"), read("CCC3333")])
    assert [vehicle_pass.plate for vehicle_pass in emitted] == ["AAA1111"] and tracker.open_passes == 2


def test_motion_gate_reads_changed_frames_and_skips_still_ones():
    gate = MotionGate(threshold=1.5, read_at_least_every=5)
    still = frame(100)
    moved = still.copy()
    moved[100:200, 200:400] = 255  # a vehicle drove in
    decisions = [gate.should_read(picture) for picture in (still, still, still, moved, moved, still)]
    assert decisions == [True, False, False, True, False, True]
    assert (gate.frames_seen, gate.frames_read, gate.frames_skipped) == (6, 3, 3)


def test_motion_gate_reads_a_still_scene_now_and_then():
    gate = MotionGate(read_at_least_every=3)
    decisions = [gate.should_read(frame(80)) for _ in range(7)]
    assert decisions == [True, False, False, True, False, False, True]


def test_the_readers_deletion_variants_do_not_outvote_its_best_read():
    variants = [("5RRS790", 1.0)] + [(text, 0.4) for text in ("5RR790", "5RRS70", "5RRS79", "5RRS90", "5RS790", "RRS790")]
    tracker = PlateTracker()
    tracker.feed(at(0), [read("5RRS790", 1.0, candidates=variants)])
    (vehicle_pass,) = tracker.flush()
    assert (vehicle_pass.plate, vehicle_pass.confidence) == ("5RRS790", 1.0)
