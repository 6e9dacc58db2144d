"""From per-frame plate reads to one read per vehicle pass: grouping, per-character voting, direction, motion gate."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from rtcc.alpr.reader import PlateRead

# A plate cut by the frame edge reads as a fragment ("RRS790" of "5RRS790"); fragments this long still join a pass.
MIN_FRAGMENT = 4


@dataclass
class Sighting:
    """One reader result on one frame, as the tracker keeps it."""

    at: datetime
    plate: str
    confidence: float
    box: tuple[int, int, int, int]  # x, y, width, height in frame pixels
    region: str | None
    candidates: list[tuple[str, float]]


@dataclass
class VehiclePass:
    """One vehicle's pass in front of a camera, read once from all the frames it was seen in."""

    plate: str
    confidence: float
    first_seen: datetime
    last_seen: datetime
    sightings: int
    best_crop: np.ndarray | None  # BGR pixels around the plate from the best-scoring sighting
    direction: str | None  # "left", "right", "towards", "away", or None when it cannot be told
    best_seen: datetime | None = None  # when the best sighting (and its crop) was taken
    region: str | None = None
    best_box: tuple[int, int, int, int] | None = None  # the plate's box in the best sighting's frame (x, y, w, h)


def edit_distance(first: str, second: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    previous = list(range(len(second) + 1))
    for i, a in enumerate(first, 1):
        current = [i]
        for j, b in enumerate(second, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return previous[-1]


def same_vehicle(first: str, second: str) -> bool:
    """Whether two reads could be the same plate: one character apart, or one a long fragment of the other."""
    if edit_distance(first, second) <= 1:
        return True
    shorter, longer = sorted((first, second), key=len)
    return len(shorter) >= MIN_FRAGMENT and shorter in longer


def vote(sightings: list[Sighting]) -> tuple[str, float]:
    """(plate, confidence) by confidence-weighted vote per character, among candidates of the modal length."""
    # The length comes from each sighting's best read only: the reader's runners-up are mostly one-deletion
    # variants of it (seven 6-character guesses at 0.4 beside one 7-character read at 1.0), so they would outvote it.
    weight_by_length: dict[int, float] = defaultdict(float)
    texts: list[tuple[str, float]] = []
    for sighting in sightings:
        weight_by_length[len(sighting.plate)] += sighting.confidence
        texts += sighting.candidates or [(sighting.plate, sighting.confidence)]
    length = max(weight_by_length, key=lambda size: (weight_by_length[size], size))
    columns: list[dict[str, float]] = [defaultdict(float) for _ in range(length)]
    for text, confidence in texts:
        if len(text) == length:
            for position, character in enumerate(text):
                columns[position][character] += confidence
    plate = "".join(max(column, key=column.get) for column in columns)
    agreement = sum(column[character] / sum(column.values()) for column, character in zip(columns, plate)) / length
    best_whole = max((s.confidence for s in sightings if len(s.plate) == length), default=0.0)
    return plate, round(min(1.0, agreement * best_whole), 4)


def direction_of(first: Sighting, last: Sighting, *, min_shift_boxes: float = 0.5, min_scale: float = 1.15) -> str | None:
    """Where the vehicle went, from its plate box: sideways in box widths, or nearer / farther from its growth."""
    (x1, _, w1, h1), (x2, _, w2, h2) = first.box, last.box
    shift = ((x2 + w2 / 2) - (x1 + w1 / 2)) / max(1.0, (w1 + w2) / 2)
    # Box height, not width: a plate cut by the frame edge loses width, never height.
    growth = math.log(max(1, h2) / max(1, h1))
    if abs(shift) >= min_shift_boxes and abs(shift) >= 3 * abs(growth):
        return "right" if shift > 0 else "left"
    if abs(growth) >= math.log(min_scale):
        return "towards" if growth > 0 else "away"
    return None


def came_back(sightings: list[Sighting], sighting: Sighting, *, min_jump_boxes: float = 2.0) -> bool:
    """Whether a plate seen moving one way is now seen far behind where it went: it left and passes again."""
    if len(sightings) < 2:
        return False
    (x1, _, w1, _), (x2, _, w2, _), (x3, _, w3, _) = sightings[-2].box, sightings[-1].box, sighting.box
    travel = (x2 + w2 / 2) - (x1 + w1 / 2)
    jump = (x3 + w3 / 2) - (x2 + w2 / 2)
    # Sideways travel of at least a fifth of a box, then a jump of min_jump_boxes box widths the other way.
    return abs(travel) >= 0.2 * max(1, w2) and travel * jump < 0 and abs(jump) >= min_jump_boxes * max(1, w2)


def write_crop(target: Path, crop: np.ndarray) -> bool:
    """Save a crop as JPEG (quality 90), making its folder; whether it was written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return crop.size > 0 and cv2.imwrite(str(target), crop, [cv2.IMWRITE_JPEG_QUALITY, 90])


def crop_around(frame: np.ndarray, box: tuple[int, int, int, int], *, pad_x: float = 0.6, pad_y: float = 1.2) -> np.ndarray:
    """The plate with some of its vehicle around it (padding in box widths / heights), as a copy."""
    x, y, width, height = box
    frame_height, frame_width = frame.shape[:2]
    left, right = max(0, int(x - pad_x * width)), min(frame_width, int(x + width + pad_x * width))
    top, bottom = max(0, int(y - pad_y * height)), min(frame_height, int(y + height + pad_y * height))
    return frame[top:bottom, left:right].copy()


@dataclass
class _OpenPass:
    sightings: list[Sighting] = field(default_factory=list)
    best: Sighting | None = None
    best_crop: np.ndarray | None = None

    def plates(self) -> set[str]:
        return {sighting.plate for sighting in self.sightings}


class PlateTracker:
    """Groups per-frame reads into vehicle passes and emits one VehiclePass when a vehicle has gone."""

    def __init__(self, *, gap_seconds: float = 3.0, min_read_confidence: float = 0.3, min_pass_confidence: float = 0.5,
                 max_pass_seconds: float = 60.0, max_open_passes: int = 32, max_sightings: int = 50):
        self.gap = timedelta(seconds=gap_seconds)
        # Below this a read is mostly noise (overlay text, half a plate at the edge): it never starts or joins a pass.
        self.min_read_confidence = min_read_confidence
        self.min_pass_confidence = min_pass_confidence
        # A parked car is seen for ever: it is reported once per max_pass_seconds instead of never.
        self.max_pass = timedelta(seconds=max_pass_seconds)
        self.max_open_passes = max_open_passes
        self.max_sightings = max_sightings
        self.passes_discarded = 0  # passes whose vote stayed below min_pass_confidence
        self._open: list[_OpenPass] = []

    def feed(self, at: datetime, reads: list[PlateRead], frame: np.ndarray | None = None) -> list[VehiclePass]:
        """Take one sampled frame's reads (and the frame, for crops); the passes that ended by `at`."""
        ended = self._close(lambda open_pass: at - open_pass.sightings[-1].at > self.gap
                            or at - open_pass.sightings[0].at > self.max_pass)
        for read in reads:
            if read.confidence < self.min_read_confidence:
                continue
            # A pass keeps the state or country (stored as the read's region, e.g. "us-ca"), not the formats' region.
            sighting = Sighting(at, read.plate, read.confidence, tuple(read.box), read.jurisdiction,
                                [(candidate.plate, candidate.confidence) for candidate in read.candidates])
            open_pass = next((p for p in self._open if any(same_vehicle(read.plate, plate) for plate in p.plates())), None)
            if open_pass is not None and came_back(open_pass.sightings, sighting):
                ended += self._emit_and_drop(open_pass)  # that pass is over: the same plate begins a new one
                open_pass = None
            if open_pass is None:
                if len(self._open) >= self.max_open_passes:  # bounded: the oldest pass is reported early
                    ended += self._emit_and_drop(self._open[0])
                open_pass = _OpenPass()
                self._open.append(open_pass)
            if len(open_pass.sightings) < self.max_sightings:
                open_pass.sightings.append(sighting)
            else:
                open_pass.sightings[-1] = sighting  # keep the last one: it sets last_seen and the direction
            if open_pass.best is None or self._score(sighting) > self._score(open_pass.best):
                open_pass.best = sighting
                open_pass.best_crop = crop_around(frame, sighting.box) if frame is not None else None
        return ended

    def flush(self) -> list[VehiclePass]:
        """Every open pass, ended now (the stream stopped)."""
        return self._close(lambda open_pass: True)

    @property
    def open_passes(self) -> int:
        return len(self._open)

    @staticmethod
    def _score(sighting: Sighting) -> tuple[float, int]:
        # Confidence first; between equals the bigger box makes the better crop.
        return round(sighting.confidence, 2), sighting.box[2] * sighting.box[3]

    def _close(self, ended) -> list[VehiclePass]:
        passes: list[VehiclePass] = []
        for open_pass in [p for p in self._open if ended(p)]:
            passes += self._emit_and_drop(open_pass)
        return passes

    def _emit_and_drop(self, open_pass: _OpenPass) -> list[VehiclePass]:
        self._open.remove(open_pass)
        plate, confidence = vote(open_pass.sightings)
        if confidence < self.min_pass_confidence:
            self.passes_discarded += 1
            return []
        sightings = open_pass.sightings
        return [VehiclePass(plate=plate, confidence=confidence, first_seen=sightings[0].at, last_seen=sightings[-1].at,
                            sightings=len(sightings), best_crop=open_pass.best_crop,
                            direction=direction_of(sightings[0], sightings[-1]),
                            best_seen=open_pass.best.at, region=open_pass.best.region, best_box=open_pass.best.box)]


class MotionGate:
    """Reads a frame only when the picture changed: mean absolute difference of a tiny grey copy above a threshold."""

    def __init__(self, *, threshold: float = 1.5, width: int = 64, height: int = 36, read_at_least_every: int = 10):
        self.threshold = threshold  # grey levels, 0..255
        self.size = (width, height)
        # A vehicle crawling through a queue may move less than the threshold; read it now and then anyway.
        self.read_at_least_every = read_at_least_every
        self.frames_seen = self.frames_read = self.frames_skipped = 0
        self.last_difference: float | None = None
        self._previous: np.ndarray | None = None
        self._skipped_in_a_row = 0

    def should_read(self, frame: np.ndarray) -> bool:
        """Whether to run the reader on this frame (BGR or grey); counts it either way."""
        grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        tiny = cv2.resize(grey, self.size, interpolation=cv2.INTER_AREA).astype(np.float32)
        previous, self._previous = self._previous, tiny
        self.frames_seen += 1
        self.last_difference = float(np.abs(tiny - previous).mean()) if previous is not None else None
        if (self.last_difference is None or self.last_difference >= self.threshold
                or self._skipped_in_a_row + 1 >= self.read_at_least_every):
            self.frames_read += 1
            self._skipped_in_a_row = 0
            return True
        self.frames_skipped += 1
        self._skipped_in_a_row += 1
        return False
