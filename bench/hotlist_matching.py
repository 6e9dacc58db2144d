"""Matching speed: reads per second checked against a 1,000,000-entry hotlist on one core.

Prints one JSON object. Target (issue 4): >= 200,000 reads/s.
"""

import json
import random
import string
import time
from datetime import datetime, timezone

from rtcc.alpr.matcher import ActiveEntry, HotlistIndex
from rtcc.alpr.plates import one_substitution_variants

ENTRIES = 1_000_000
READS = 300_000
ALPHABET = string.ascii_uppercase + string.digits


def plate(generator: random.Random) -> str:
    return "".join(generator.choice(ALPHABET) for _ in range(generator.choice((6, 7, 7, 7))))


def main() -> None:
    generator = random.Random(7)
    entries = [ActiveEntry(n, 1 + n % 5, plate(generator), 1 + n % 3, None) for n in range(ENTRIES)]
    started = time.perf_counter()
    index = HotlistIndex(entries)
    build_s = time.perf_counter() - started
    # 1% of reads are hotlisted plates, 1% are one confusable character off a hotlisted plate.
    reads = [plate(generator) for _ in range(READS)]
    for n in range(0, READS, 100):
        reads[n] = entries[generator.randrange(ENTRIES)].plate
    for n in range(50, READS, 100):
        variants = one_substitution_variants(entries[generator.randrange(ENTRIES)].plate)
        if variants:
            reads[n] = generator.choice(variants)[0]
    now = datetime.now(timezone.utc)
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        hits = sum(1 for read in reads if index.match(read, now))
        runs.append(time.perf_counter() - started)
    best = sorted(runs)[1]
    print(json.dumps({
        "benchmark": "hotlist_matching", "entries": ENTRIES, "reads": READS, "hits": hits,
        "reads_per_second_median": round(READS / best), "build_seconds": round(build_s, 2), "target_reads_per_second": 200_000,
    }))


if __name__ == "__main__":
    main()
