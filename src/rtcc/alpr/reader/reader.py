"""PlateReader: still image in, scored plate reads out.

Pipeline (all on CPU, models from the rapidocr wheel, nothing downloaded):

1. *Localise*: rows of character-like blobs (adaptive threshold + grouping)
   give plate text candidates cheaply, ranked by row quality and a location
   prior (overlay bands at the frame edge score low).
2. *Recognise*: the PP-OCR recogniser reads candidate rows, best first, from
   the full-resolution pixels (stretched horizontally), keeping per-character
   probability distributions; a confident format read ends the search.
3. *Resolve*: the region's formats (data, ``us_plate_formats.toml``,
   ``eu_...``, ``br_...``) turn each raw read into scored interpretations
   (confusable characters fixed by position, spurious emblem glyphs dropped);
   non-format reads stay as lower-scored candidates.
4. *Re-read and vote*: the most promising rows are re-read from a differently
   padded crop and candidates are averaged over the passes.
5. *Fallback*: when no row reads like a plate, the PP-OCR text detector runs
   over the whole frame and its text lines go through steps 2-4.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from .formats import RegionFormats
from .localise import Band, TextBox, TextDetector, find_char_rows, location_prior
from .models import find_model_files, make_rec_session, make_session
from .recognise import STRETCH, Recogniser
from .vote import Scored, vote


class ImageReadError(ValueError):
    """The input is not a readable image."""


@dataclass
class PlateCandidate:
    plate: str
    confidence: float


@dataclass
class PlateRead:
    """One plate: ``region`` is the formats it was read with ("us", "eu", "br"); ``jurisdiction`` the state or
    country (``"us-ca"``, ``"fr"``, ``"br"``; ``"us"`` when only the country is known) where the format tells,
    and ``format`` the pattern it fits (``"DLLLDDD"``); both None for a plate fitting no format."""

    plate: str
    confidence: float
    box: tuple[int, int, int, int]
    region: str | None
    candidates: list[PlateCandidate] = field(default_factory=list)
    jurisdiction: str | None = None
    format: str | None = None

    def as_dict(self) -> dict:
        return {
            "plate": self.plate,
            "confidence": round(float(self.confidence), 4),
            "box": [int(v) for v in self.box],
            "region": self.region,
            "jurisdiction": self.jurisdiction,
            "format": self.format,
            "candidates": [{"plate": c.plate, "confidence": round(float(c.confidence), 4)} for c in self.candidates],
        }


# Crop paddings (multiples of glyph height: x, y) for the reading passes.
# Wide horizontal padding: a glyph the row finder missed at either end (merged with a bolt or
# the frame) is still inside the crop, and the recogniser ignores the extra plate background.
# A re-read pass may add a third value, its horizontal stretch (default ``recognise.STRETCH``).
FIRST_PASS = (0.8, 0.25)
REREAD_PASSES = ((1.2, 0.45),)
# Rows read past ``max_rows`` when none of those read like a plate, before the slow detector fallback.
EXTRA_ROWS = 4


@dataclass
class _Region:
    quad_fn: object  # callable (pad_x, pad_y) -> quad
    box: tuple[int, int, int, int]
    passes: list[list[Scored]] = field(default_factory=list)
    prior: float = 1.0  # location plausibility (overlay bands at the frame edge score low)

    def best(self) -> float:
        merged = vote(self.passes)
        return merged[0].score if merged else 0.0


def load_image(source) -> np.ndarray:
    """BGR uint8 image from a path or an ndarray; raises ImageReadError."""
    if isinstance(source, np.ndarray):
        img = source
        if img.size == 0 or img.ndim not in (2, 3):
            raise ImageReadError("empty or malformed image array")
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        elif img.shape[2] == 4:
            img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
        elif img.shape[2] != 3:
            raise ImageReadError(f"unsupported channel count {img.shape[2]}")
        if img.dtype != np.uint8:
            img = np.clip(img, 0, 255).astype(np.uint8)
        return img
    path = Path(os.fspath(source))
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError as exc:
        raise ImageReadError(f"cannot read {path}: {exc.strerror or exc}") from exc
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None or img.size == 0:
        raise ImageReadError(f"{path} is not a decodable image")
    return img


class PlateReader:
    """Reads licence plates from still images.

    ``region``: plate formats to read with (``"us"``, ``"eu"``, ``"br"``: ``formats.available_regions()``;
    ValueError for another). ``threads``: onnxruntime threads.
    ``max_rows``: candidate rows read per image before the fallback.
    ``accept_at``: rows are read best first and the search stops at the first
    read scoring this much (a confident, format-fitting plate).
    ``min_confidence``: plates scoring below are not reported (their strings
    are still visible as candidates of any reported region overlapping them).
    """

    def __init__(
        self,
        region: str = "us",
        threads: int = 1,
        max_rows: int = 3,
        reread_rows: int = 2,
        fallback_below: float = 0.3,
        accept_at: float = 0.7,
        min_confidence: float = 0.05,
        max_candidates: int = 10,
    ):
        self.formats = RegionFormats.load(region)  # first: an unknown region fails before models load
        self.region = self.formats.code
        files = find_model_files(region=self.region)
        # PP-OCR's backbone with the region's plate head joined on (PP-OCR's own classifier where it has none).
        self.recogniser = Recogniser(*make_rec_session(files, threads))
        self.detector = TextDetector(make_session(files.det, threads))
        self.max_rows = max_rows
        self.reread_rows = reread_rows
        self.fallback_below = fallback_below
        self.accept_at = accept_at
        self.min_confidence = min_confidence
        self.max_candidates = max_candidates
        self.model_files = files

    # -- one region -------------------------------------------------------
    def _read_pass(
        self, img: np.ndarray, quad: np.ndarray, prior: float = 1.0, stretch: float = STRETCH
    ) -> list[Scored]:
        crop = self.recogniser.crop(img, quad)
        if crop.shape[0] < 4 or crop.shape[1] < 4:
            return []
        line = self.recogniser.read([crop], stretch)[0]
        conf = line.confidence * prior
        return [Scored(it.text, conf * it.factor, it.jurisdiction, it.pattern) for it in self.formats.resolve(line.chars)]

    def _regions_from_rows(self, img: np.ndarray, bands: list[Band] | None = None) -> list[_Region]:
        h, w = img.shape[:2]
        regions = []
        for band in find_char_rows(img)[: self.max_rows] if bands is None else bands:
            def quad_fn(px, py, band: Band = band):
                return band.quad(px, py, w, h)

            q = band.quad(0.5, 0.6, w, h)
            x0, y0 = q.min(axis=0)
            x1, y1 = q.max(axis=0)
            box = (int(x0), int(y0), int(x1 - x0), int(y1 - y0))
            regions.append(_Region(quad_fn, box, prior=location_prior(box, h)))
        return regions

    def plate_lines(self, img: np.ndarray, side: int | None = None) -> list[TextBox]:
        """Plate-shaped text lines the detector finds (at `side` pixels, default the image's own), best first."""
        h, w = img.shape[:2]
        side = int(side or min(1600, max(h, w)))
        lines = [b for b in self.detector.detect(img, side) if b.height >= 8 and 1.5 <= b.width / b.height <= 12]
        lines.sort(key=lambda b: -(b.score * min(b.height, 60)))
        return lines

    def read_line(self, img: np.ndarray, line: TextBox) -> PlateRead | None:
        """One reading pass of one detected line (no re-read): its best plate, or None."""
        region = _detector_region(line, img.shape[0])
        region.passes.append(self._read_pass(img, region.quad_fn(0.0, 0.0), region.prior))
        reads = self._to_reads([region])
        return reads[0] if reads else None

    def _regions_from_detector(self, img: np.ndarray) -> list[_Region]:
        return [_detector_region(line, img.shape[0]) for line in self.plate_lines(img)[:4]]

    def _read_regions(self, img: np.ndarray, regions: list[_Region], first=FIRST_PASS) -> None:
        for r in regions:
            r.passes.append(self._read_pass(img, r.quad_fn(*first), r.prior))
            if r.best() >= self.accept_at:
                break  # rows come best first: a confident format read ends the search
        ranked = sorted(regions, key=lambda r: -r.best())
        for r in ranked[: self.reread_rows]:
            if r.best() <= 0:
                continue
            for px, py, *st in REREAD_PASSES:
                r.passes.append(self._read_pass(img, r.quad_fn(px, py), r.prior, *st))

    # -- public -------------------------------------------------------------
    def read_image(self, source) -> list[PlateRead]:
        img = load_image(source)
        bands = find_char_rows(img)
        regions = self._regions_from_rows(img, bands[: self.max_rows])
        self._read_regions(img, regions)
        if max((r.best() for r in regions), default=0.0) < self.fallback_below and len(bands) > self.max_rows:
            # Before the detector (~300-500 ms), read the next rows (~10 ms each): a small plate
            # whose row finder found only part of its glyphs ranks low but is often still there.
            more = self._regions_from_rows(img, bands[self.max_rows : self.max_rows + EXTRA_ROWS])
            self._read_regions(img, more)
            regions += more
        if not regions or max(r.best() for r in regions) < self.fallback_below:
            extra = self._regions_from_detector(img)
            self._read_regions(img, extra, first=(0.0, 0.0))
            regions += extra
        return self._to_reads(regions)

    def _to_reads(self, regions: list[_Region]) -> list[PlateRead]:
        reads: list[PlateRead] = []
        merged_regions: list[tuple[tuple[int, int, int, int], list[Scored]]] = []
        for r in sorted(regions, key=lambda r: -r.best()):
            cands = vote(r.passes)
            if not cands:
                continue
            for i, (box, prev) in enumerate(merged_regions):
                if _overlap(box, r.box) > 0.5:
                    # Same plate found twice: keep the better region, fold candidates in.
                    have = {c.text for c in prev}
                    prev.extend(c for c in cands if c.text not in have)
                    break
            else:
                merged_regions.append((r.box, list(cands)))
        for box, cands in merged_regions:
            cands.sort(key=lambda c: -c.score)
            best = cands[0]
            if best.score < self.min_confidence:
                continue
            reads.append(
                PlateRead(
                    plate=best.text,
                    confidence=float(best.score),
                    box=box,
                    region=self.region,
                    candidates=[PlateCandidate(c.text, float(c.score)) for c in cands[: self.max_candidates]],
                    jurisdiction=best.region,
                    format=best.format,
                )
            )
        reads.sort(key=lambda p: -p.confidence)
        return reads


def _detector_region(line: TextBox, img_h: int) -> _Region:
    pts = line.pts.copy()

    def quad_fn(px, py, pts=pts):
        # Detector boxes already include a margin; widen slightly on re-reads.
        c = pts.mean(axis=0)
        return (pts - c) * np.float32([1 + px / 4, 1 + py / 2]) + c

    return _Region(quad_fn, line.bbox(), prior=location_prior(line.bbox(), img_h))


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over the smaller box."""
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    small = max(1, min(a[2] * a[3], b[2] * b[3]))
    return ix * iy / small


def read_result_as_json(path, reads_or_error) -> dict:
    """JSON-ready dict for one image: plates, or an error message."""
    if isinstance(reads_or_error, BaseException):
        return {"image": str(path), "error": str(reads_or_error) or type(reads_or_error).__name__}
    return {"image": str(path), "plates": [r.as_dict() for r in reads_or_error]}


def read_images_as_json(paths: Iterable, reader: PlateReader | None = None) -> Iterator[dict]:
    """One JSON-ready dict per path, in order; unreadable images yield an "error" object."""
    reader = reader or PlateReader()
    for p in paths:
        try:
            yield read_result_as_json(p, reader.read_image(p))
        except ImageReadError as exc:
            yield read_result_as_json(p, exc)
