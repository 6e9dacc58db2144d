"""Plate reading on a camera's consecutive frames: find plates cheaply, read only the ones not read yet.

A still image is read by PlateReader from scratch. Video is the same plates again and again: a vehicle crossing
a sub-stream at 2 fps is in ten or twenty frames. So for each frame the text detector runs once on a reduced
copy, each plate-shaped box it finds is followed from frame to frame (position predicted from its last motion,
confirmed by a small grey thumbnail of the box), and the recogniser reads only boxes whose text is not settled.
Once a box has read the same way `settle_reads` times in a row at `settle_confidence` or better, its read is
carried to the boxes that follow it without OCR, and read again every `recheck_frames` frames. A box that
reads as nothing plate-like the same way while standing still (a sign, a parked car's dirty plate) settles too,
so it is not read on every frame. Carried reads go to the PlateTracker like any other read, so a vehicle's
pass stays open and keeps its direction; the pass's vote is made of the reads that were really taken plus
their repeats.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from rtcc.alpr.reader import PlateRead, PlateReader, load_image
from rtcc.alpr.reader.localise import TextBox, location_prior

# A read at or below this is nothing to the PlateTracker (its min_read_confidence): never worth carrying.
NOTHING_BELOW = 0.3
# A followed box's look: its inner part (inset by this fraction of its size, leaving the detector's margin out)
# in grey at this size, searched for in the next box at the same scale, so that a shifted fit still matches.
TEMPLATE_INSET = 0.1
TEMPLATE_SIZE = (96, 24)  # width, height: glyph strokes stay distinct, so another plate of the same style differs


@dataclass
class _FollowedBox:
    """One plate box followed over the frames it appears in."""

    box: tuple[int, int, int, int]
    template: np.ndarray
    last_frame: int
    velocity: tuple[float, float] | None = None  # box centre, pixels per read frame, once seen twice
    text: str | None = None  # the last OCR result's plate, None when it read as nothing
    agreeing: int = 0  # OCR results in a row that gave `text`
    read: PlateRead | None = None  # the last OCR result, carried while settled
    settled: bool = False
    carried: int = 0  # frames carried since the last OCR

    def centre(self) -> tuple[float, float]:
        x, y, width, height = self.box
        return x + width / 2, y + height / 2

    def follow(self, box: tuple[int, int, int, int], template: np.ndarray, frame: int) -> None:
        (old_x, old_y), frames = self.centre(), max(1, frame - self.last_frame)
        self.box, self.template, self.last_frame = box, template, frame
        new_x, new_y = self.centre()
        self.velocity = ((new_x - old_x) / frames, (new_y - old_y) / frames)


class VideoFramePlateReader:
    """Reads plates from one camera's frames in order; read_image() stays the still-image reader."""

    def __init__(self, plate_reader: PlateReader, *, detector_side: int = 384, settle_reads: int = 1,
                 settle_confidence: float = 0.9, recheck_frames: int = 10, match_similarity: float = 0.8,
                 forget_frames: int = 4):
        self.plate_reader = plate_reader
        self.detector_side = detector_side  # the detector's input (longest side); a 640-pixel frame halves near 320
        self.settle_reads, self.settle_confidence = settle_reads, settle_confidence
        self.recheck_frames = recheck_frames
        self.match_similarity = match_similarity  # how well a box must match a followed one's look to continue it
        self.forget_frames = forget_frames  # a box not found for this many read frames is gone
        self.frames_read = self.boxes_found = self.boxes_recognised = 0
        self._followed: list[_FollowedBox] = []

    @classmethod
    def from_settings(cls, settings, *, region: str | None = None) -> VideoFramePlateReader:
        """The reader the server uses for a camera, tuned by the video plate-reading settings (region: RTCC_ALPR_REGION)."""
        return cls(PlateReader(region=region or settings.alpr_region, threads=1), detector_side=settings.video_read_detector_side,
                   settle_reads=settings.video_read_settle_reads, settle_confidence=settings.video_read_settle_confidence,
                   recheck_frames=settings.video_read_recheck_frames,
                   match_similarity=settings.video_read_match_similarity)

    def read_image(self, source) -> list[PlateRead]:
        """A still image (or a crop), read from scratch by the plate reader."""
        return self.plate_reader.read_image(source)

    def read_frame(self, pixels: np.ndarray) -> list[PlateRead]:
        """The plates in this frame of the camera (BGR), reading with OCR only the boxes not settled yet."""
        image = load_image(pixels)
        self.frames_read += 1
        frame = self.frames_read
        self._followed = [kept for kept in self._followed if frame - kept.last_frame <= self.forget_frames]
        # Text in the overlay bands at the frame's edges reads at most location_prior's factor (0.3), which the
        # PlateTracker never stores as a pass: in video those boxes are not worth a read.
        # A box cut by the left or right edge reads as a fragment of its plate; the vehicle is whole a frame later
        # (or was a frame ago), so fragments are left unread too.
        height, width = image.shape[:2]
        lines = [line for line in self.plate_reader.plate_lines(image, self.detector_side)
                 if location_prior(line.bbox(), height) >= 1.0 and not _cut_by_side(line.bbox(), width)]
        self.boxes_found += len(lines)
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        boxes = [line.bbox() for line in lines]
        templates = [_template(grey, box) for box in boxes]
        matches = self._match(grey, boxes, frame)
        reads: list[PlateRead] = []
        for number, line in enumerate(lines):
            box, template, followed = boxes[number], templates[number], matches.get(number)
            if followed is not None and followed.settled and followed.carried < self.recheck_frames:
                followed.follow(box, template, frame)
                followed.carried += 1
                if followed.read is not None:
                    reads.append(replace(followed.read, box=box))
                continue
            read = self._recognise(image, line)
            if followed is None:
                followed, moved = _FollowedBox(box, template, frame), None
                self._followed.append(followed)
            else:
                moved = _shift_in_widths(followed.box, box)
                followed.follow(box, template, frame)
            self._settle(followed, read, moved)
            if read is not None:
                reads.append(read)
        reads.sort(key=lambda read: -read.confidence)
        return reads

    def _recognise(self, image: np.ndarray, line: TextBox) -> PlateRead | None:
        self.boxes_recognised += 1
        return self.plate_reader.read_line(image, line)

    def _settle(self, followed: _FollowedBox, read: PlateRead | None, moved: float | None) -> None:
        # Reads the tracker would drop anyway (overlay text, a sign) count as "nothing" and agree with each other,
        # so a clock burnt into the picture, whose text changes every second, settles like any other standing box.
        text = read.plate if read is not None and read.confidence > NOTHING_BELOW else None
        followed.agreeing = followed.agreeing + 1 if followed.agreeing and text == followed.text else 1
        followed.text, followed.read, followed.carried = text, read if text is not None else None, 0
        confident = read is not None and read.confidence >= self.settle_confidence
        standing = moved is not None and moved < 0.25  # a sign or a parked car reads the same way for ever
        followed.settled = followed.agreeing >= self.settle_reads and (confident or standing)

    def _match(self, grey: np.ndarray, boxes, frame: int) -> dict[int, _FollowedBox]:
        """Which followed box each new box continues (by index): nearest to where its motion predicts, one each."""
        pairs = []
        for number, (x, y, width, height) in enumerate(boxes):
            centre_x, centre_y = x + width / 2, y + height / 2
            for followed in self._followed:
                _, _, old_width, old_height = followed.box
                if not 0.7 <= height / max(1, old_height) <= 1.4:
                    continue
                frames = frame - followed.last_frame
                predicted_x, predicted_y = followed.centre()
                if followed.velocity is None:
                    reach_x = 1.5 * old_width  # seen once: it may have moved up to this far either way
                else:
                    predicted_x += followed.velocity[0] * frames
                    predicted_y += followed.velocity[1] * frames
                    reach_x = max(0.5 * old_width, 8.0) * (1 + 0.5 * (frames - 1))
                reach_y = max(0.5 * old_height, 4.0) * (1 + 0.5 * (frames - 1))
                distance_x, distance_y = abs(centre_x - predicted_x) / reach_x, abs(centre_y - predicted_y) / reach_y
                if distance_x > 1 or distance_y > 1:
                    continue
                if _similarity(grey, boxes[number], followed) < self.match_similarity:
                    continue
                pairs.append((distance_x + distance_y, number, followed))
        matches: dict[int, _FollowedBox] = {}
        taken: set[int] = set()
        for _, number, followed in sorted(pairs, key=lambda pair: pair[0]):
            if number not in matches and id(followed) not in taken:
                matches[number] = followed
                taken.add(id(followed))
        return matches


