"""Regional plate formats (loaded from TOML data) and confusable-character resolution.

A recognised line is a sequence of characters, each with a probability
distribution over ``0-9A-Z``.  For every format of the right length we pick,
position by position, the most probable character of the class the format
requires (a letter, possibly from a restricted set, or a digit).  Swapping a
character the recogniser preferred for another one costs the ratio of their
probabilities, softened for pairs that are known OCR confusions (O/0, I/1,
B/8, S/5, Z/2, G/6...), so a plate like ``UHIFOF`` resolves to the Missouri
``UH1F0F`` while a confident vanity plate that fits no format is still
returned as read.  Nothing is discarded: every interpretation becomes a scored
candidate.

A *region* is one formats file (``us``, ``eu``, ``br``: ``<code>_plate_formats.toml``
beside this module); each format lists the *jurisdictions* (state or country
codes such as ``us-ca``, ``fr``, ``br``) that issue it.
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from .recognise import ALPHABET, CharRead

_DATA_DIR = Path(__file__).resolve().parent
_FILE_SUFFIX = "_plate_formats.toml"
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
# Dropping the character read where the series prints an emblem between its groups (``emblem_at``):
# the recogniser reads that emblem as a glyph on many plates of the series, so the drop is what
# the plate looks like, not a guess; the format's prior still applies.
EMBLEM_DELETION = 1.0
CONFUSABLE_FLOOR = 0.5  # minimum factor for swapping a known confusable pair


def available_regions() -> list[str]:
    """Region codes that have a formats file (``us``, ``eu``, ``br``...), sorted."""
    return sorted(p.name[: -len(_FILE_SUFFIX)] for p in _DATA_DIR.glob(f"*{_FILE_SUFFIX}"))


@dataclass(frozen=True)
class PlateFormat:
    """One plate series: ``L`` letter, ``D`` digit, ``A`` either, per character.

    ``letters`` are the letters the series issues (e.g. French plates never use
    I, O or U); they apply to every ``L`` after the first ``district_chars``
    characters, which are an area code that may use any letter.
    """

    pattern: str
    regions: tuple[str, ...]  # jurisdictions issuing this series
    prior: float = 1.0
    letters: str = string.ascii_uppercase
    district_chars: int = 0
    display: str | None = None  # the pattern as printed, separators included ("LL-DDD-LL")
    emblem_at: tuple[int, ...] = ()  # character positions an emblem is printed before (Missouri "AB1 (emblem) C2D": 3)

    @property
    def region(self) -> str | None:
        """The one jurisdiction issuing this series, or None when several do."""
        return self.regions[0] if len(self.regions) == 1 else None

    @cached_property
    def classes(self) -> tuple[str, ...]:
        """Per position, the characters the series allows there (``ALPHABET``, the digits, or its letters)."""
        return tuple(
            ALPHABET if cls == "A"
            else string.digits if cls == "D"
            else string.ascii_uppercase if i < self.district_chars
            else self.letters
            for i, cls in enumerate(self.pattern)
        )

    @property
    def masks(self) -> tuple[np.ndarray, ...]:
        """Per position, which of ``ALPHABET`` the series allows there."""
        return tuple(_mask(allowed) for allowed in self.classes)


@lru_cache(maxsize=256)
def _mask(allowed: str) -> np.ndarray:
    return np.array([c in allowed for c in ALPHABET])


@dataclass
class Interpretation:
    """One reading of a text line: canonical plate string, its score factor and the format it fits."""

    text: str
    factor: float
    jurisdiction: str | None  # state or country, where the formats the text fits tell
    pattern: str | None = None  # the best format the text fits (None: it fits none)
    notes: list[str] = field(default_factory=list)
    jurisdictions: tuple[str, ...] = ()  # every jurisdiction with a format the text fits

    @property
    def region(self) -> str | None:
        """Former name of ``jurisdiction``."""
        return self.jurisdiction


def common_jurisdiction(codes: set[str]) -> str | None:
    """One jurisdiction for a set: itself when alone, the shared country ("us" for us-ca and us-ny), else None."""
    if len(codes) == 1:
        return next(iter(codes))
    countries = {c.split("-")[0] for c in codes}
    return countries.pop() if len(countries) == 1 else None


def _telling_jurisdiction(fits: list[PlateFormat]) -> str | None:
    # Of the formats a string fits, those of the highest prior decide (see RegionFormats.jurisdiction_of).
    if not fits:
        return None
    top = max(min(f.prior, 1.0) for f in fits)
    return common_jurisdiction({r for f in fits if min(f.prior, 1.0) >= top - 1e-9 for r in f.regions})


@dataclass
class RegionFormats:
    """One region's plate formats and how it writes characters (``<code>_plate_formats.toml``)."""

    code: str
    formats: list[PlateFormat]
    same_glyph: dict[str, str]
    confusable: set[frozenset[str]]
    min_chars: int = 5
    max_chars: int = 8
    absolute_min_chars: int = 2
    # Order of the confusable pairs in the file: where two swaps cost the same, the earlier pair wins.
    confusable_rank: dict[frozenset[str], int] = field(default_factory=dict)

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
        pairs = [frozenset(p) for p in reg.get("confusable", []) if len(p) == 2]
        rank: dict[frozenset[str], int] = {}
        for i, pair in enumerate(pairs):
            rank.setdefault(pair, i)
        return cls(
            code=str(reg.get("code", path.name.split("_")[0])),
            formats=[_format_from_toml(f, path) for f in data.get("format", [])],
            same_glyph=same,
            confusable=set(pairs),
            min_chars=int(reg.get("min_chars", 5)),
            max_chars=int(reg.get("max_chars", 8)),
            absolute_min_chars=int(reg.get("absolute_min_chars", 2)),
            confusable_rank=rank,
        )

    @classmethod
    def load(cls, region: str = "us") -> "RegionFormats":
        """The formats of a region (``"us"``, ``"eu"``, ``"br"``; ``"us-ca"`` means ``"us"``); ValueError if unknown."""
        return _load_cached(region.strip().lower().split("-")[0])

    @cached_property
    def _by_length(self) -> dict[int, list[PlateFormat]]:
        out: dict[int, list[PlateFormat]] = {}
        for f in self.formats:
            out.setdefault(len(f.pattern), []).append(f)
        return out

    def formats_of_length(self, n: int) -> list[PlateFormat]:
        return self._by_length.get(n, [])

    # -- helpers --------------------------------------------------------------
    def canonical(self, text: str) -> str:
        """Upper-case, drop spaces/dashes, merge characters the region does not distinguish."""
        t = "".join(ch for ch in text.upper() if ch.isalnum())
        return "".join(self.same_glyph.get(ch, ch) for ch in t)

    @cached_property
    def _fit_tables(self) -> dict[int, np.ndarray]:
        # Per length: formats x positions x ALPHABET, whether that character fits there (one lookup per string).
        return {
            n: np.array([[[self._fits(ch, allowed) for ch in ALPHABET] for allowed in f.classes] for f in fmts])
            for n, fmts in self._by_length.items()
        }

    def matches(self, text: str) -> list[PlateFormat]:
        """Formats the (canonical) text fits exactly."""
        text = self.canonical(text)
        fmts = self.formats_of_length(len(text))
        if not fmts or any(ch not in _IDX for ch in text):
            return []
        fits = self._fit_tables[len(text)][:, np.arange(len(text)), [_IDX[ch] for ch in text]].all(axis=1)
        return [f for f, ok in zip(fmts, fits) if ok]

    def jurisdictions_of(self, text: str) -> tuple[str, ...]:
        """Every jurisdiction (sorted) with a format the plate string fits."""
        return tuple(sorted({r for f in self.matches(text) for r in f.regions}))

    def jurisdiction_of(self, text: str) -> str | None:
        """The state or country a plate string belongs to, where the formats it fits tell (None otherwise).

        Of the formats the string fits, those with the highest prior decide: the Illinois ``0104652`` (an O
        first, printed like 0) is not made doubtful by the all-digit series (prior 0.3) it also fits, but a
        French ``AB123CD`` is Italian just as well, so it has no country.
        """
        return _telling_jurisdiction(self.matches(text))

    @cached_property
    def _fits_cache(self) -> dict[tuple[str, str], bool]:
        return {}

    @cached_property
    def _where_cache(self) -> dict[str, tuple[tuple[str, ...], str | None]]:
        return {}

    def _where(self, text: str) -> tuple[tuple[str, ...], str | None]:
        """``jurisdictions_of`` and ``jurisdiction_of`` a canonical text, remembered (a line has dozens of them)."""
        hit = self._where_cache.get(text)
        if hit is None:
            if len(self._where_cache) > 20_000:  # plenty for a camera's recent plates; bounded all the same
                self._where_cache.clear()
            fits = self.matches(text)
            hit = self._where_cache[text] = (tuple(sorted({r for f in fits for r in f.regions})), _telling_jurisdiction(fits))
        return hit

    def _fits(self, ch: str, allowed: str) -> bool:
        """Whether a character may stand where ``allowed`` characters may (a class of ``PlateFormat.classes``)."""
        key = (ch, allowed)
        hit = self._fits_cache.get(key)
        if hit is None:
            # A character the region writes with the same glyph as an allowed one fits too (US: O is 0).
            variants = {ch} | {a for a, b in self.same_glyph.items() if b == ch} | {self.same_glyph.get(ch, ch)}
            hit = self._fits_cache[key] = any(v in allowed for v in variants)
        return hit

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
        swaps: dict[tuple[int, str], tuple[str | None, float]] = {}  # (character, class) -> best fit, this line
        for f in self.formats_of_length(len(chars)):
            it = self._fit(chars, f, 1.0, swaps)
            if it:
                add(it)
        # One spurious character (an emblem or sticker read as a glyph) may be dropped.
        if len(chars) > self.min_chars:
            for i in range(len(chars)):
                sub = chars[:i] + chars[i + 1 :]
                for f in self.formats_of_length(len(sub)):
                    it = self._fit(sub, f, EMBLEM_DELETION if i in f.emblem_at else DELETION, swaps)
                    if it:
                        it.notes.append(f"dropped {chars[i].char!r} at {i}")
                        add(it)
        for it in out.values():
            if it.pattern is not None:
                # Where it can tell: a string several jurisdictions' formats fit alike belongs to none of them alone.
                it.jurisdictions, it.jurisdiction = self._where(it.text)
        return sorted(out.values(), key=lambda it: -it.factor)

    def _fit(
        self, chars: list[CharRead], fmt: PlateFormat, base: float, swaps: dict[tuple[int, str], tuple[str | None, float]]
    ) -> Interpretation | None:
        factor = base * FORMAT_MATCH * min(fmt.prior, 1.0)
        text = []
        for c, allowed in zip(chars, fmt.classes):
            key = (id(c), allowed)  # the line's characters live as long as `swaps`, so their ids stay theirs
            best = swaps.get(key)
            if best is None:
                best = swaps[key] = self._best_fit(c, allowed)
            ch, f = best
            if ch is None:
                return None
            factor *= f
            text.append(ch)
        return Interpretation(self.canonical("".join(text)), factor, fmt.region, fmt.pattern, [])

    def _best_fit(self, c: CharRead, allowed: str) -> tuple[str | None, float]:
        """The character standing for ``c`` where only ``allowed`` may stand, and the factor it costs."""
        if self._fits(c.char, allowed):
            return c.char, 1.0
        mask = _mask(allowed)
        d = np.where(mask, c.dist, 0.0)
        # Known confusions get a floor so a confident-but-wrong class can still be fixed.
        cur = float(c.dist[_IDX[c.char]]) or 1e-6
        best_ch, best_key = None, (0.0, 0.0, -999)
        options = {ALPHABET[int(k)] for k in np.argsort(-d)[:4]}
        options |= {a for pair in self.confusable if c.char in pair for a in pair if a != c.char}
        for alt in sorted(options):
            k = _IDX.get(alt)
            if k is None or not mask[k]:
                continue
            f = float(d[k]) / cur
            if frozenset((c.char, alt)) in self.confusable:
                f = max(f, CONFUSABLE_FLOOR)
            # Two floored confusions tie: the recogniser's own probability decides, then the pairs' order.
            key = (min(f, 1.0), float(d[k]), -self.confusable_rank.get(frozenset((c.char, alt)), 999))
            if key > best_key:
                best_ch, best_key = alt, key
        if best_ch is None or best_key[0] < 1e-3:
            return None, 0.0
        return best_ch, best_key[0]


