"""Check reads against every active hotlist entry: exact first, then one confusable substitution."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from rtcc.alpr.plates import canonical_form


@dataclass(frozen=True, slots=True)
class ActiveEntry:
    entry_id: int
    hotlist_id: int
    plate: str
    priority: int
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class Match:
    entry: ActiveEntry
    method: str  # exact | fuzzy
    matched_plate: str


class HotlistIndex:
    """Plate -> active entries, in memory; a million entries answer a read in microseconds."""

    def __init__(self, entries: list[ActiveEntry] | None = None):
        self._by_plate: dict[str, tuple[ActiveEntry, ...]] = {}
        # Fuzzy matching in one lookup: plates one confusable substitution apart share a canonical form.
        self._by_canonical: dict[str, tuple[ActiveEntry, ...]] = {}
        self._lock = threading.Lock()
        self.size = 0
        if entries:
            self.build(entries)

    def build(self, entries: list[ActiveEntry]) -> None:
        """Replace the whole index (queries keep running on the old one until the swap)."""
        grouped: dict[str, list[ActiveEntry]] = {}
        for entry in entries:
            grouped.setdefault(entry.plate, []).append(entry)
        fresh = {plate: tuple(sorted(group, key=lambda e: e.priority)) for plate, group in grouped.items()}
        canonical: dict[str, list[ActiveEntry]] = {}
        for plate, group in fresh.items():
            canonical.setdefault(canonical_form(plate), []).extend(group)
        with self._lock:
            self._by_plate, self.size = fresh, len(entries)
            self._by_canonical = {key: tuple(group) for key, group in canonical.items()}

    def match(self, plate: str, at: datetime) -> list[Match]:
        """Entries matching a normalised plate at a time: exact ones, else fuzzy ones; expired entries never."""
        by_plate = self._by_plate
        exact = by_plate.get(plate)
        found = [Match(e, "exact", plate) for e in exact or () if e.expires_at is None or e.expires_at > at]
        if found:
            return found
        fuzzy = []
        for entry in self._by_canonical.get(canonical_form(plate), ()):
            # Same canonical form, so same length; fuzzy means exactly one character differs.
            if sum(a != b for a, b in zip(plate, entry.plate)) == 1 and (entry.expires_at is None or entry.expires_at > at):
                fuzzy.append(Match(entry, "fuzzy", entry.plate))
        return fuzzy
