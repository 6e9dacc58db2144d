"""Plate search over many synthetic reads: p50/p95 of exact and wildcard searches, SQLite and PostgreSQL.

Usage: python bench/plate_search.py [READS] (default 10,000,000; loading takes minutes at ~20-40k reads/s).
Prints one JSON object. Targets (issue 4, at 10,000,000 reads): p95 < 100 ms exact, < 1 s wildcard.
"""

import json
import random
import statistics
import string
import sys
import time
from datetime import timedelta


from rtcc.alpr.hotlists import HotlistCache
from rtcc.alpr.reads import ReadIn, ingest
from rtcc.alpr.search import PlateQuery, search_reads
from rtcc.core import clock
from rtcc.core.actor import Actor
from rtcc.core.config import Settings
from rtcc.core.runtime import build_runtime

from bench_databases import postgresql_settings, sqlite_settings  # beside this script

READS = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
BATCH = 20_000
QUERIES = 200
ALPHABET = string.ascii_uppercase + string.digits
ANALYST = Actor(via="cli", username="bench", agency_ori="CA0199900", permissions=frozenset({"alpr.search"}))


def load(runtime) -> list[str]:
    generator = random.Random(5)
    start = clock.utcnow() - timedelta(days=30)
    cache, sample = HotlistCache(), []
    for offset in range(0, READS, BATCH):
        batch = [ReadIn(plate="".join(generator.choice(ALPHABET) for _ in range(7)),
                        read_at=start + timedelta(milliseconds=(offset + n) * 250), confidence=0.9,
                        camera_id=1 + (offset + n) % 200, source_read_id=f"s{offset + n}") for n in range(BATCH)]
        sample.extend(read.plate for read in batch[:: max(1, READS // 50_000)])
        with runtime.database.session() as db:
            ingest(db, runtime=runtime, hotlists=cache, source="bench", reads=batch)
    return sample


def timings(runtime, plates: list[str], mode: str) -> list[float]:
    spent = []
    for plate in plates:
        query = PlateQuery(plate=plate if mode == "exact" else plate[:3] + "?" + plate[4:6] + "*", mode=mode)
        started = time.perf_counter()
        with runtime.database.session() as db:
            search_reads(db, runtime=runtime, actor=ANALYST, query=query, purpose="benchmark of plate search",
                         case_number="BENCH-1", limit=100)
        spent.append((time.perf_counter() - started) * 1000)
    return spent


def measure(settings: Settings) -> dict:
    runtime = build_runtime(settings)
    runtime.database.upgrade()
    started = time.perf_counter()
    sample = load(runtime)
    load_s = time.perf_counter() - started
    generator = random.Random(9)
    plates = [generator.choice(sample) for _ in range(QUERIES)]
    result = {"load_reads_per_second": round(READS / load_s)}
    for mode in ("exact", "wildcard"):
        spent = sorted(timings(runtime, plates, mode))
        result[f"{mode}_ms_p50"] = round(statistics.median(spent), 1)
        result[f"{mode}_ms_p95"] = round(spent[int(len(spent) * 0.95) - 1], 1)
    runtime.close()
    return result


def main() -> None:
    with sqlite_settings() as settings:
        sqlite = measure(settings)
    with postgresql_settings() as settings:
        postgresql = measure(settings)
    print(json.dumps({"benchmark": "plate_search", "reads": READS, "queries": QUERIES, "sqlite": sqlite, "postgresql": postgresql,
                      "target_exact_ms_p95": 100, "target_wildcard_ms_p95": 1000}))


if __name__ == "__main__":
    main()