def _format_from_toml(entry: dict, path: Path) -> PlateFormat:
    pat = str(entry["pattern"]).upper()
    if not pat or set(pat) - set("LDA"):
        raise ValueError(f"bad plate pattern {pat!r} in {path}")
    letters = str(entry.get("letters", string.ascii_uppercase)).upper()
    if not letters or set(letters) - set(string.ascii_uppercase):
        raise ValueError(f"bad letters {letters!r} for pattern {pat!r} in {path}")
    display = entry.get("display")
    if display is not None and "".join(ch for ch in str(display).upper() if ch.isalnum()) != pat:
        raise ValueError(f"display {display!r} does not spell pattern {pat!r} in {path}")
    emblem_at = tuple(int(i) for i in entry.get("emblem_at", []))
    if any(not 0 < i < len(pat) for i in emblem_at):
        raise ValueError(f"emblem_at {list(emblem_at)} is not between characters of {pat!r} in {path}")
    return PlateFormat(
        pat,
        tuple(entry.get("regions", [])),
        float(entry.get("prior", 1.0)),
        letters,
        int(entry.get("district_chars", 0)),
        None if display is None else str(display),
        emblem_at,
    )


@lru_cache(maxsize=8)
def _load_cached(region: str) -> RegionFormats:
    path = _DATA_DIR / f"{region}{_FILE_SUFFIX}"
    if not region.isalnum() or not path.exists():
        known = ", ".join(available_regions())
        raise ValueError(f"unknown plate region {region!r}: known regions are {known}")
    return RegionFormats.from_toml(path)
