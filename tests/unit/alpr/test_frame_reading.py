"""Plate reading on consecutive video frames: every frame's plates reported, OCR only for plates not read yet."""

import cv2
import numpy as np
import pytest

from rtcc.alpr.video.frame_reading import VideoFramePlateReader, read_video_frame
from rtcc.alpr.reader import PlateRead
from rtcc.settings import Settings


def street(plates: list[tuple[str, int, int]], *, clock: str | None = None) -> np.ndarray:
    """A 640x360 frame with white plates (text, left, top) on a grey road, and an overlay clock if given."""
    frame = np.full((360, 640, 3), 80, np.uint8)
    for text, left, top in plates:
        cv2.rectangle(frame, (left, top), (left + 120, top + 40), (235, 235, 235), -1)
        cv2.putText(frame, text, (left + 6, top + 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (20, 20, 20), 2, cv2.LINE_AA)
    if clock:
        cv2.putText(frame, clock, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2, cv2.LINE_AA)
    return frame


@pytest.fixture
def frames_reader(reader):
    return VideoFramePlateReader(reader)


def plates_of(reads: list[PlateRead]) -> set[str]:
    return {read.plate for read in reads if read.confidence >= 0.5}


def test_moving_plates_are_reported_on_every_frame_but_read_by_ocr_once(frames_reader):
    found = []
    for step in range(6):
        frame = street([("7ABC123", 60 + 70 * step, 200), ("5XYZ789", 480 - 60 * step, 100)])
        found.append(frames_reader.read_frame(frame))
    assert all(plates_of(reads) == {"7ABC123", "5XYZ789"} for reads in found), [plates_of(r) for r in found]
    assert frames_reader.boxes_recognised == 2  # one OCR per plate; the following frames carry its read
    boxes = [next(read.box for read in reads if read.plate == "7ABC123") for reads in found]
    assert [box[0] for box in boxes] == sorted(box[0] for box in boxes)  # the carried read follows the plate


def test_another_plate_in_the_same_place_is_read_not_taken_for_the_one_before(frames_reader):
    for _ in range(3):
        assert plates_of(frames_reader.read_frame(street([("7ABC123", 200, 200)]))) == {"7ABC123"}
    assert plates_of(frames_reader.read_frame(street([("5XYZ789", 200, 200)]))) == {"5XYZ789"}


def test_a_settled_plate_is_read_again_after_the_recheck_interval(reader):
    frames_reader = VideoFramePlateReader(reader, recheck_frames=3)
    for _ in range(9):
        frames_reader.read_frame(street([("7ABC123", 200, 200)]))
    assert frames_reader.boxes_recognised == 3  # frames 1, 5 and 9: three carried frames between reads


def test_overlay_text_at_the_frame_edge_is_not_read_in_video(frames_reader):
    for second in range(4):
        reads = frames_reader.read_frame(street([("7ABC123", 200, 200)], clock=f"2026-12-01 12:00:0{second}"))
        assert plates_of(reads) == {"7ABC123"}
    assert frames_reader.boxes_recognised == 1


def test_a_reader_without_a_frame_path_reads_frames_as_still_images():
    class StillOnly:
        def read_image(self, pixels):
            return [PlateRead(plate="TST0001", confidence=0.99, box=(1, 2, 3, 4), region="us")]

    assert [read.plate for read in read_video_frame(StillOnly(), street([]))] == ["TST0001"]


def test_still_images_go_to_the_plate_reader_unchanged(frames_reader, reader):
    image = street([("7ABC123", 200, 200)])
    assert [r.as_dict() for r in frames_reader.read_image(image)] == [r.as_dict() for r in reader.read_image(image)]
    assert frames_reader.boxes_recognised == 0


def test_the_settings_tune_the_server_s_frame_reader(reader, monkeypatch):
    monkeypatch.setattr("rtcc.alpr.video.frame_reading.PlateReader", lambda **_: reader)
    settings = Settings(video_read_detector_side=480, video_read_settle_reads=2, video_read_recheck_frames=7)
    frames_reader = VideoFramePlateReader.from_settings(settings)
    assert (frames_reader.detector_side, frames_reader.settle_reads, frames_reader.recheck_frames) == (480, 2, 7)
