"""Recognise plate characters with the PP-OCR CTC recogniser.

The recogniser knows ~18 700 symbols; plates use 36.  We keep the model's full
softmax, fold lower case into upper case, treat every other symbol (dashes,
dots, state emblems read as CJK glyphs...) as a non-emitting separator, and
decode greedily.  Each emitted character keeps its probability distribution
over ``0-9A-Z`` so later stages can resolve confusable characters (O/0, B/8,
...) with regional plate formats instead of trusting the argmax blindly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
REC_HEIGHT = 48
# Plate glyphs are tall and narrow; the recogniser (trained on document text) drops or merges
# wide letters (W, M) unless the crop is stretched horizontally before reading.
STRETCH = 1.4


@dataclass
class CharRead:
    char: str
    prob: float  # probability of this character at its peak time step (vs. blank/other)
    dist: np.ndarray  # distribution over ALPHABET at that step, sums to 1


@dataclass
class LineRead:
    """One recognised text line."""

    chars: list[CharRead] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(c.char for c in self.chars)

    @property
    def confidence(self) -> float:
        """Geometric mean of character probabilities (0 for an empty line)."""
        if not self.chars:
            return 0.0
        return float(math.exp(sum(math.log(max(c.prob, 1e-6)) for c in self.chars) / len(self.chars)))


class Recogniser:
    def __init__(self, session, charset: list[str]):
        self.session = session
        self.input_name = session.get_inputs()[0].name
        n = len(charset)
        # Column index groups in the model output.
        self._cols = np.zeros((len(ALPHABET), 2), dtype=np.int64)  # upper, lower (or -1)
        index = {c: i for i, c in enumerate(charset)}
        for k, ch in enumerate(ALPHABET):
            self._cols[k, 0] = index[ch]
            self._cols[k, 1] = index.get(ch.lower(), -1) if ch.isalpha() else -1
        self._alnum_mask = np.zeros(n, dtype=bool)
        self._alnum_mask[self._cols[self._cols >= 0]] = True
        self._alnum_mask[0] = True  # blank handled separately

    # -- pre-processing -------------------------------------------------
    @staticmethod
    def crop(img: np.ndarray, pts: np.ndarray, pad_x: float = 0.0, pad_y: float = 0.0) -> np.ndarray:
        """Rectify the quadrilateral ``pts`` (tl, tr, br, bl) to an upright crop."""
        pts = np.asarray(pts, dtype=np.float32)
        w = float(max(np.linalg.norm(pts[1] - pts[0]), np.linalg.norm(pts[2] - pts[3])))
        h = float(max(np.linalg.norm(pts[3] - pts[0]), np.linalg.norm(pts[2] - pts[1])))
        if pad_x or pad_y:
            ux = (pts[1] - pts[0]) / max(w, 1e-6)
            uy = (pts[3] - pts[0]) / max(h, 1e-6)
            dx, dy = ux * w * pad_x, uy * h * pad_y
            pts = np.array([pts[0] - dx - dy, pts[1] + dx - dy, pts[2] + dx + dy, pts[3] - dx + dy], np.float32)
            w, h = w * (1 + 2 * pad_x), h * (1 + 2 * pad_y)
        w, h = max(int(round(w)), 2), max(int(round(h)), 2)
        dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
        m = cv2.getPerspectiveTransform(pts, dst)
        return cv2.warpPerspective(img, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)

    @staticmethod
    def _prepare(crop: np.ndarray, width: int, stretch: float = 1.0) -> np.ndarray:
        h, w = crop.shape[:2]
        rw = min(width, max(8, int(math.ceil(REC_HEIGHT * w * stretch / h))))
        interp = cv2.INTER_AREA if h > REC_HEIGHT else cv2.INTER_CUBIC
        im = cv2.resize(crop, (rw, REC_HEIGHT), interpolation=interp).astype(np.float32)
        im = (im * np.float32(1 / 255.0) - np.float32(0.5)) / np.float32(0.5)
        out = np.zeros((3, REC_HEIGHT, width), np.float32)
        out[:, :, :rw] = im.transpose(2, 0, 1)
        return out

    # -- inference --------------------------------------------------------
    def read(self, crops: list[np.ndarray], stretch: float = STRETCH) -> list[LineRead]:
        """Recognise each crop (BGR, already rectified); returns one LineRead per crop.

        ``stretch`` widens the crop by that factor before reading (see ``STRETCH``)."""
        results: list[LineRead] = []
        for crop in crops:
            x = self.input_tensor(crop, stretch)[None]
            probs = self.session.run(None, {self.input_name: x})[0][0]
            results.append(self.decode(probs))
        return results

    @classmethod
    def input_tensor(cls, crop: np.ndarray, stretch: float = STRETCH) -> np.ndarray:
        """The recogniser's input for one rectified crop: (3, 48, W), W a multiple of 8 (what training feeds too)."""
        if crop.ndim == 2:
            crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
        h, w = crop.shape[:2]
        width = max(32, min(640, int(math.ceil(REC_HEIGHT * w * stretch / max(h, 1) / 8.0)) * 8))
        return cls._prepare(crop, width, stretch)

    def decode(self, probs: np.ndarray) -> LineRead:
        """Greedy CTC decoding restricted to ``0-9A-Z`` with per-character distributions."""
        upper = probs[:, self._cols[:, 0]]
        lower_idx = self._cols[:, 1]
        lower = np.where(lower_idx >= 0, probs[:, np.maximum(lower_idx, 0)], 0.0)
        alnum = upper + lower  # (T, 36)
        blank = probs[:, 0]
        other = np.clip(probs.sum(axis=1) - alnum.sum(axis=1) - blank, 0.0, None)
        # Per step label: -1 blank, -2 other symbol, k>=0 alphabet index.
        best = alnum.argmax(axis=1)
        best_p = alnum[np.arange(len(best)), best]
        label = np.where(best_p >= np.maximum(blank, other), best, np.where(blank >= other, -1, -2))
        chars: list[CharRead] = []
        prev = -1
        seg_best_t = -1
        for t, lab in enumerate(label):
            if lab >= 0 and lab == prev and seg_best_t >= 0:
                if best_p[t] > best_p[seg_best_t]:
                    seg_best_t = t
                    chars[-1] = self._char_at(alnum[t], int(lab), float(best_p[t]))
            elif lab >= 0:
                seg_best_t = t
                chars.append(self._char_at(alnum[t], int(lab), float(best_p[t])))
            else:
                seg_best_t = -1
            prev = lab
        return LineRead(chars)

    @staticmethod
    def _char_at(dist: np.ndarray, k: int, p: float) -> CharRead:
        s = float(dist.sum())
        d = (dist / s) if s > 0 else np.full(len(ALPHABET), 1.0 / len(ALPHABET))
        return CharRead(ALPHABET[k], p, d.astype(np.float32))
