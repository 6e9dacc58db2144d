"""Combine candidate plate strings from several reading passes of one region.

Each pass (a differently padded crop of the same region) yields scored
interpretations.  A plate string's combined score is the mean of its score
over all passes (0 where a pass did not produce it), so strings that every
pass agrees on rise and one-off misreads sink, yet every string ever produced
stays in the candidate list.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass


@dataclass
class Scored:
    text: str
    score: float
    region: str | None  # the jurisdiction (state or country) the formats tell, if any
    format: str | None = None  # the format pattern the text fits, if any


def vote(passes: list[list[Scored]]) -> list[Scored]:
    """Merge per-pass candidate lists into one list, best first."""
    if not passes:
        return []
    total: dict[str, float] = defaultdict(float)
    best_region: dict[str, tuple[float, str | None, str | None]] = {}
    for cands in passes:
        seen: dict[str, Scored] = {}
        for c in cands:
            if c.text and (c.text not in seen or c.score > seen[c.text].score):
                seen[c.text] = c
        for text, c in seen.items():
            total[text] += c.score
            if text not in best_region or c.score > best_region[text][0]:
                best_region[text] = (c.score, c.region, c.format)
    n = len(passes)
    merged = [Scored(t, min(1.0, s / n), *best_region[t][1:]) for t, s in total.items()]
    merged.sort(key=lambda c: (-c.score, c.text))
    return merged
