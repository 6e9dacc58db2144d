"""Regional plate formats (loaded from TOML data) and confusable-character resolution.

A recognised line is a sequence of characters, each with a probability
distribution over ``0-9A-Z``.  For every format of the right length we pick,
position by position, the most probable character of the class the format
requires (letter or digit).  Swapping a character the recogniser preferred for
another one costs the ratio of their probabilities, softened for pairs that
are known OCR confusions (O/0, I/1, B/8, S/5, Z/2, G/6...), so a plate like
``UHIFOF`` resolves to the Missouri ``UH1F0F`` while a confident vanity plate
that fits no format is still returned as read.  Nothing is discarded: every
interpretation becomes a scored candidate.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .recognise import ALPHABET, CharRead

_DATA_DIR = Path(__file__).resolve().parent
_LETTERS = np.array([c.isalpha() for c in ALPHABET])
_DIGITS = ~_LETTERS
_IDX = {c: i for i, c in enumerate(ALPHABET)}

# Scoring policy (relative weights, not tuned per image).
FORMAT_MATCH = 1.0  # read fits a regional format
GENERIC_IN_RANGE = 0.45  # plausible length, no known format (vanity plates)
GENERIC_LONG = 0.15  # one character more than the region's usual maximum
GENERIC_SHORT = 0.1  # shorter than usual
GENERIC_OTHER = 0.03  # far outside the usual length
DELETION = 0.5  # dropping one spurious character (emblem, sticker) to fit a format
CONFUSABLE_FLOOR = 0.5  # minimum factor for swapping a known confusable pair


@dataclass(frozen=True)
class PlateFormat:
    pattern: str
    regions: tuple[str, ...]
    prior: float = 1.0

    @property
    def region(self) -> str | None:
        return self.regions[0] if len(self.regions) == 1 else None


@dataclass
class Interpretation:
    """One reading of a text line: canonical plate string and its score factor."""

    text: str
    factor: float
    region: str | None
    pattern: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class RegionFormats:
    code: str
    formats: list[PlateFormat]
    same_glyph: dict[str, str]
    confusable: set[frozenset[str]]
    min_chars: int = 5
    max_chars: int = 8
    absolute_min_chars: int = 2

    # -- loading ------------------------------------------------------------
    @classmethod
    def from_toml(cls, path: Path) -> "RegionFormats":
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        reg = data.get("region", {})
        same = {}
        for pair in reg.get("same_glyph", []):
            if len(pair) != 2:
                raise ValueError(f"same_glyph entries are 2 characters, got {pair!r}")
            same[pair[0]] = pair[1]
        conf = {frozenset(p) for p in reg.get("confusable", []) if len(p) == 2}
        fmts = []
        for f in data.get("format", []):
            pat = str(f["pattern"]).upper()
            if not pat or set(pat) - set("LDA"):
                raise ValueError(f"bad plate pattern {pat!r} in {path}")
            fmts.append(PlateFormat(pat, tuple(f.get("regions", [])), float(f.get("prior", 1.0))))
        return cls(
            code=str(reg.get("code", path.stem.split("_")[0])),
            formats=fmts,
            same_glyph=same,
            confusable=conf,
            min_chars=int(reg.get("min_chars", 5)),
            max_chars=int(reg.get("max_chars", 8)),
            absolute_min_chars=int(reg.get("absolute_min_chars", 2)),
        )

    @classmethod
    def load(cls, region: str = "us") -> "RegionFormats":
        return _load_cached(region.lower().split("-")[0])

    # -- helpers --------------------------------------------------------------
    def canonical(self, text: str) -> str:
        """Upper-case, drop spaces/dashes, merge characters the region does not distinguish."""
        t = "".join(ch for ch in text.upper() if ch.isalnum())
        return "".join(self.same_glyph.get(ch, ch) for ch in t)

    def matches(self, text: str) -> list[PlateFormat]:
        """Formats the (canonical) text fits exactly."""
        text = self.canonical(text)
        out = []
        for f in self.formats:
            if len(f.pattern) == len(text) and all(self._fits(ch, cls) for ch, cls in zip(text, f.pattern)):
                out.append(f)
        return out

    def _fits(self, ch: str, cls: str) -> bool:
        if cls == "A":
            return True
        variants = {ch} | {a for a, b in self.same_glyph.items() if b == ch} | {self.same_glyph.get(ch, ch)}
        want_letter = cls == "L"
        return any(v.isalpha() == want_letter for v in variants)

    def length_factor(self, n: int) -> float:
        if self.min_chars <= n <= min(self.max_chars, 7):
            return GENERIC_IN_RANGE
        if self.min_chars <= n <= self.max_chars:
            return GENERIC_LONG
        if n == self.min_chars - 1:
            return GENERIC_SHORT
        if n >= self.absolute_min_chars:
            return GENERIC_OTHER
        return 0.0

    # -- resolution -----------------------------------------------------------
    def resolve(self, chars: list[CharRead]) -> list[Interpretation]:
        """All interpretations of a recognised line, best first (never empty for a non-empty line)."""
        if not chars:
            return []
        raw = "".join(c.char for c in chars)
        out: dict[str, Interpretation] = {}

        def add(interp: Interpretation) -> None:
            cur = out.get(interp.text)
            if cur is None or interp.factor > cur.factor:
                out[interp.text] = interp

        lf = self.length_factor(len(chars))
        add(Interpretation(self.canonical(raw), lf, None, None, ["as read"]))
        for f in self.formats:
            if len(f.pattern) == len(chars):
                it = self._fit(chars, f, 1.0)
                if it:
                    add(it)
        # One spurious character (an emblem or sticker read as a glyph) may be dropped.
        if len(chars) > self.min_chars:
            for i in range(len(chars)):
                sub = chars[:i] + chars[i + 1 :]
                for f in self.formats:
                    if len(f.pattern) == len(sub):
                        it = self._fit(sub, f, DELETION)
                        if it:
                            it.notes.append(f"dropped {chars[i].char!r} at {i}")
                            add(it)
        return sorted(out.values(), key=lambda it: -it.factor)

    def _fit(self, chars: list[CharRead], fmt: PlateFormat, base: float) -> Interpretation | None:
        factor = base * FORMAT_MATCH * min(fmt.prior, 1.0)
        text = []
        for c, cls in zip(chars, fmt.pattern):
            if cls == "A" or self._fits(c.char, cls):
                text.append(c.char)
                continue
            allowed = _LETTERS if cls == "L" else _DIGITS
            d = np.where(allowed, c.dist, 0.0)
            # Known confusions get a floor so a confident-but-wrong class can still be fixed.
            cur = float(c.dist[_IDX[c.char]]) or 1e-6
            best_ch, best_f = None, 0.0
            options = {ALPHABET[int(k)] for k in np.argsort(-d)[:4]}
            options |= {a for pair in self.confusable if c.char in pair for a in pair if a != c.char}
            for alt in options:
                k = _IDX.get(alt)
                if k is None or not allowed[k]:
                    continue
                f = float(d[k]) / cur
                if frozenset((c.char, alt)) in self.confusable:
                    f = max(f, CONFUSABLE_FLOOR)
                if f > best_f:
                    best_ch, best_f = alt, min(f, 1.0)
            if best_ch is None or best_f < 1e-3:
                return None
            factor *= best_f
            text.append(best_ch)
        return Interpretation(self.canonical("".join(text)), factor, fmt.region or self.code, fmt.pattern, [])


@lru_cache(maxsize=8)
def _load_cached(region: str) -> RegionFormats:
    path = _DATA_DIR / f"{region}_plate_formats.toml"
    if not path.exists():
        raise ValueError(f"no plate formats for region {region!r} (expected {path.name})")
    return RegionFormats.from_toml(path)
