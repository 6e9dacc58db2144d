"""Plate strings for synthetic plates: sampled from the region's format files.

Formats live in one place, the reader's ``<region>_plate_formats.toml`` files
(pattern letters L = letter, D = digit, A = either).  A format may name letters
it never uses (e.g. Spain's plates have no vowels); those are respected.  A
small built-in list stands in only when a region has no file yet.
"""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

FORMATS_DIR = Path(__file__).resolve().parents[1] / "reader"
LETTERS = string.ascii_uppercase
DIGITS = string.digits
# Keys a format table may use to name letters it never uses.
_EXCLUSION_KEYS = ("exclude", "excluded", "exclude_letters", "excluded_letters", "no_letters")

# Used only when the region's TOML is absent: (pattern, jurisdictions, excluded letters).
_BUILTIN: dict[str, list[tuple[str, tuple[str, ...], str]]] = {
    "us": [("DLLLDDD", ("us-ca",), ""), ("LLLDDDD", ("us-ny", "us-tx", "us-pa"), ""), ("LLLDDD", ("us-fl",), "")],
    "eu": [
        ("LLDDDLL", ("fr", "it"), "IOU"),
        ("DDDDLLL", ("es",), "AEIOUQ"),
        ("LLLDDDD", ("de",), ""),
        ("LLDDDDD", ("pl",), ""),
        ("LLDDDLL", ("nl",), ""),
    ],
    "br": [("LLLDDDD", ("br",), ""), ("LLLDLDD", ("br",), "")],
}


@dataclass(frozen=True)
class FormatSpec:
    """One plate format: its pattern, where it is used, the letters it issues, how it is printed."""

    pattern: str
    jurisdictions: tuple[str, ...]
    prior: float = 1.0
    excluded: str = ""  # letters the series never issues
    district_chars: int = 0  # leading characters that are an area code: any letter there
    display: str = ""  # the printed layout, e.g. "LL-DDD-LL" (separators break groups)

    def letters(self) -> str:
        return "".join(ch for ch in LETTERS if ch not in self.excluded)


@lru_cache(maxsize=None)
def region_formats(region: str) -> tuple[FormatSpec, ...]:
    """The region's formats, from its TOML when present, else the built-in fallback."""
    region = region.lower()
    path = FORMATS_DIR / f"{region}_plate_formats.toml"
    if path.exists():
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        specs = []
        for f in data.get("format", []):
            pattern = str(f["pattern"]).upper()
            excluded = next((f[k] for k in _EXCLUSION_KEYS if k in f), "")
            if isinstance(excluded, list):
                excluded = "".join(excluded)
            excluded = str(excluded).upper()
            if "letters" in f:  # the letters issued, where the series leaves some out
                excluded += "".join(ch for ch in LETTERS if ch not in str(f["letters"]).upper())
            jur = tuple(f.get("regions", f.get("countries", [])) or [f.get("country", region)])
            specs.append(FormatSpec(pattern, jur, float(f.get("prior", 1.0)), excluded,
                                    int(f.get("district_chars", 0)), str(f.get("display", ""))))
        if specs:
            return tuple(specs)
    if region not in _BUILTIN:
        raise ValueError(f"no plate formats for region {region!r} (known: us, eu, br)")
    return tuple(FormatSpec(p, j, 1.0, e) for p, j, e in _BUILTIN[region])


def plain(group: str) -> str:
    """A printed group without its leading dash."""
    return group.lstrip("-")


def sample_format(rng: np.random.Generator, region: str) -> tuple[FormatSpec, str]:
    """A jurisdiction (each equally likely) and one of its formats, weighted by prior: (format, jurisdiction).

    ``region`` is a region ("eu") or one jurisdiction of it ("eu-fr", "us-ca")."""
    code, _, only = region.lower().partition("-")
    specs = region_formats(code)
    jurisdictions = sorted({j for s in specs for j in s.jurisdictions})
    if only:
        jurisdictions = [j for j in jurisdictions if j in (only, f"{code}-{only}")]
        if not jurisdictions:
            raise ValueError(f"no plate formats for {region!r}")
    jurisdiction = jurisdictions[int(rng.integers(len(jurisdictions)))]
    mine = [s for s in specs if jurisdiction in s.jurisdictions]
    weights = np.array([max(s.prior, 0.05) for s in mine])
    return mine[int(rng.choice(len(mine), p=weights / weights.sum()))], jurisdiction


def sample_text(rng: np.random.Generator, spec: FormatSpec) -> str:
    """A string of the format: its area-code letters free, the rest from the letters it issues."""
    head = fill_pattern(rng, spec.pattern[: spec.district_chars])
    return head + fill_pattern(rng, spec.pattern[spec.district_chars:], spec.letters())


def fill_pattern(rng: np.random.Generator, pattern: str, letters: str = LETTERS) -> str:
    """A random string of the pattern (L letter, D digit, A either)."""
    out = []
    for cls in pattern:
        pool = letters if cls == "L" else DIGITS if cls == "D" else letters + DIGITS
        out.append(pool[int(rng.integers(len(pool)))])
    return "".join(out)


def vanity_text(rng: np.random.Generator) -> str:
    """A vanity-like string: 2-7 characters, mostly letters, a few digits."""
    n = int(rng.integers(2, 8))
    word = [LETTERS[int(i)] for i in rng.integers(0, 26, n)]
    for _ in range(int(rng.integers(0, 3))):
        word[int(rng.integers(n))] = DIGITS[int(rng.integers(10))]
    return "".join(word)


def group_text(rng: np.random.Generator, text: str, pattern: str, region: str, display: str = "") -> list[str]:
    """Split a plate string into the groups printed apart; a group printed after a dash starts with "-"."""
    if display and sum(ch in "LDA" for ch in display) == len(text):
        groups, k, dash = [], 0, False
        for chunk in re.split(r"([ -]+)", display):
            if not chunk:
                continue
            if chunk.strip(" -") == "":
                dash = "-" in chunk
                continue
            groups.append(("-" if dash else "") + text[k:k + len(chunk)])
            k += len(chunk)
        return groups
    runs: list[str] = []
    for i, ch in enumerate(text):
        if not runs or pattern[i] != pattern[i - 1]:
            runs.append("")
        runs[-1] += ch
    if region == "br" and len(text) == 7:
        return [text[:3], ("-" if text[4].isdigit() else "") + text[3:]]
    if region == "us":
        draw = rng.random()
        if draw < 0.45:
            return [text]  # many states print one run (California 8ABC123)
        if draw < 0.75 and len(text) >= 6:
            k = len(text) // 2
            return [text[:k], text[k:]]
    return runs
