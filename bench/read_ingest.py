"""Sustained read-store ingest: reads/s into SQLite and PostgreSQL in batches (matching against an empty hotlist).

Usage: python bench/read_ingest.py [--runs N] (default 3; each run a fresh database). Prints one JSON object:
the median of the runs, and each run. Targets (issue 4): >= 20,000 reads/s into SQLite, >= 50,000 reads/s into
PostgreSQL (its plate_reads partitioned by month; the reads fall in the current month's partition).
PostgreSQL: RTCC_TEST_POSTGRES_URL (default postgresql+psycopg://rtcc:rtcc@127.0.0.1:5432/postgres), a fresh database.
"""

import argparse
import json
import random
import statistics
import string
import time
from datetime import timedelta

from rtcc.alpr.hotlists import HotlistCache
from rtcc.alpr.reads import ReadIn, ingest
from rtcc.core import clock
from rtcc.core.config import Settings
from rtcc.core.runtime import build_runtime

from bench_databases import postgresql_settings, sqlite_settings  # beside this script

READS = 200_000
BATCH = 5_000


def batches():
    generator = random.Random(11)
    start = clock.utcnow() - timedelta(hours=1)
    alphabet = string.ascii_uppercase + string.digits
    for offset in range(0, READS, BATCH):
        yield [ReadIn(plate="".join(generator.choice(alphabet) for _ in range(7)), read_at=start + timedelta(milliseconds=n),
                      confidence=0.9, camera_id=1 + n % 40, source_read_id=f"r{n}") for n in range(offset, offset + BATCH)]


def reads_per_second(settings: Settings) -> float:
    runtime = build_runtime(settings)
    runtime.database.upgrade()
    cache = HotlistCache()
    prepared = list(batches())
    started = time.perf_counter()
    for batch in prepared:
        with runtime.database.session() as db:
            ingest(db, runtime=runtime, hotlists=cache, source="bench", reads=batch)
    elapsed = time.perf_counter() - started
    runtime.close()
    return READS / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    sqlite_rates, postgres_rates = [], []
    for _ in range(runs):
        with sqlite_settings() as settings:
            sqlite_rates.append(round(reads_per_second(settings)))
        with postgresql_settings() as settings:
            postgres_rates.append(round(reads_per_second(settings)))
    print(json.dumps({
        "benchmark": "read_ingest", "reads": READS, "batch": BATCH, "runs": runs,
        "sqlite_reads_per_second": round(statistics.median(sqlite_rates)),
        "postgresql_reads_per_second": round(statistics.median(postgres_rates)),
        "sqlite_runs": sqlite_rates, "postgresql_runs": postgres_rates,
        "target_sqlite": 20_000, "target_postgresql": 50_000,
    }))


if __name__ == "__main__":
    main()