def _template(grey: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The inner part of a box in grey, at TEMPLATE_SIZE."""
    x, y, width, height = box
    inset_x, inset_y = int(width * TEMPLATE_INSET), int(height * TEMPLATE_INSET)
    patch = grey[max(0, y + inset_y):max(1, y + height - inset_y), max(0, x + inset_x):max(1, x + width - inset_x)]
    if patch.size == 0:
        return np.zeros(TEMPLATE_SIZE[::-1], np.uint8)
    return cv2.resize(patch, TEMPLATE_SIZE, interpolation=cv2.INTER_AREA)


def _similarity(grey: np.ndarray, box: tuple[int, int, int, int], followed: _FollowedBox) -> float:
    """Best normalised correlation of the followed box's look anywhere inside `box`, at the followed box's scale."""
    _, _, old_width, old_height = followed.box
    scale_x = TEMPLATE_SIZE[0] / max(1.0, old_width * (1 - 2 * TEMPLATE_INSET))
    scale_y = TEMPLATE_SIZE[1] / max(1.0, old_height * (1 - 2 * TEMPLATE_INSET))
    x, y, width, height = box
    patch = grey[max(0, y):max(1, y + height), max(0, x):max(1, x + width)]
    if patch.size == 0:
        return -1.0
    size = (max(TEMPLATE_SIZE[0], round(width * scale_x)), max(TEMPLATE_SIZE[1], round(height * scale_y)))
    region = cv2.resize(patch, size, interpolation=cv2.INTER_AREA)
    return float(cv2.matchTemplate(region, followed.template, cv2.TM_CCOEFF_NORMED).max())


def _cut_by_side(box: tuple[int, int, int, int], frame_width: int) -> bool:
    """Whether a box touches the frame's left or right edge."""
    return box[0] <= 1 or box[0] + box[2] >= frame_width - 2


def _shift_in_widths(before: tuple[int, int, int, int], after: tuple[int, int, int, int]) -> float:
    """How far a box's centre moved, in box widths."""
    moved_x = (after[0] + after[2] / 2) - (before[0] + before[2] / 2)
    moved_y = (after[1] + after[3] / 2) - (before[1] + before[3] / 2)
    return float(np.hypot(moved_x, moved_y)) / max(1, before[2])


def read_video_frame(reader, pixels: np.ndarray) -> list[PlateRead]:
    """One camera frame through `reader`: its frame path when it has one, else as a still image."""
    read_frame = getattr(reader, "read_frame", None)
    return read_frame(pixels) if read_frame is not None else reader.read_image(pixels)
