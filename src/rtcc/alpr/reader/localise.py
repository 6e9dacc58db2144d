"""Localise text lines with the PP-OCR DB detector and turn them into plate regions.

The PP-OCR detector (fallback only) runs on a copy of the frame (plates in 720p traffic
photos are big enough to survive a 2x reduction) which keeps it cheap on one
core.  Its probability map is binarised, each blob becomes a rotated box, and
boxes are mapped back to full-resolution coordinates so recognition can crop
the sharp original pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

_MEAN = np.float32(0.5)
_STD = np.float32(0.5)


@dataclass
class TextBox:
    """A detected text line: 4 corner points (tl, tr, br, bl) in image pixels."""

    pts: np.ndarray
    score: float

    @property
    def width(self) -> float:
        return float(np.linalg.norm(self.pts[1] - self.pts[0]) + np.linalg.norm(self.pts[2] - self.pts[3])) / 2

    @property
    def height(self) -> float:
        return float(np.linalg.norm(self.pts[3] - self.pts[0]) + np.linalg.norm(self.pts[2] - self.pts[1])) / 2

    @property
    def center(self) -> tuple[float, float]:
        c = self.pts.mean(axis=0)
        return float(c[0]), float(c[1])

    @property
    def angle(self) -> float:
        d = self.pts[1] - self.pts[0]
        return math.degrees(math.atan2(float(d[1]), float(d[0])))

    def bbox(self) -> tuple[int, int, int, int]:
        x0, y0 = self.pts.min(axis=0)
        x1, y1 = self.pts.max(axis=0)
        return int(round(x0)), int(round(y0)), int(round(x1 - x0)), int(round(y1 - y0))


def order_points(pts: np.ndarray) -> np.ndarray:
    """Order 4 points as top-left, top-right, bottom-right, bottom-left."""
    pts = np.asarray(pts, dtype=np.float32).reshape(4, 2)
    xs = pts[np.argsort(pts[:, 0], kind="stable")]
    left = xs[:2][np.argsort(xs[:2, 1], kind="stable")]
    right = xs[2:][np.argsort(xs[2:, 1], kind="stable")]
    return np.array([left[0], right[0], right[1], left[1]], dtype=np.float32)


def rect_points(rect) -> np.ndarray:
    """Corner points (tl, tr, br, bl) of a cv2 rotated rect."""
    return order_points(cv2.boxPoints(rect))


class TextDetector:
    """PP-OCR DB text detector on a downscaled frame."""

    def __init__(
        self,
        session,
        max_side: int = 576,
        thresh: float = 0.3,
        box_thresh: float = 0.45,
        unclip_ratio: float = 1.6,
        min_side_px: int = 3,
    ):
        self.session = session
        self.input_name = session.get_inputs()[0].name
        self.max_side = max_side
        self.thresh = thresh
        self.box_thresh = box_thresh
        self.unclip_ratio = unclip_ratio
        self.min_side_px = min_side_px

    def probability_map(self, img: np.ndarray, max_side: int | None = None) -> tuple[np.ndarray, float, float]:
        """Run the detector; returns (prob map, x scale, y scale) mapping map->image."""
        h, w = img.shape[:2]
        side = max_side or self.max_side
        r = side / max(h, w)
        rh = max(32, int(round(h * r / 32)) * 32)
        rw = max(32, int(round(w * r / 32)) * 32)
        small = cv2.resize(img, (rw, rh), interpolation=cv2.INTER_AREA if r < 1 else cv2.INTER_LINEAR)
        x = (small.astype(np.float32) * np.float32(1 / 255.0) - _MEAN) / _STD
        x = x.transpose(2, 0, 1)[None]
        prob = self.session.run(None, {self.input_name: x})[0][0, 0]
        return prob, w / rw, h / rh

    def detect(self, img: np.ndarray, max_side: int | None = None) -> list[TextBox]:
        prob, sx, sy = self.probability_map(img, max_side)
        return self.boxes_from_map(prob, sx, sy, img.shape[1], img.shape[0])

    def boxes_from_map(self, prob: np.ndarray, sx: float, sy: float, img_w: int, img_h: int) -> list[TextBox]:
        mask = (prob > self.thresh).astype(np.uint8)
        mask = cv2.dilate(mask, np.ones((2, 2), np.uint8))
        contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        boxes: list[TextBox] = []
        for c in contours[:1000]:
            rect = cv2.minAreaRect(c)
            (cx, cy), (rw, rh), ang = rect
            if min(rw, rh) < self.min_side_px - 1:
                continue
            score = _box_score(prob, c)
            if score < self.box_thresh:
                continue
            # "unclip": grow the shrunk DB kernel back to the full text extent.
            area, perim = rw * rh, 2 * (rw + rh)
            d = area * self.unclip_ratio / max(perim, 1e-6)
            grown = ((cx, cy), (rw + 2 * d, rh + 2 * d), ang)
            pts = rect_points(grown)
            pts[:, 0] = np.clip(pts[:, 0] * sx, 0, img_w - 1)
            pts[:, 1] = np.clip(pts[:, 1] * sy, 0, img_h - 1)
            tb = TextBox(pts, float(score))
            if tb.width < 4 or tb.height < 4:
                continue
            boxes.append(tb)
        return boxes


def _box_score(prob: np.ndarray, contour: np.ndarray) -> float:
    x, y, w, h = cv2.boundingRect(contour)
    m = np.zeros((h, w), np.uint8)
    cv2.fillPoly(m, [contour.reshape(-1, 2) - (x, y)], 1)
    return float(cv2.mean(prob[y : y + h, x : x + w], m)[0])


# ---------------------------------------------------------------------------
# Character-row proposals: plates are rows of 3-10 similar-sized glyphs.
# ---------------------------------------------------------------------------


@dataclass
class Band:
    """A horizontal row of character-like blobs (a plate text candidate)."""

    x: float
    y: float
    w: float
    h: float  # height of the row
    char_h: float  # median glyph height
    n_chars: int
    score: float
    resid: float = 0.0  # spread of glyph centres about the fitted baseline / glyph height
    hspread: float = 0.0  # spread of glyph heights / glyph height

    def box(self) -> tuple[float, float, float, float]:
        return self.x, self.y, self.w, self.h

    def quad(self, pad_x: float, pad_y: float, img_w: int, img_h: int) -> np.ndarray:
        """Corner points padded by multiples of the glyph height, clipped to the image."""
        px, py = pad_x * self.char_h, pad_y * self.char_h
        x0, y0 = max(0.0, self.x - px), max(0.0, self.y - py)
        x1, y1 = min(img_w - 1.0, self.x + self.w + px), min(img_h - 1.0, self.y + self.h + py)
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)


# Horizontal runs longer than LINE_RUN x the threshold block are frame/bumper lines, not glyphs.
LINE_RUN = 3
THRESH_C = 10
# Row quality: printed plate glyphs share a baseline and a height, and the row is one glyph tall.
RESID_SCALE = 0.08  # glyph-centre scatter about the fitted line, in glyph heights
HSPREAD_SCALE = 0.15  # spread of glyph heights, in glyph heights
TALL_FREE, TALL_SCALE = 1.2, 0.3  # row height beyond 1.2 glyph heights (clutter, stacked text)
# Text within this fraction of the frame's top or bottom edge is usually an overlay (camera
# name, timestamp) burnt into the video, not a plate.
BORDER_BAND, BORDER_FACTOR = 0.03, 0.3


def location_prior(box, img_h: int) -> float:
    """Plausibility of a text box's position: low for the overlay bands at the frame's edges."""
    y0, y1 = box[1], box[1] + box[3]
    return BORDER_FACTOR if min(y0, img_h - y1) < BORDER_BAND * img_h else 1.0


def _glyph_blobs(gray: np.ndarray, min_h: int, max_h: int) -> np.ndarray:
    """Character-like connected components of both polarities at two threshold scales."""
    out = []
    for block in (15, 31):
        # Plate frames and bolts touching the glyphs would merge them into one blob: remove
        # horizontal runs much longer than a glyph stroke at this scale before labelling.
        line_k = cv2.getStructuringElement(cv2.MORPH_RECT, (LINE_RUN * block, 1))
        for mode in (cv2.THRESH_BINARY_INV, cv2.THRESH_BINARY):
            b = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, mode, block, THRESH_C)
            b = cv2.subtract(b, cv2.morphologyEx(b, cv2.MORPH_OPEN, line_k))
            _, _, st, _ = cv2.connectedComponentsWithStats(b, connectivity=4)
            _x, _y, w, h, a = st[1:, 0], st[1:, 1], st[1:, 2], st[1:, 3], st[1:, 4]
            ok = (
                (h >= min_h) & (h <= max_h) & (w >= 2) & (w <= h * 1.1) & (w >= h * 0.12)
                & (a >= 0.15 * w * h) & (a <= 0.9 * w * h)
            )
            out.append(st[1:][ok, :4])
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 4), np.float32)


def find_char_rows(img: np.ndarray, work_side: int = 960, max_gap: float = 1.0) -> list[Band]:
    """Propose plate text rows, best first.

    Glyph-sized blobs are linked when they have similar height, sit on the same
    line and are close horizontally; linked groups with 3-12 distinct glyph
    columns become candidate rows.  Rows are ranked by how plate-like their
    glyph count is.
    """
    h_img, w_img = img.shape[:2]
    s = min(1.0, work_side / max(h_img, w_img))
    gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    if s < 1.0:
        gray = cv2.resize(gray, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    comps = _glyph_blobs(gray, 8, 90)
    n = len(comps)
    if n == 0:
        return []
    comps = comps[np.argsort(comps[:, 0], kind="stable")]
    x, w, hh = comps[:, 0], comps[:, 2], comps[:, 3]
    cy = comps[:, 1] + hh / 2
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        right = x[i] + w[i]
        for j in range(i + 1, n):
            gap = x[j] - right
            if gap > max_gap * hh[i]:
                break
            if x[j] < x[i] + w[i] * 0.5 and abs(hh[i] - hh[j]) < 0.1 * hh[i]:
                continue  # the same glyph found at another threshold
            r = hh[i] / hh[j]
            if r < 0.77 or r > 1.3:
                continue
            if abs(cy[i] - cy[j]) > 0.35 * max(hh[i], hh[j]):
                continue
            if gap < -0.3 * hh[i]:
                continue
            a, b = find(i), find(j)
            if a != b:
                parent[a] = b
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    bands: list[Band] = []
    for members in groups.values():
        if len(members) < 3:
            continue
        c = comps[members]
        x0, y0 = c[:, 0].min(), c[:, 1].min()
        x1, y1 = (c[:, 0] + c[:, 2]).max(), (c[:, 1] + c[:, 3]).max()
        hmed = float(np.median(c[:, 3]))
        xs = np.sort(c[:, 0] + c[:, 2] / 2)
        distinct = int(1 + np.sum(np.diff(xs) > 0.3 * hmed))
        if distinct < 3 or distinct > 12:
            continue
        aspect = (x1 - x0) / hmed
        if aspect < 1.5 or aspect > 12:
            continue
        score = min(distinct, 8) - 0.5 * max(0, distinct - 8)
        gx, gy = c[:, 0] + c[:, 2] / 2, c[:, 1] + c[:, 3] / 2
        A = np.stack([gx - gx.mean(), np.ones_like(gx)], 1)
        coef, *_ = np.linalg.lstsq(A, gy, rcond=None)
        resid = float(np.sqrt(np.mean((gy - A @ coef) ** 2)) / hmed)
        hspread = float(np.std(c[:, 3]) / hmed)
        score *= math.exp(-resid / RESID_SCALE - hspread / HSPREAD_SCALE)
        score *= math.exp(-max(0.0, (y1 - y0) / hmed - TALL_FREE) / TALL_SCALE)
        score *= location_prior((x0, y0, x1 - x0, y1 - y0), gray.shape[0])
        bands.append(Band(x0 / s, y0 / s, (x1 - x0) / s, (y1 - y0) / s, hmed / s, distinct, float(score), resid, hspread))
    bands.sort(key=lambda b: (-b.score, -b.char_h))
    return bands
